// The HTTP push driver with real loopback sockets and the fake sink: answers wait for the commit,
// remembered Idempotency-Keys (loaded from the queue's marks at start, expired ones cleared),
// 409 for a key whose first request is still committing, 503 on queue_full (nothing remembered),
// a token file open to others leaves the source in error.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "drivers/http/http_driver.hpp"
#include "fake_sink.hpp"

using namespace xnode;
using namespace xnode::drivers::http;

namespace {

const std::string kToken = "unit-test-token-0123456789";

struct TempDir {
  std::string path;
  TempDir() {
    path = (std::filesystem::temp_directory_path() / ("xnode-http-driver-" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct Reply {
  int status = 0;
  std::string head, body;
};

// One request on a fresh connection (Connection: close); status 0 when the connection failed.
Reply post(std::uint16_t port, const std::string& body, const std::string& key = {}, const std::string& token = kToken) {
  Reply out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return out;
  }
  std::string req = "POST /v1/sources/src/records HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " +
                    token + "\r\n" + (key.empty() ? "" : "Idempotency-Key: " + key + "\r\n") +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string all;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    all.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto end = all.find("\r\n\r\n");
  if (all.size() < 12 || end == std::string::npos) return out;
  out.status = std::atoi(all.c_str() + 9);
  out.head = all.substr(0, end);
  out.body = all.substr(end + 4);
  return out;
}

bool eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 200; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

HttpSettings settings_for(const std::string& dir, std::uint16_t port) {
  HttpSettings s;
  s.listen = {"127.0.0.1", port, false};
  s.token_file = dir + "/token";
  s.idempotency_window = std::chrono::hours(1);
  return s;
}

void write_token(const std::string& dir, mode_t mode) {
  std::ofstream(dir + "/token") << kToken << "\n";
  ::chmod((dir + "/token").c_str(), mode);
}

}  // namespace

TEST_SUITE("drivers::HttpDriver") {
  TEST_CASE("idempotency keys: remembered across restarts, expired ones cleared, 409 while committing") {
    TempDir dir;
    write_token(dir.path, 0600);
    const std::uint16_t port = free_port();
    test::FakeSink sink;
    const auto now = Clock::now();
    sink.marks[{"src", "idem:old"}] = std::to_string(to_unix_ms(now - std::chrono::hours(2))) + " 5";
    sink.marks[{"src", "idem:fresh"}] = std::to_string(to_unix_ms(now - std::chrono::minutes(10))) + " 7";
    sink.marks[{"src", "other"}] = "kept";
    drivers::DriverContext context{sink, {}};
    HttpDriver driver("src", settings_for(dir.path, port), context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().state == "idle"; }));

    // A key stored before the restart: the first answer, nothing submitted.
    Reply fresh = post(port, "{\"a\":1}\n", "fresh");
    CHECK(fresh.status == 200);
    CHECK(fresh.body == "{\"accepted\":7,\"replayed\":true}");
    CHECK(fresh.head.find("Idempotency-Replayed: true") != std::string::npos);
    REQUIRE(eventually([&] {
      std::lock_guard lock(sink.mutex());
      return sink.marks.count({"src", "idem:old"}) == 0;  // expired: cleared at start
    }));
    {
      std::lock_guard lock(sink.mutex());
      CHECK(sink.records.empty());
      CHECK(sink.marks.count({"src", "idem:fresh"}) == 1);
      CHECK(sink.marks.count({"src", "other"}) == 1);  // not the driver's key space: left alone
    }

    // Two requests with k1: the first to arrive waits for its commit (held until a second batch
    // arrives), the other gets 409 at once; a request without key then releases the first.
    sink.hold_until(2);
    const std::string k1_body = "{\"a\":1}\n{\"a\":2}\n";
    auto a = std::async(std::launch::async, [&] { return post(port, k1_body, "k1"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto b = std::async(std::launch::async, [&] { return post(port, k1_body, "k1"); });
    REQUIRE(eventually([&] {
      return a.wait_for(std::chrono::seconds(0)) == std::future_status::ready ||
             b.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
    }));
    Reply other = post(port, "{\"a\":4}\n");
    CHECK(other.status == 200);
    Reply ra = a.get(), rb = b.get();
    const Reply& r1 = ra.status == 200 ? ra : rb;
    const Reply& conflict = ra.status == 200 ? rb : ra;
    CHECK(r1.status == 200);
    CHECK(conflict.status == 409);
    CHECK(conflict.head.find("Retry-After: 1") != std::string::npos);
    CHECK(r1.body.find("\"accepted\":2") != std::string::npos);
    Reply again = post(port, "{\"a\":1}\n{\"a\":2}\n", "k1");
    CHECK(again.status == 200);
    CHECK(again.body.find("\"replayed\":true") != std::string::npos);
    {
      std::lock_guard lock(sink.mutex());
      CHECK(sink.records.size() == 3);  // k1's two, the other's one: nothing twice
      REQUIRE(sink.marks.count({"src", "idem:k1"}) == 1);
      CHECK(sink.marks[{"src", "idem:k1"}].substr(sink.marks[{"src", "idem:k1"}].find(' ')) == " 2");
      CHECK(sink.records[0].origin == "http:k1:1");
    }

    // queue_full: 503 + Retry-After, the key not remembered; the resend is stored.
    sink.set_policy([](std::size_t, const drivers::SourceBatch& batch) {
      return batch.records.empty() ? io::SubmitStatus::ok : io::SubmitStatus::queue_full;
    });
    Reply full = post(port, "{\"a\":5}\n", "k2");
    CHECK(full.status == 503);
    CHECK(full.head.find("Retry-After: ") != std::string::npos);
    CHECK(driver.status().state == "blocked");
    sink.set_policy({});
    Reply stored = post(port, "{\"a\":5}\n", "k2");
    CHECK(stored.status == 200);
    CHECK(stored.body.find("replayed") == std::string::npos);
    CHECK(driver.status().state == "ok");

    driver.stop();
    CHECK(driver.status().state == "stopped");
    CHECK(post(port, "{\"a\":6}\n").status == 0);  // the listener is gone
  }

  TEST_CASE("Expect: 100-continue is answered before the body; keep-alive serves the next request") {
    TempDir dir;
    write_token(dir.path, 0600);
    const std::uint16_t port = free_port();
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    HttpDriver driver("src", settings_for(dir.path, port), context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().state == "idle"; }));
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    auto receive = [&](std::size_t at_least) {
      std::string got;
      char buf[4096];
      while (got.size() < at_least) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
      }
      return got;
    };
    const std::string body = "{\"a\":1}\n";
    const std::string head = "POST /v1/sources/src/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken +
                             "\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
    const std::string cont = receive(25);
    CHECK(cont == "HTTP/1.1 100 Continue\r\n\r\n");
    ::send(fd, body.data(), body.size(), MSG_NOSIGNAL);
    std::string answer = receive(12);
    CHECK(answer.rfind("HTTP/1.1 200 OK", 0) == 0);
    // The same connection takes another request (the answer's bytes may still be arriving: skip them).
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    char drain[4096];
    while (::recv(fd, drain, sizeof drain, MSG_DONTWAIT) > 0) {
    }
    const std::string second = "POST /v1/sources/src/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken +
                               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    ::send(fd, second.data(), second.size(), MSG_NOSIGNAL);
    answer = receive(12);
    CHECK(answer.rfind("HTTP/1.1 200 OK", 0) == 0);
    ::close(fd);
    {
      std::lock_guard lock(sink.mutex());
      CHECK(sink.records.size() == 2);
    }
    driver.stop();
  }

  TEST_CASE("a client trickling its request is cut off after idle_timeout, however often it sends") {
    TempDir dir;
    write_token(dir.path, 0600);
    const std::uint16_t port = free_port();
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    HttpSettings settings = settings_for(dir.path, port);
    settings.idle_timeout = std::chrono::milliseconds(500);
    HttpDriver driver("src", settings, context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().state == "idle"; }));
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    const std::string header = "POST /v1/sources/src/records HTTP/1.1\r\nX-Slow: " + std::string(200, 'a');
    const auto start = std::chrono::steady_clock::now();
    bool closed = false;
    for (std::size_t i = 0; i < header.size() && !closed; ++i) {  // one byte every 20 ms: 4 s in all
      if (::send(fd, &header[i], 1, MSG_NOSIGNAL) != 1) closed = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      char c;
      if (::recv(fd, &c, 1, MSG_DONTWAIT) == 0) closed = true;
    }
    const auto took = std::chrono::steady_clock::now() - start;
    ::close(fd);
    CHECK(closed);
    CHECK(took < std::chrono::seconds(3));
    driver.stop();
  }

  TEST_CASE("a token file open to others: the source is in error and never listens") {
    TempDir dir;
    write_token(dir.path, 0644);
    const std::uint16_t port = free_port();
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    HttpDriver driver("src", settings_for(dir.path, port), context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().state == "error"; }));
    CHECK(driver.status().last_error.find("chmod 600") != std::string::npos);
    CHECK(post(port, "{\"a\":1}\n").status == 0);
    driver.stop();
  }
}
