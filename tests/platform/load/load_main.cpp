// xnode-refplatform-load: measures the reference platform's ingest rate. Sends pre-built batches of
// realistic records (one catalog resource, ~300-byte records) as fast as the platform
// acknowledges them, one request at a time on one kept-alive connection (like the node does), and
// prints `name: value` lines. --in-process skips the network and calls PlatformService directly.
//
//   xnode-refplatform-load --connect 127.0.0.1:8443 --ca F --cert F --key F [--server-name N]
//                          [--records N] [--batch M] [--gzip] [--plain]
//   xnode-refplatform-load --in-process DBFILE [--records N] [--batch M] [--gzip]
#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/base/json.hpp"
#include "core/base/sha256.hpp"
#include "core/base/time.hpp"
#include "tests/platform/catalog_rules.hpp"
#include "tests/platform/gzip.hpp"
#include "tests/platform/platform_service.hpp"
#include "tests/platform/platform_store.hpp"

#ifdef XNODE_PLATFORM_TLS
#include "io/tls/tls_config.hpp"
#include "io/tls/tls_stream.hpp"
#endif

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace xnode;
using namespace xnode::platform;

namespace {

const std::string kCode = "101003/91540100MA6T00012D-00001";
const std::string kCodeUrl = "101003%2F91540100MA6T00012D-00001";

std::string resource_json() {
  return R"({"code":")" + kCode + R"(","name":"企业登记基本信息",
   "classification":{"class":"base","item":"01","sub":"003","detail":""},
   "provider":{"name":"拉萨市市场监督管理局","code":"91540100MA6T00012D","unit":"登记注册科"},
   "abstract":"enterprises","format":{"category":"database","type":"postgresql"},
   "items":[
     {"name":"uscc","title":"统一社会信用代码","type":"C","length":18,"key":true,"identifier":"uscc","required":true},
     {"name":"name","title":"企业名称","type":"C","length":100,"required":true},
     {"name":"legal_rep_id","title":"法定代表人身份证号","type":"C","length":18,"identifier":"citizen_id","sensitive":true,"purpose":"identity check for licensing"},
     {"name":"reg_capital","title":"注册资本","type":"Y"},
     {"name":"est_date","title":"成立日期","type":"D"},
     {"name":"address","title":"住所","type":"C","length":200}],
   "share":{"type":"conditional","condition":"licensing","legal_basis":"","method":"platform","method_type":"api","usage":"checks"},
   "open":{"type":"closed","condition":""},"update_cycle":"daily","published":"2026-03-23","related":[]})";
}

std::string record(std::int64_t seq) {
  static const char* const usccs[] = {"91350100M000100Y43", "91330100716105852F", "91540100MA6T00012D"};
  const char* uscc = usccs[seq % 3];
  return R"({"seq":)" + std::to_string(seq) + R"(,"op":"upsert","key":")" + uscc +
         R"(","at":"2026-03-23T07:59:58+08:00","data":{"uscc":")" + uscc +
         R"(","name":"拉萨市某某商贸有限公司第)" + std::to_string(seq % 100000) +
         R"(分公司","legal_rep_id":"540102199001011233","reg_capital":)" + std::to_string(100000 + seq % 977) +
         R"(.5,"est_date":"2019-06-1)" + std::to_string(seq % 10) + R"(","address":"西藏自治区拉萨市城关区北京中路)" +
         std::to_string(seq % 500) + R"(号"}})";
}

struct Batch {
  std::int64_t first = 0, count = 0;
  std::string body, sha;
};

std::int64_t integer(const char* text) {
  std::int64_t v = 0;
  std::string_view s(text);
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

double cpu_seconds() {
  std::FILE* f = std::fopen("/proc/self/stat", "r");
  if (!f) return 0;
  char buf[1024];
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  std::string s(buf);
  auto close = s.rfind(')');
  std::vector<std::string> fields;
  std::size_t pos = close + 2;
  while (pos < s.size()) {
    auto sp = s.find(' ', pos);
    fields.push_back(s.substr(pos, sp - pos));
    if (sp == std::string::npos) break;
    pos = sp + 1;
  }
  // fields[11], [12]: utime, stime (after pid and comm).
  return (std::stod(fields.at(11)) + std::stod(fields.at(12))) / 100.0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string connect, ca, cert, key, server_name = "localhost", in_process, node = "gaj-01";
  std::int64_t total = 200000, per_batch = 1000;
  bool use_gzip = false, plain = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--connect") connect = next();
    else if (a == "--ca") ca = next();
    else if (a == "--cert") cert = next();
    else if (a == "--key") key = next();
    else if (a == "--server-name") server_name = next();
    else if (a == "--node") node = next();
    else if (a == "--records") total = integer(next());
    else if (a == "--batch") per_batch = integer(next());
    else if (a == "--gzip") use_gzip = true;
    else if (a == "--plain") plain = true;
    else if (a == "--in-process") in_process = next();
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }

  // The catalog PUT body.
  auto resources = json::parse("[" + resource_json() + "]").value();
  std::string catalog = json::serialize(json::Value(json::Object{
      {"base_version", 0}, {"sha256", slice_sha256(resources)}, {"resources", resources}}));

  // Everything is built before the clock starts: the figure is the platform's.
  std::vector<Batch> batches;
  std::int64_t bytes = 0;
  for (std::int64_t first = 1; first <= total; first += per_batch) {
    Batch b;
    b.first = first;
    b.count = std::min(per_batch, total - first + 1);
    std::string body;
    for (std::int64_t s = first; s < first + b.count; ++s) body += record(s) + "\n";
    b.sha = Sha256::hex(body);
    bytes += static_cast<std::int64_t>(body.size());
    b.body = use_gzip ? gzip(body, 1) : std::move(body);
    batches.push_back(std::move(b));
  }

  auto make_request = [&](const Batch& b) {
    Request r;
    r.method = "POST";
    r.target = "/xep/v1/streams/" + kCodeUrl + "/batches";
    r.headers = {{"X-XN-Node", node}, {"X-XN-First-Seq", std::to_string(b.first)},
                 {"X-XN-Count", std::to_string(b.count)}, {"X-XN-Body-Sha256", b.sha},
                 {"Content-Type", "application/x-ndjson"}};
    if (use_gzip) r.headers.emplace_back("Content-Encoding", "gzip");
    r.body = b.body;
    r.peer_cn = node;
    return r;
  };

  std::int64_t acked = 0;
  auto start = std::chrono::steady_clock::now();
  double cpu_start = 0;
  if (!in_process.empty()) {
    PlatformStore store(in_process);
    PlatformService service(store, ServiceOptions{});
    Request put;
    put.method = "PUT";
    put.target = "/xep/v1/catalog";
    put.headers = {{"X-XN-Node", node}};
    put.body = catalog;
    put.peer_cn = node;
    auto pr = service.handle(put, Clock::now());
    if (pr.status != 200) {
      std::fprintf(stderr, "catalog PUT: %d %s\n", pr.status, pr.body.c_str());
      return 1;
    }
    start = std::chrono::steady_clock::now();
    cpu_start = cpu_seconds();
    for (const auto& b : batches) {
      auto r = service.handle(make_request(b), Clock::now());
      if (r.status != 200) {
        std::fprintf(stderr, "batch at %lld: %d %s\n", static_cast<long long>(b.first), r.status, r.body.c_str());
        return 1;
      }
      acked = b.first + b.count - 1;
    }
  } else {
    auto colon = connect.rfind(':');
    net::io_context io;
    net::ip::tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(connect.substr(0, colon), connect.substr(colon + 1));
    beast::tcp_stream tcp(io);
    tcp.connect(endpoints);
    tcp.socket().set_option(net::ip::tcp::no_delay(true));

    auto run = [&](auto& stream) -> int {
      beast::flat_buffer buffer;
      http::response<http::string_body> res;
      auto exchange = [&](http::request<http::string_body>& req) -> bool {
        bool ok = false;
        http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
          if (ec) {
            std::fprintf(stderr, "write: %s\n", ec.message().c_str());
            return;
          }
          res = {};
          http::async_read(stream, buffer, res, [&](beast::error_code rec, std::size_t) {
            if (rec) std::fprintf(stderr, "read: %s\n", rec.message().c_str());
            else ok = true;
          });
        });
        io.restart();
        io.run();
        return ok;
      };
      auto to_beast = [&](const Request& r) {
        http::request<http::string_body> req{r.method == "PUT" ? http::verb::put : http::verb::post, r.target, 11};
        req.set(http::field::host, server_name);
        for (const auto& [k, v] : r.headers) req.set(k, v);
        req.body() = r.body;
        req.keep_alive(true);
        req.prepare_payload();
        return req;
      };
      Request put;
      put.method = "PUT";
      put.target = "/xep/v1/catalog";
      put.headers = {{"X-XN-Node", node}, {"Content-Type", "application/json"}};
      put.body = catalog;
      auto put_req = to_beast(put);
      if (!exchange(put_req) || res.result_int() != 200) {
        std::fprintf(stderr, "catalog PUT: %u %s\n", res.result_int(), res.body().c_str());
        return 1;
      }
      start = std::chrono::steady_clock::now();
      for (const auto& b : batches) {
        auto req = to_beast(make_request(b));
        if (!exchange(req) || res.result_int() != 200) {
          std::fprintf(stderr, "batch at %lld: %u %s\n", static_cast<long long>(b.first), res.result_int(),
                       res.body().c_str());
          return 1;
        }
        acked = b.first + b.count - 1;
      }
      return 0;
    };
    int rc = 0;
    if (plain) {
      rc = run(tcp);
    } else {
#ifdef XNODE_PLATFORM_TLS
      tls::TlsSettings s;
      s.role = tls::Role::client;
      s.ca_file = ca;
      s.cert_file = cert;
      s.key_file = key;
      s.server_name = server_name;
      auto config = tls::TlsConfig::create(s);
      if (!config) {
        std::fprintf(stderr, "TLS: %s\n", config.error().message.c_str());
        return 1;
      }
      tls::TlsStream stream(std::move(tcp), *config);
      beast::error_code hec = net::error::would_block;
      stream.async_handshake([&](beast::error_code ec) { hec = ec; });
      io.run();
      if (hec) {
        std::fprintf(stderr, "handshake: %s\n", hec.message().c_str());
        return 1;
      }
      rc = run(stream);
#else
      std::fprintf(stderr, "no TLS in this build\n");
      return 1;
#endif
    }
    if (rc != 0) return rc;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("records: %lld\n", static_cast<long long>(acked));
  std::printf("batch_records: %lld\n", static_cast<long long>(per_batch));
  std::printf("record_bytes_avg: %lld\n", static_cast<long long>(bytes / std::max<std::int64_t>(total, 1)));
  std::printf("seconds: %.3f\n", seconds);
  std::printf("records_per_s: %.0f\n", static_cast<double>(acked) / seconds);
  if (!in_process.empty())
    std::printf("cpu_s_per_million: %.2f\n", (cpu_seconds() - cpu_start) / static_cast<double>(acked) * 1e6);
  return 0;
}
