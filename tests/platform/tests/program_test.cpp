// The real program, xnode-refplatform, over mutual TLS with real certificates (scripts/gen-dev-pki):
// a node's exchange, refused certificates, fault injection through the admin listener, a clean
// stop on SIGTERM and a restart on the same database.
#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "io/tls/tls_config.hpp"
#include "io/tls/tls_stream.hpp"
#include "tests/platform/tests/fixture.hpp"

extern char** environ;

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace xnode;
using namespace xnode::platform;
using namespace xnode::platform::testing;

namespace {

const std::string& pki_dir() {
  static const std::string dir = [] {
    std::string d = std::string(XNODE_BINARY_DIR) + "/test-pki-platform";
    std::string cmd = std::string(XNODE_SOURCE_DIR) + "/scripts/gen-dev-pki " + d + " --cn " + kNode + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("scripts/gen-dev-pki failed: " + cmd);
    return d;
  }();
  return dir;
}
std::string pki(const std::string& file) { return pki_dir() + "/" + file; }

unsigned short free_port() {
  net::io_context io;
  net::ip::tcp::acceptor a(io, net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

struct HttpResult {
  int status = 0;  // 0: no answer (connection refused, handshake refused, dropped)
  std::string body;
  std::string error;
};

// One HTTP exchange; bounded by a 10 s deadline.
template <class Stream>
HttpResult exchange(net::io_context& io, Stream& stream, http::request<http::string_body>& req) {
  HttpResult out;
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
    if (ec) {
      out.error = "write: " + ec.message();
      return;
    }
    http::async_read(stream, buffer, res, [&](beast::error_code rec, std::size_t) {
      if (rec) out.error = "read: " + rec.message();
      else {
        out.status = static_cast<int>(res.result_int());
        out.body = res.body();
      }
    });
  });
  io.restart();
  io.run_for(std::chrono::seconds(10));
  return out;
}

http::request<http::string_body> make_request(http::verb verb, const std::string& target, std::string body,
                                              const Headers& headers = {}) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "platform.xchg.test");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = std::move(body);
  req.keep_alive(true);
  req.prepare_payload();
  return req;
}

// A node's connection: mutual TLS with the given certificate.
class NodeClient {
 public:
  NodeClient(unsigned short port, const std::string& cert = "node") {
    tls::TlsSettings s;
    s.role = tls::Role::client;
    s.ca_file = pki("ca.crt");
    s.cert_file = pki(cert + ".crt");
    s.key_file = pki(cert + ".key");
    s.server_name = "platform.xchg.test";
    auto config = tls::TlsConfig::create(s);
    REQUIRE_MESSAGE(config.ok(), (config.ok() ? "" : config.error().message));
    beast::tcp_stream tcp(m_io);
    beast::error_code ec;
    tcp.socket().connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    REQUIRE_MESSAGE(!ec, ec.message());
    m_stream.emplace(std::move(tcp), *config);
    beast::error_code hec = net::error::would_block;
    m_stream->async_handshake([&](beast::error_code e) { hec = e; });
    m_io.run_for(std::chrono::seconds(10));
    m_handshake = hec;
  }
  bool connected() const { return !m_handshake; }
  std::string handshake_error() const { return m_handshake.message(); }

  HttpResult send(http::verb verb, const std::string& target, std::string body = {}, Headers headers = {}) {
    bool has_node = false;
    for (const auto& h : headers) has_node = has_node || h.first == "X-XN-Node";
    if (!has_node) headers.emplace_back("X-XN-Node", kNode);
    auto req = make_request(verb, target, std::move(body), headers);
    return exchange(m_io, *m_stream, req);
  }
  HttpResult batch(std::int64_t first, std::int64_t count) {
    std::string body = records(first, count);
    return send(http::verb::post, "/xep/v1/streams/" + kStreamUrl + "/batches", body,
                {{"X-XN-First-Seq", std::to_string(first)}, {"X-XN-Count", std::to_string(count)},
                 {"X-XN-Body-Sha256", Sha256::hex(body)}, {"Content-Type", "application/x-ndjson"}});
  }

 private:
  net::io_context m_io;
  std::optional<tls::TlsStream> m_stream;
  beast::error_code m_handshake;
};

HttpResult admin(unsigned short port, http::verb verb, const std::string& target, std::string body = {}) {
  net::io_context io;
  beast::tcp_stream tcp(io);
  beast::error_code ec;
  tcp.socket().connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return HttpResult{0, {}, ec.message()};
  auto req = make_request(verb, target, std::move(body));
  return exchange(io, tcp, req);
}

// The program as a child process, stderr to a file.
class Platform {
 public:
  explicit Platform(std::filesystem::path dir, std::vector<std::string> extra = {})
      : m_dir(std::move(dir)), m_extra(std::move(extra)), m_port(free_port()), m_admin(free_port()) {
    start();
  }
  ~Platform() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, nullptr, 0);
    }
  }

  void start() {
    std::string program = std::string(XNODE_BINARY_DIR) + "/tests/platform/xnode-refplatform";
    std::vector<std::string> args{program, "--listen", "127.0.0.1:" + std::to_string(m_port), "--admin",
                                  "127.0.0.1:" + std::to_string(m_admin), "--cert", pki("platform.crt"), "--key",
                                  pki("platform.key"), "--ca", pki("ca.crt"), "--crl", pki("crl.pem"), "--db",
                                  (m_dir / "platform.db").string(), "--heartbeat", "30"};
    args.insert(args.end(), m_extra.begin(), m_extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    std::string log = (m_dir / "platform.log").string();
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int rc = posix_spawn(&m_pid, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    for (int i = 0; i < 200; ++i) {  // at most 10 s
      if (admin(m_admin, http::verb::get, "/admin/ping").status == 200) return;
      ::usleep(50 * 1000);
    }
    FAIL("the platform did not come up: " << log_text());
  }

  // SIGTERM; returns the exit status (bounded wait).
  int stop() {
    ::kill(m_pid, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      ::usleep(50 * 1000);
    }
    return -1;
  }

  std::string log_text() const {
    std::ifstream in(m_dir / "platform.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  unsigned short port() const { return m_port; }
  unsigned short admin_port() const { return m_admin; }

 private:
  std::filesystem::path m_dir;
  std::vector<std::string> m_extra;
  unsigned short m_port, m_admin;
  pid_t m_pid = -1;
};

json::Value parse_body(const HttpResult& r) {
  auto v = json::parse(r.body);
  REQUIRE_MESSAGE(v.ok(), r.body << " " << r.error);
  return *v;
}

}  // namespace

TEST_SUITE("platform::Program") {

TEST_CASE("xnode-refplatform over mutual TLS: exchange, refusals, faults, SIGTERM, restart") {
  auto dir = fresh_dir("program");
  Platform platform(dir);

  NodeClient node(platform.port());
  REQUIRE_MESSAGE(node.connected(), node.handshake_error());
  auto r = node.send(http::verb::put, "/xep/v1/catalog", catalog_body(0, slice_resources()),
                     {{"Content-Type", "application/json"}});
  REQUIRE_MESSAGE(r.status == 200, r.body << r.error);
  r = node.batch(1, 100);
  REQUIRE_MESSAGE(r.status == 200, r.body << r.error);
  CHECK(parse_body(r).get_int("acked_through") == 100);
  // Keep-alive: the same connection serves the next request; the CN is the identity.
  r = node.send(http::verb::post, "/xep/v1/hello", "{}", {{"X-XN-Node", "someone-else"}});
  CHECK(r.status == 403);

  // Refused handshakes: a revoked, an expired, and another CA's node certificate.
  for (const char* cert : {"node-revoked", "node-expired", "other-node"}) {
    NodeClient refused(platform.port(), cert);
    CHECK_MESSAGE(!refused.connected(), cert);
  }
  CHECK(platform.log_text().find("revoked") != std::string::npos);

  // Faults: two 503 with Retry-After, then normal again.
  REQUIRE(admin(platform.admin_port(), http::verb::post, "/admin/faults/fail", R"({"count":2,"retry_after_s":3})").status == 200);
  CHECK(node.batch(101, 10).status == 503);
  CHECK(node.batch(101, 10).status == 503);
  r = node.batch(101, 10);
  CHECK(r.status == 200);
  // Drop after reading (handled): the node hears nothing, the records are stored; a resend is a duplicate.
  REQUIRE(admin(platform.admin_port(), http::verb::post, "/admin/faults/drop", R"({"count":1})").status == 200);
  r = node.batch(111, 10);
  CHECK(r.status == 0);
  NodeClient again(platform.port());
  REQUIRE(again.connected());
  r = again.batch(111, 10);
  REQUIRE(r.status == 200);
  CHECK(parse_body(r).get_int("duplicates") == 10);
  CHECK(parse_body(r).get_int("mismatches") == 0);

  auto stream = admin(platform.admin_port(), http::verb::get, "/admin/streams/" + kNode + "/" + kStreamUrl);
  REQUIRE(stream.status == 200);
  CHECK(parse_body(stream).get_int("stored") == 120);
  CHECK(parse_body(stream).get_int("duplicates") == 10);
  auto state = parse_body(admin(platform.admin_port(), http::verb::get, "/admin/state"));
  CHECK(state.find("faults")->get_int("failed") == 2);
  CHECK(state.find("faults")->get_int("dropped") == 1);

  CHECK(platform.stop() == 0);
  CHECK(platform.log_text().find("stopped") != std::string::npos);

  // Restart on the same database: the high-water mark is where it was.
  platform.start();
  NodeClient after(platform.port());
  REQUIRE(after.connected());
  r = after.send(http::verb::post, "/xep/v1/hello",
                 R"({"node_id":"gaj-01","software":{"name":"xnode","version":"0.3.1"},"config":{"version":1,"sha256":"x"},)"
                 R"("catalog_version":1,"streams":[],"time":"2026-03-23T08:00:00+08:00"})");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(parse_body(r).find("streams")->find(kStream)->get_int("acked_through") == 120);
  auto records_dump = admin(platform.admin_port(), http::verb::get, "/admin/records/" + kNode + "/" + kStreamUrl);
  CHECK(std::count(records_dump.body.begin(), records_dump.body.end(), '\n') == 120);
}

TEST_CASE("an idle connection is closed; 304 over the wire; server_time follows --clock-offset-ms") {
  auto dir = fresh_dir("program-idle");
  Platform platform(dir, {"--idle-timeout", "1", "--clock-offset-ms", "-3600000"});
  NodeClient node(platform.port());
  REQUIRE(node.connected());
  REQUIRE(admin(platform.admin_port(), http::verb::post, "/admin/nodes/" + kNode + "/config",
                R"({"version":5,"yaml":"version: 5\n","signature":"c2ln"})").status == 200);
  auto r = node.send(http::verb::get, "/xep/v1/config", {}, {{"If-None-Match", "\"5\""}});
  CHECK(r.status == 304);
  r = node.send(http::verb::post, "/xep/v1/hello",
                R"({"node_id":"gaj-01","software":{"name":"xnode","version":"0.3.1"},"config":{"version":1,"sha256":"x"},)"
                R"("catalog_version":0,"streams":[],"time":"2026-03-23T08:00:00+08:00"})");
  REQUIRE(r.status == 200);
  auto server_time = parse_rfc3339(parse_body(r).get_string("server_time"));
  REQUIRE(server_time);
  auto offset = std::chrono::duration_cast<std::chrono::minutes>(*server_time - Clock::now()).count();
  CHECK(offset >= -61);
  CHECK(offset <= -59);
  // Idle for longer than the timeout (bounded: 2.5 s): the platform has closed the connection.
  ::usleep(2500 * 1000);
  CHECK(node.send(http::verb::get, "/xep/v1/config").status == 0);
}

}  // TEST_SUITE
