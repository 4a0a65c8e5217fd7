// UplinkRunner end to end in one process: a real queue store (SQLite in a temporary directory), the
// real HTTPS client (plain http:// endpoint on loopback; TLS is covered by io_tls/io_https) and a
// small XEP/1 batch endpoint served by Beast on another thread. It checks what the runner adds
// to the session: actions performed, store callbacks posted back, timer-driven retries.
#include <doctest/doctest.h>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "app/uplink_runner.hpp"
#include "core/base/json.hpp"
#include "core/base/sha256.hpp"

using namespace xnode;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

const std::string kStream = "101003/11540100MB00000008-00001";
const std::string kBatchTarget = "/xep/v1/streams/101003%2F11540100MB00000008-00001/batches";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "xnode-uplink-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    m_path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  std::string file(const std::string& name) const { return (m_path / name).string(); }

 private:
  std::filesystem::path m_path;
};

// The batch side of XEP/1, faithfully enough for the runner: hello with the high-water mark,
// batches checked for hash, count and consecutive seqs, 409 gap, and injected 503s.
class MiniPlatform {
 public:
  explicit MiniPlatform(std::uint16_t port = 0)
      : m_acceptor(m_ioc, tcp::endpoint(boost::asio::ip::address_v4::loopback(), port)) {
    m_port = m_acceptor.local_endpoint().port();
    m_thread = std::thread([this] { serve(); });
  }
  ~MiniPlatform() {
    m_stop = true;
    ::shutdown(m_acceptor.native_handle(), SHUT_RDWR);
    int fd = m_conn_fd.load();
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
    m_thread.join();
  }
  std::uint16_t port() const { return m_port; }

  std::mutex mutex;
  std::uint64_t acked_through = 0;
  std::vector<std::uint64_t> stored;  // seqs in the order they were stored
  int fail_next_batches = 0;          // answer 503 to that many batch requests
  int batch_requests = 0;
  int hellos = 0;
  std::vector<std::string> errors;    // contract violations seen

 private:
  http::response<http::string_body> handle(const http::request<http::string_body>& req) {
    std::lock_guard lock(mutex);
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    if (req[("X-XN-Node")] != "gaj-01") errors.push_back("missing X-XN-Node");
    const std::string target(req.target());
    if (target == "/xep/v1/hello") {
      ++hellos;
      json::Value b = json::Value::object();
      b.set("server_time", format_rfc3339(Clock::now()));
      b.set("node_id", "gaj-01");
      b.set("catalog_version", 0);
      json::Value s = json::Value::object();
      json::Value m = json::Value::object();
      m.set("acked_through", acked_through);
      s.set(kStream, std::move(m));
      b.set("streams", std::move(s));
      b.set("heartbeat_interval_s", 60);
      b.set("max_batch_bytes", 4194304);
      json::Value c = json::Value::object();
      c.set("version", 0);
      b.set("config", std::move(c));
      res.body() = json::serialize(b);
    } else if (target == kBatchTarget) {
      ++batch_requests;
      if (fail_next_batches > 0) {
        --fail_next_batches;
        res.result(http::status::service_unavailable);
        res.body() = R"({"error":"busy","message":"injected"})";
      } else {
        const std::string& body = req.body();
        const std::uint64_t first = std::stoull(std::string(req["X-XN-First-Seq"]));
        const std::uint64_t count = std::stoull(std::string(req["X-XN-Count"]));
        if (Sha256::hex(body) != std::string(req["X-XN-Body-Sha256"])) errors.push_back("hash mismatch");
        if (first > acked_through + 1) {
          res.result(http::status::conflict);
          res.body() = "{\"error\":\"gap\",\"expected_seq\":" + std::to_string(acked_through + 1) +
                       ",\"acked_through\":" + std::to_string(acked_through) + "}";
        } else {
          std::uint64_t seq = first, lines = 0, duplicates = 0;
          std::size_t pos = 0;
          while (pos < body.size()) {
            std::size_t nl = body.find('\n', pos);
            auto rec = json::parse(std::string_view(body).substr(pos, nl - pos));
            if (!rec || static_cast<std::uint64_t>(rec->get_int("seq")) != seq) errors.push_back("bad seq line");
            if (seq <= acked_through) ++duplicates;
            else stored.push_back(seq);
            ++seq;
            ++lines;
            pos = nl + 1;
          }
          if (lines != count) errors.push_back("count mismatch");
          acked_through = std::max(acked_through, first + count - 1);
          res.body() = "{\"acked_through\":" + std::to_string(acked_through) +
                       ",\"duplicates\":" + std::to_string(duplicates) + ",\"mismatches\":0,\"rejected\":[]}";
        }
      }
    } else {
      res.result(http::status::not_found);
      res.body() = R"({"error":"not_found","message":"not in this test platform"})";
    }
    res.prepare_payload();
    return res;
  }

  void serve() {
    while (!m_stop) {
      tcp::socket sock(m_ioc);
      boost::system::error_code ec;
      m_acceptor.accept(sock, ec);
      if (ec) return;
      m_conn_fd = sock.native_handle();
      beast::flat_buffer buffer;
      for (;;) {
        http::request<http::string_body> req;
        http::read(sock, buffer, req, ec);
        if (ec) break;
        auto res = handle(req);
        http::write(sock, res, ec);
        if (ec || !res.keep_alive()) break;
      }
      m_conn_fd = -1;
    }
  }

  boost::asio::io_context m_ioc;
  tcp::acceptor m_acceptor;
  std::uint16_t m_port = 0;
  std::thread m_thread;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_conn_fd{-1};
};

std::string record_tail(std::uint64_t i) {
  return "\"op\":\"upsert\",\"key\":\"k" + std::to_string(i) +
         "\",\"at\":\"2026-03-23T08:00:00Z\",\"data\":{\"uscc\":\"91350100M000100Y43\",\"n\":" + std::to_string(i) +
         "}}";
}

std::uint64_t enqueue(io::QueueStore& q, std::uint64_t n) {
  io::IntakeBatch b;
  for (std::uint64_t i = 0; i < n; ++i) b.records.push_back(io::QueuedRecord{kStream, record_tail(i)});
  std::promise<io::SubmitResult> p;
  auto f = p.get_future();
  q.submit(std::move(b), [&p](io::SubmitResult r) { p.set_value(std::move(r)); });
  REQUIRE(f.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  auto r = f.get();
  REQUIRE(r.status == io::SubmitStatus::ok);
  REQUIRE(r.first_seq.size() == n);
  return r.first_seq.back();
}

io::QueueStats stats(io::QueueStore& q) {
  std::promise<io::QueueStats> p;
  auto f = p.get_future();
  q.stats([&p](io::QueueStats s) { p.set_value(std::move(s)); });
  REQUIRE(f.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  return f.get();
}

// Runs the io_context until `done` or the deadline (bounded: never hangs a test run).
template <typename Pred>
bool run_until(boost::asio::io_context& ioc, Pred done, std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    ioc.run_for(std::chrono::milliseconds(20));
    if (ioc.stopped()) ioc.restart();
  }
  return done();
}

}  // namespace

TEST_SUITE("app::UplinkRunner") {

TEST_CASE("records in the queue reach the platform once, in order, through 503s; the queue is emptied") {
  TempDir dir;
  io::QueueOptions qo;
  qo.path = dir.file("queue.db");
  auto queue = io::QueueStore::open(qo);
  const std::uint64_t first_last = enqueue(*queue, 1200);

  MiniPlatform platform;
  {
    std::lock_guard lock(platform.mutex);
    platform.fail_next_batches = 2;
  }
  boost::asio::io_context ioc;
  https::ClientOptions co;
  co.endpoints = {"http://127.0.0.1:" + std::to_string(platform.port())};
  co.connect_timeout = std::chrono::milliseconds(2000);
  co.read_timeout = std::chrono::milliseconds(5000);
  https::HttpsClient client(ioc.get_executor(), co);

  app::UplinkRunnerOptions ro;
  ro.session.node_id = "gaj-01";
  ro.session.streams = {kStream};
  ro.session.max_batch_records = 500;
  ro.session.backoff_initial = Millis(20);
  ro.session.backoff_cap = Millis(100);
  std::vector<uplink::AuditEvent> audits;
  std::vector<uplink::HealthSample> samples;
  app::UplinkSinks sinks;
  sinks.audit = [&](const uplink::AuditEvent& e) { audits.push_back(e); };
  sinks.health = [&](const uplink::HealthSample& h) { samples.push_back(h); };
  app::UplinkRunner runner(ioc.get_executor(), client, *queue, ro, sinks);
  runner.start();

  auto acked = [&](std::uint64_t n) {
    std::lock_guard lock(platform.mutex);
    return platform.acked_through >= n;
  };
  REQUIRE(run_until(ioc, [&] { return acked(first_last); }));

  // More records while running: the intake's commit notification wakes the runner.
  const std::uint64_t second_last = enqueue(*queue, 300);
  runner.records_committed(kStream, second_last);
  REQUIRE(run_until(ioc, [&] { return acked(second_last); }));
  // Let the acknowledgement reach the store.
  REQUIRE(run_until(ioc, [&] {
    auto s = stats(*queue);
    return !s.streams.empty() && s.streams[0].pending == 0;
  }));

  std::lock_guard lock(platform.mutex);
  CHECK(platform.errors.empty());
  CHECK(platform.hellos == 1);
  REQUIRE(platform.stored.size() == 1500);
  for (std::uint64_t i = 0; i < platform.stored.size(); ++i) CHECK(platform.stored[i] == i + 1);
  CHECK(platform.batch_requests >= 2 + 3 + 1);  // two refused, then 500+500+200, then 300
  CHECK(runner.session().acked_through(kStream) == 1500);
  std::size_t acked_events = 0;
  for (const auto& e : audits) acked_events += e.action == "batch.acked";
  CHECK(acked_events >= 4);
  std::size_t failures = 0;
  for (const auto& h : samples) failures += h.kind == uplink::HealthSample::Kind::request_failed;
  CHECK(failures == 2);
  runner.stop();
  queue->close();
}

TEST_CASE("the platform unreachable: back-off, then delivery once it listens") {
  TempDir dir;
  io::QueueOptions qo;
  qo.path = dir.file("queue.db");
  auto queue = io::QueueStore::open(qo);
  const std::uint64_t last = enqueue(*queue, 50);

  // A port nobody listens on: take one from the OS and close it.
  std::uint16_t dead_port = 0;
  {
    boost::asio::io_context tmp;
    tcp::acceptor a(tmp, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
    dead_port = a.local_endpoint().port();
  }
  boost::asio::io_context ioc;
  https::ClientOptions co;
  co.endpoints = {"http://127.0.0.1:" + std::to_string(dead_port)};
  co.connect_timeout = std::chrono::milliseconds(1000);
  https::HttpsClient client(ioc.get_executor(), co);
  app::UplinkRunnerOptions ro;
  ro.session.node_id = "gaj-01";
  ro.session.streams = {kStream};
  ro.session.backoff_initial = Millis(20);
  ro.session.backoff_cap = Millis(200);
  std::vector<uplink::HealthSample> samples;
  app::UplinkSinks sinks;
  sinks.health = [&](const uplink::HealthSample& h) { samples.push_back(h); };
  app::UplinkRunner runner(ioc.get_executor(), client, *queue, ro, sinks);
  runner.start();
  auto connect_failures = [&] {
    std::size_t n = 0;
    for (const auto& h : samples)
      n += h.kind == uplink::HealthSample::Kind::request_failed && h.error == uplink::ErrorClass::connect;
    return n;
  };
  REQUIRE(run_until(ioc, [&] { return connect_failures() >= 3; }, std::chrono::seconds(10)));
  // Retries are spaced by the back-off, not a busy loop: 1 s holds at most ~1 s / 10 ms of them.
  const std::size_t before = connect_failures();
  run_until(ioc, [] { return false; }, std::chrono::seconds(1));
  CHECK(connect_failures() - before <= 100);
  CHECK_FALSE(runner.session().link_established());

  // The platform comes up on that port: the first batch is acknowledged within the back-off cap
  // plus the client's connect, not after some long fixed wait.
  MiniPlatform platform(dead_port);
  const auto up_at = std::chrono::steady_clock::now();
  REQUIRE(run_until(ioc, [&] {
    std::lock_guard lock(platform.mutex);
    return platform.acked_through >= last;
  }, std::chrono::seconds(10)));
  CHECK(std::chrono::steady_clock::now() - up_at < std::chrono::milliseconds(200 + 2000));
  CHECK(runner.session().link_established());
  std::lock_guard lock(platform.mutex);
  CHECK(platform.errors.empty());
  CHECK(platform.stored.size() == 50);
  runner.stop();
  queue->close();
}

}  // TEST_SUITE
