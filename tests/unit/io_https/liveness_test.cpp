// Keep-alive times derived from health.probe_interval, and the options on a real loopback socket.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "io/https/https_client.hpp"
#include "io/https/liveness.hpp"

using namespace std::chrono_literals;
using xnode::https::keepalive_times;
namespace net = boost::asio;
using net::ip::tcp;

TEST_SUITE("io::https::liveness") {

TEST_CASE("a dead peer is found within the probe interval, with whole seconds of at least 1") {
  for (auto p : {1000ms, 1500ms, 2000ms, 3000ms, 5000ms, 10000ms, 60000ms, 600000ms}) {
    const auto t = keepalive_times(p);
    CAPTURE(p.count());
    CHECK(t.idle_s >= 1);
    CHECK(t.interval_s >= 1);
    CHECK(t.count >= 1);
    if (p >= 2000ms) CHECK(t.total() <= std::chrono::duration_cast<std::chrono::seconds>(p));
  }
  const auto three = keepalive_times(3s);  // the functional test's interval
  CHECK(three.idle_s == 1);
  CHECK(three.interval_s == 1);
  CHECK(three.count == 2);
  const auto ten = keepalive_times(10s);  // the default
  CHECK(ten.total() == 10s);
  CHECK(ten.count == 2);
}

TEST_CASE("enable_keepalive sets the options on a connected loopback socket; a healthy socket has no error") {
  net::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();

  boost::system::error_code ec;
  xnode::https::enable_keepalive(client, keepalive_times(3s), ec);
  REQUIRE_FALSE(ec);
  auto get = [&](int level, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    REQUIRE(::getsockopt(client.native_handle(), level, name, &v, &len) == 0);
    return v;
  };
  CHECK(get(SOL_SOCKET, SO_KEEPALIVE) == 1);
  CHECK(get(IPPROTO_TCP, TCP_KEEPIDLE) == 1);
  CHECK(get(IPPROTO_TCP, TCP_KEEPINTVL) == 1);
  CHECK(get(IPPROTO_TCP, TCP_KEEPCNT) == 2);
  CHECK_FALSE(xnode::https::pending_socket_error(client));
}

namespace {

// A plain-HTTP peer on its own thread: answers one request with keep-alive, then closes the
// connection with a FIN or, with `reset`, an RST (SO_LINGER 0).
struct OneShotServer {
  net::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
  std::thread thread;
  explicit OneShotServer(bool reset) {
    thread = std::thread([this, reset] {
      boost::system::error_code ec;
      tcp::socket s = acceptor.accept(ec);
      if (ec) return;
      net::streambuf buf;
      net::read_until(s, buf, "\r\n\r\n", ec);
      const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok";
      net::write(s, net::buffer(answer), ec);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the client is idle by now
      if (reset) s.set_option(net::socket_base::linger(true, 0), ec);
      s.close(ec);
    });
  }
  ~OneShotServer() { thread.join(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()); }
};

struct Lost {
  int calls = 0;
  xnode::https::ErrorClass error = xnode::https::ErrorClass::none;
  std::string detail;
};

void idle_after_one_request(bool reset, Lost& lost, bool& open_after) {
  OneShotServer server(reset);
  net::io_context io;
  xnode::https::ClientOptions o;
  o.endpoints = {server.url()};
  o.connect_timeout = 2s;
  o.read_timeout = 2s;
  o.write_timeout = 2s;
  o.liveness_interval = 3s;
  xnode::https::HttpsClient client(io.get_executor(), o);
  client.on_connection_lost([&](xnode::https::ErrorClass c, std::string d) {
    ++lost.calls;
    lost.error = c;
    lost.detail = std::move(d);
  });
  std::optional<boost::system::error_code> result;
  xnode::https::Request r;
  r.method = "POST";
  r.target = "/x";
  r.body = "{}";
  client.async_request(std::move(r), [&](boost::system::error_code ec, xnode::https::Response) { result = ec; });
  io.run_for(1s);  // the answer, then the peer's close while the client is idle
  REQUIRE(result.has_value());
  CHECK_FALSE(*result);
  open_after = client.stats().connection_open;
}

}  // namespace

TEST_CASE("idle watch: a peer closing its idle connection is dropped quietly; a reset is reported as lost") {
  {
    Lost lost;
    bool open = true;
    idle_after_one_request(false, lost, open);
    CHECK_FALSE(open);
    CHECK(lost.calls == 0);
  }
  {
    Lost lost;
    bool open = true;
    idle_after_one_request(true, lost, open);
    CHECK_FALSE(open);
    CHECK(lost.calls == 1);
    CHECK(lost.error == xnode::https::ErrorClass::connect);
    CHECK_MESSAGE(lost.detail.find("idle connection to http://127.0.0.1:") == 0, lost.detail);
    CHECK_MESSAGE(lost.detail.find("reset") != std::string::npos, lost.detail);
  }
}

}  // TEST_SUITE
