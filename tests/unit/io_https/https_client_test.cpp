#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <utility>  // before Asio 1.18's awaitable.hpp, which uses std::exchange without it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "io/https/https_client.hpp"
#include "io/tls/tls_stream.hpp"
#include "tests/unit/io_tls/pki_fixture.hpp"

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using net::ip::tcp;
using namespace std::chrono_literals;
using namespace xnode::https;
using xnode::test::pki;

namespace {

auto ec_token(error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

std::shared_ptr<xnode::tls::TlsConfig> make_tls(xnode::tls::TlsSettings s) {
  auto c = xnode::tls::TlsConfig::create(std::move(s));
  if (!c) FAIL(c.error().message);
  return *c;
}

std::shared_ptr<xnode::tls::TlsConfig> client_tls(const std::string& ca = "ca.crt") {
  xnode::tls::TlsSettings s;
  s.ca_file = pki(ca);
  s.crl_file = pki("crl.pem");
  s.cert_file = pki("node.crt");
  s.key_file = pki("node.key");
  s.server_name = "platform.xchg.test";
  return make_tls(s);
}

std::shared_ptr<xnode::tls::TlsConfig> server_tls() {
  xnode::tls::TlsSettings s;
  s.role = xnode::tls::Role::server;
  s.ca_file = pki("ca.crt");
  s.crl_file = pki("crl.pem");
  s.cert_file = pki("platform.crt");
  s.key_file = pki("platform.key");
  return make_tls(s);
}

// A small HTTP server for the tests, over TLS (server role of the project's stream) or plain TCP.
struct TestServer {
  enum class Mode {
    echo,               // 200, body = request body (gunzipped when Content-Encoding: gzip)
    close_after_reply,  // answers with keep-alive, then closes the socket silently
    drop_after_read,    // reads the request, closes without answering
    slow,               // waits `delay` before answering
    big,                // 200 with a body of `big_size` bytes
    never_handshake,    // accepts TCP and says nothing
  };
  net::io_context& io;
  tcp::acceptor acceptor;
  std::shared_ptr<xnode::tls::TlsConfig> tls;  // null = plain HTTP
  Mode mode = Mode::echo;
  std::chrono::milliseconds delay{0};
  std::size_t big_size = 0;
  int connections = 0;
  int requests = 0;
  std::string last_node_header;
  std::string last_content_encoding;
  std::string last_peer_cn;
  bool saw_clean_close = false;
  std::vector<std::shared_ptr<tcp::socket>> parked;

  TestServer(net::io_context& ctx, std::shared_ptr<xnode::tls::TlsConfig> t)
      : io(ctx), acceptor(ctx, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)), tls(std::move(t)) {
    net::co_spawn(io, accept_loop(), net::detached);
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
  std::string url() const { return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()); }

  net::awaitable<void> accept_loop() {
    for (;;) {
      error_code ec;
      tcp::socket sock = co_await acceptor.async_accept(ec_token(ec));
      if (ec) co_return;
      ++connections;
      if (mode == Mode::never_handshake) {
        parked.push_back(std::make_shared<tcp::socket>(std::move(sock)));
        continue;
      }
      if (tls) {
        net::co_spawn(io, serve_tls(std::move(sock)), net::detached);
      } else {
        net::co_spawn(io, serve(beast::tcp_stream(std::move(sock))), net::detached);
      }
    }
  }

  net::awaitable<void> serve_tls(tcp::socket sock) {
    xnode::tls::TlsStream stream(beast::tcp_stream(std::move(sock)), tls);
    error_code ec;
    co_await stream.async_handshake(ec_token(ec));
    if (ec) co_return;
    last_peer_cn = stream.peer().common_name;
    co_await serve(std::move(stream));
  }

  template <class Stream>
  net::awaitable<void> serve(Stream stream) {
    beast::flat_buffer buffer;
    for (;;) {
      error_code ec;
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      co_await http::async_read(stream, buffer, parser, ec_token(ec));
      http::request<http::string_body> req = parser.release();
      if (ec == http::error::end_of_stream || ec == net::error::eof) {
        saw_clean_close = true;
        co_return;
      }
      if (ec) co_return;
      ++requests;
      last_node_header = std::string(req["X-XN-Node"]);
      last_content_encoding = std::string(req[http::field::content_encoding]);
      if (mode == Mode::drop_after_read) {
        beast::get_lowest_layer(stream).close();
        co_return;
      }
      if (mode == Mode::slow) {
        net::steady_timer t(io, delay);
        co_await t.async_wait(ec_token(ec));
      }
      http::response<http::string_body> res{http::status::ok, 11};
      res.set(http::field::content_type, "application/json");
      if (mode == Mode::big) {
        res.body() = std::string(big_size, 'x');
      } else if (last_content_encoding == "gzip") {
        auto plain = gzip_decompress(req.body(), 1 << 20);
        res.body() = plain ? *plain : "bad gzip";
      } else {
        res.body() = req.body();
      }
      res.keep_alive(true);
      res.prepare_payload();
      co_await http::async_write(stream, res, ec_token(ec));
      if (ec) co_return;
      if (mode == Mode::close_after_reply) {
        beast::get_lowest_layer(stream).close();  // no close_notify, no Connection: close
        co_return;
      }
    }
  }
};

struct Result {
  std::optional<error_code> ec;
  Response response;
};

Result run_request(net::io_context& io, HttpsClient& client, Request req) {
  Result r;
  client.async_request(std::move(req), [&](error_code ec, Response res) {
    r.ec = ec;
    r.response = std::move(res);
  });
  io.restart();
  for (int i = 0; i < 1000 && !r.ec; ++i) io.run_for(10ms);
  return r;
}

Request post(std::string body) {
  Request r;
  r.method = "POST";
  r.target = "/xep/v1/hello";
  r.headers = {{"X-XN-Node", "scj-01"}, {"Content-Type", "application/json"}};
  r.body = std::move(body);
  return r;
}

ClientOptions options_for(const std::vector<std::string>& endpoints) {
  ClientOptions o;
  o.endpoints = endpoints;
  o.tls = client_tls();
  o.connect_timeout = 2s;
  o.handshake_timeout = 2s;
  o.write_timeout = 2s;
  o.read_timeout = 2s;
  return o;
}

// A CONNECT proxy: reads the CONNECT header, dials the target, answers 200, then relays bytes.
struct TestProxy {
  net::io_context& io;
  tcp::acceptor acceptor;
  std::string last_connect_line;
  bool refuse = false;
  int tunnels = 0;

  explicit TestProxy(net::io_context& ctx) : io(ctx), acceptor(ctx, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    net::co_spawn(io, accept_loop(), net::detached);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()); }

  net::awaitable<void> accept_loop() {
    for (;;) {
      error_code ec;
      tcp::socket sock = co_await acceptor.async_accept(ec_token(ec));
      if (ec) co_return;
      net::co_spawn(io, tunnel(std::make_shared<tcp::socket>(std::move(sock))), net::detached);
    }
  }
  static net::awaitable<void> relay(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
    char buf[8192];
    for (;;) {
      error_code ec;
      std::size_t n = co_await from->async_read_some(net::buffer(buf), ec_token(ec));
      if (ec) break;
      co_await net::async_write(*to, net::buffer(buf, n), ec_token(ec));
      if (ec) break;
    }
    error_code ignored;
    to->shutdown(tcp::socket::shutdown_send, ignored);
  }
  net::awaitable<void> tunnel(std::shared_ptr<tcp::socket> client) {
    error_code ec;
    net::streambuf head;
    co_await net::async_read_until(*client, head, "\r\n\r\n", ec_token(ec));
    if (ec) co_return;
    std::string text(net::buffers_begin(head.data()), net::buffers_end(head.data()));
    last_connect_line = text.substr(0, text.find("\r\n"));
    if (refuse) {
      std::string no = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
      co_await net::async_write(*client, net::buffer(no), ec_token(ec));
      co_return;
    }
    // "CONNECT host:port HTTP/1.1"
    auto target = last_connect_line.substr(8, last_connect_line.rfind(' ') - 8);
    auto colon = target.rfind(':');
    auto upstream = std::make_shared<tcp::socket>(io);
    tcp::resolver resolver(io);
    auto results = co_await resolver.async_resolve(target.substr(0, colon), target.substr(colon + 1), ec_token(ec));
    if (ec) co_return;
    co_await net::async_connect(*upstream, results, ec_token(ec));
    if (ec) co_return;
    ++tunnels;
    std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
    co_await net::async_write(*client, net::buffer(ok), ec_token(ec));
    net::co_spawn(io, relay(client, upstream), net::detached);
    net::co_spawn(io, relay(upstream, client), net::detached);
  }
};

std::uint16_t closed_port(net::io_context& io) {
  tcp::acceptor a(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();  // closed again when `a` goes away: connecting is refused
}

}  // namespace

TEST_SUITE("io::HttpsClient") {
  TEST_CASE("request over mutual TLS, keep-alive reuse, graceful close") {
    net::io_context io;
    TestServer server(io, server_tls());
    HttpsClient client(io.get_executor(), options_for({server.url()}));
    auto r1 = run_request(io, client, post(R"({"node_id":"scj-01"})"));
    REQUIRE(r1.ec.has_value());
    REQUIRE_MESSAGE(!*r1.ec, r1.response.error_detail);
    CHECK(r1.response.status == 200);
    CHECK(r1.response.body == R"({"node_id":"scj-01"})");
    CHECK(r1.response.header("content-type") == "application/json");
    CHECK(server.last_node_header == "scj-01");
    CHECK(server.last_peer_cn == "scj-01");
    auto r2 = run_request(io, client, post("second"));
    REQUIRE(r2.ec.has_value());
    CHECK(!*r2.ec);
    CHECK(r2.response.body == "second");
    CHECK(server.connections == 1);
    auto st = client.stats();
    CHECK(st.connection_open);
    CHECK(st.connections_opened == 1);
    CHECK(st.reconnects == 0);
    CHECK(st.endpoint == server.url());
    CHECK(st.last_handshake.count() >= 0);
    bool closed = false;
    client.close([&] { closed = true; });
    io.restart();
    for (int i = 0; i < 300 && !(closed && server.saw_clean_close); ++i) io.run_for(10ms);
    CHECK(closed);
    CHECK(server.saw_clean_close);
    CHECK_FALSE(client.stats().connection_open);
    // The next request reconnects and resumes the TLS session.
    auto r3 = run_request(io, client, post("third"));
    REQUIRE(r3.ec.has_value());
    CHECK(!*r3.ec);
    CHECK(client.stats().reconnects == 1);
    CHECK(client.stats().last_session_resumed);
  }

  TEST_CASE("a reused connection the server closed is retried once on a fresh connection") {
    net::io_context io;
    TestServer server(io, server_tls());
    server.mode = TestServer::Mode::close_after_reply;
    HttpsClient client(io.get_executor(), options_for({server.url()}));
    auto r1 = run_request(io, client, post("one"));
    REQUIRE(r1.ec.has_value());
    CHECK(!*r1.ec);
    io.restart();
    io.run_for(50ms);  // let the server's close arrive
    auto r2 = run_request(io, client, post("two"));
    REQUIRE(r2.ec.has_value());
    CHECK_MESSAGE(!*r2.ec, r2.response.error_detail);
    CHECK(r2.response.body == "two");
    CHECK(client.stats().retries == 1);
    CHECK(server.connections == 2);
    CHECK(server.requests == 2);
  }

  TEST_CASE("a fresh connection dropped after the request is an error, not retried") {
    net::io_context io;
    TestServer server(io, server_tls());
    server.mode = TestServer::Mode::drop_after_read;
    HttpsClient client(io.get_executor(), options_for({server.url()}));
    auto r = run_request(io, client, post("x"));
    REQUIRE(r.ec.has_value());
    CHECK(*r.ec);
    CHECK(r.response.error_class == ErrorClass::connect);
    CHECK(server.requests == 1);
    CHECK(client.stats().retries == 0);
  }

  TEST_CASE("read and handshake timeouts fire") {
    net::io_context io;
    TestServer slow(io, server_tls());
    slow.mode = TestServer::Mode::slow;
    slow.delay = 3s;
    auto opts = options_for({slow.url()});
    opts.read_timeout = 200ms;
    HttpsClient client(io.get_executor(), opts);
    auto started = std::chrono::steady_clock::now();
    auto r = run_request(io, client, post("x"));
    REQUIRE(r.ec.has_value());
    CHECK(*r.ec == beast::error::timeout);
    CHECK(r.response.error_class == ErrorClass::timeout);
    CHECK(std::chrono::steady_clock::now() - started < 2s);

    TestServer silent(io, server_tls());
    silent.mode = TestServer::Mode::never_handshake;
    auto opts2 = options_for({silent.url()});
    opts2.handshake_timeout = 200ms;
    HttpsClient client2(io.get_executor(), opts2);
    auto r2 = run_request(io, client2, post("x"));
    REQUIRE(r2.ec.has_value());
    CHECK(*r2.ec == beast::error::timeout);
    CHECK(r2.response.error_class == ErrorClass::timeout);
    CHECK(r2.response.error_detail.find("TLS handshake") != std::string::npos);
  }

  TEST_CASE("a response above body_limit is an http error") {
    net::io_context io;
    TestServer server(io, server_tls());
    server.mode = TestServer::Mode::big;
    server.big_size = 100000;
    auto opts = options_for({server.url()});
    opts.body_limit = 1000;
    HttpsClient client(io.get_executor(), opts);
    auto r = run_request(io, client, post("x"));
    REQUIRE(r.ec.has_value());
    CHECK_MESSAGE(*r.ec == http::error::body_limit, r.response.status << " " << r.response.body.size());
    CHECK(r.response.error_class == ErrorClass::http);
    CHECK_FALSE(client.stats().connection_open);
  }

  TEST_CASE("ordered failover: a refused endpoint is skipped and the working one remembered") {
    net::io_context io;
    TestServer server(io, server_tls());
    std::string dead = "https://127.0.0.1:" + std::to_string(closed_port(io));
    HttpsClient client(io.get_executor(), options_for({dead, server.url()}));
    auto r = run_request(io, client, post("x"));
    REQUIRE(r.ec.has_value());
    REQUIRE_MESSAGE(!*r.ec, r.response.error_detail);
    CHECK(r.response.endpoint == server.url());
    auto st = client.stats();
    CHECK(st.endpoint == server.url());
    CHECK(st.failovers == 1);
    CHECK(st.last_error_class == ErrorClass::connect);
    client.close();
    io.restart();
    io.run_for(100ms);
    auto r2 = run_request(io, client, post("y"));
    REQUIRE(r2.ec.has_value());
    CHECK(!*r2.ec);
    CHECK(client.stats().failovers == 1);  // went straight to the remembered endpoint
  }

  TEST_CASE("TLS refusal is classified tls with the reason") {
    net::io_context io;
    TestServer server(io, server_tls());
    auto opts = options_for({server.url()});
    opts.tls = client_tls("other-ca.crt");
    HttpsClient client(io.get_executor(), opts);
    auto r = run_request(io, client, post("x"));
    REQUIRE(r.ec.has_value());
    CHECK(*r.ec == xnode::tls::TlsErrc::certificate_untrusted);
    CHECK(r.response.error_class == ErrorClass::tls);
    CHECK(r.response.error_detail.find("not correctly signed by the trusted CA") != std::string::npos);
    CHECK(server.requests == 0);
  }

  TEST_CASE("all endpoints down: connect error naming the endpoint") {
    net::io_context io;
    std::string dead = "https://127.0.0.1:" + std::to_string(closed_port(io));
    HttpsClient client(io.get_executor(), options_for({dead}));
    auto r = run_request(io, client, post("x"));
    REQUIRE(r.ec.has_value());
    CHECK(*r.ec == net::error::connection_refused);
    CHECK(r.response.error_class == ErrorClass::connect);
    CHECK(r.response.error_detail.find(dead) != std::string::npos);
  }

  TEST_CASE("unresolvable host is a dns error") {
    net::io_context io;
    HttpsClient client(io.get_executor(), options_for({"https://no-such-host.invalid:8443"}));
    auto r = run_request(io, client, post("x"));
    REQUIRE(r.ec.has_value());
    CHECK(*r.ec);
    CHECK(r.response.error_class == ErrorClass::dns);
  }

  TEST_CASE("gzip request bodies") {
    net::io_context io;
    TestServer server(io, server_tls());
    HttpsClient client(io.get_executor(), options_for({server.url()}));
    auto req = post(std::string(10000, 'a') + "{\"k\":1}\n");
    req.gzip = true;
    auto r = run_request(io, client, req);
    REQUIRE(r.ec.has_value());
    CHECK(!*r.ec);
    CHECK(server.last_content_encoding == "gzip");
    CHECK(r.response.body == std::string(10000, 'a') + "{\"k\":1}\n");
  }

  TEST_CASE("a shared body is sent as it is, plain and gzipped, and stays untouched") {
    // The uplink passes each batch by reference (Request::shared_body), not as a copy.
    net::io_context io;
    TestServer server(io, server_tls());
    HttpsClient client(io.get_executor(), options_for({server.url()}));
    std::string text;
    for (int i = 0; i < 5000; ++i) text += "{\"seq\":" + std::to_string(i + 1) + ",\"op\":\"upsert\"}\n";
    const auto shared = std::make_shared<const std::string>(text);
    for (bool gzip : {false, true}) {
      auto req = post("ignored: shared_body wins");
      req.shared_body = shared;
      req.gzip = gzip;
      auto r = run_request(io, client, req);
      REQUIRE(r.ec.has_value());
      CHECK(!*r.ec);
      CHECK(server.last_content_encoding == (gzip ? "gzip" : ""));
      CHECK(r.response.body == text);
      CHECK(*shared == text);
    }
  }

  TEST_CASE("large bodies cross many TLS records both ways") {
    net::io_context io;
    TestServer server(io, server_tls());
    HttpsClient client(io.get_executor(), options_for({server.url()}));
    std::string big;
    for (int i = 0; big.size() < 3 * 1024 * 1024; ++i) big += "{\"seq\":" + std::to_string(i) + ",\"op\":\"upsert\"}\n";
    auto r = run_request(io, client, post(big));
    REQUIRE(r.ec.has_value());
    REQUIRE_MESSAGE(!*r.ec, r.response.error_detail);
    CHECK(r.response.body.size() == big.size());
    CHECK(r.response.body == big);
  }

  TEST_CASE("CONNECT proxy: TLS end-to-end through the tunnel; a refusing proxy is a connect error") {
    net::io_context io;
    TestServer server(io, server_tls());
    TestProxy proxy(io);
    auto opts = options_for({"https://localhost:" + std::to_string(server.port())});
    opts.proxy = proxy.url();
    HttpsClient client(io.get_executor(), opts);
    auto r = run_request(io, client, post("through the proxy"));
    REQUIRE(r.ec.has_value());
    REQUIRE_MESSAGE(!*r.ec, r.response.error_detail);
    CHECK(r.response.body == "through the proxy");
    CHECK(proxy.last_connect_line == "CONNECT localhost:" + std::to_string(server.port()) + " HTTP/1.1");
    CHECK(proxy.tunnels == 1);
    CHECK(server.last_peer_cn == "scj-01");  // the platform authenticated the node through the tunnel

    proxy.refuse = true;
    HttpsClient refused(io.get_executor(), opts);
    auto r2 = run_request(io, refused, post("x"));
    REQUIRE(r2.ec.has_value());
    CHECK(*r2.ec == HttpsErrc::proxy_refused);
    CHECK(r2.response.error_class == ErrorClass::connect);
    CHECK(r2.response.error_detail.find("403") != std::string::npos);
  }

  TEST_CASE("the same client code runs over plain TCP (http:// endpoints)") {
    net::io_context io;
    TestServer server(io, nullptr);
    ClientOptions opts;
    opts.endpoints = {server.url() + "/base/"};
    HttpsClient client(io.get_executor(), opts);
    auto r = run_request(io, client, post("plain"));
    REQUIRE(r.ec.has_value());
    CHECK(!*r.ec);
    CHECK(r.response.body == "plain");
  }

  TEST_CASE("set_options: new endpoints take effect from the next connection") {
    net::io_context io;
    TestServer first(io, server_tls());
    TestServer second(io, server_tls());
    HttpsClient client(io.get_executor(), options_for({first.url()}));
    auto r1 = run_request(io, client, post("1"));
    REQUIRE(r1.ec.has_value());
    CHECK(!*r1.ec);
    client.set_options(options_for({second.url()}));
    auto r2 = run_request(io, client, post("2"));  // still on the open connection
    REQUIRE(r2.ec.has_value());
    CHECK(!*r2.ec);
    CHECK(first.requests == 2);
    client.close();
    auto r3 = run_request(io, client, post("3"));
    REQUIRE(r3.ec.has_value());
    CHECK(!*r3.ec);
    CHECK(second.requests == 1);
    CHECK(client.stats().endpoint == second.url());
  }

  TEST_CASE("figures: handshake time and keep-alive request rate on loopback (printed, not asserted)") {
    net::io_context io;
    TestServer server(io, server_tls());
    HttpsClient client(io.get_executor(), options_for({server.url()}));
    auto r = run_request(io, client, post("x"));
    REQUIRE(r.ec.has_value());
    auto full = client.stats().last_handshake;
    client.close();
    r = run_request(io, client, post("x"));
    auto resumed = client.stats().last_handshake;
    CHECK(client.stats().last_session_resumed);
    const int n = 2000;
    int done = 0;
    std::function<void()> next = [&] {
      client.async_request(post(R"({"seq":1,"op":"upsert"})"), [&](error_code ec, Response) {
        REQUIRE(!ec);
        if (++done < n) next();
      });
    };
    auto t0 = std::chrono::steady_clock::now();
    next();
    io.restart();
    for (int i = 0; i < 3000 && done < n; ++i) io.run_for(10ms);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(done == n);
    MESSAGE("full handshake ms: " << full.count() << ", resumed handshake ms: " << resumed.count()
                                  << ", sequential keep-alive requests/s: " << static_cast<long>(n / seconds));
  }

  TEST_CASE("bad options are start-up errors") {
    net::io_context io;
    ClientOptions o;
    o.endpoints = {"https://127.0.0.1:1"};
    CHECK_THROWS_AS(HttpsClient(io.get_executor(), o), std::invalid_argument);  // https without TLS
    o.endpoints = {"ftp://x"};
    CHECK_THROWS_AS(HttpsClient(io.get_executor(), o), std::invalid_argument);
  }
}

TEST_SUITE("io::Url") {
  TEST_CASE("parse_url") {
    auto u = parse_url("https://xchg.example.gov:8443/api/");
    REQUIRE(u.ok());
    CHECK(u->host == "xchg.example.gov");
    CHECK(u->port == 8443);
    CHECK(u->base_path == "/api");
    CHECK(u->text() == "https://xchg.example.gov:8443/api");
    auto v6 = parse_url("https://[::1]:9");
    REQUIRE(v6.ok());
    CHECK(v6->host == "::1");
    CHECK(v6->host_port() == "[::1]:9");
    CHECK(parse_url("http://proxy")->port == 80);
    CHECK_FALSE(parse_url("https://h:0").ok());
    CHECK_FALSE(parse_url("https://h:99999").ok());
    CHECK_FALSE(parse_url("https://user@h").ok());
    CHECK_FALSE(parse_url("h:1").ok());
  }
  TEST_CASE("gzip round trip and limits") {
    std::string data(50000, 'z');
    auto packed = gzip_compress(data);
    CHECK(packed.size() < 1000);
    CHECK(static_cast<unsigned char>(packed[0]) == 0x1f);
    auto back = gzip_decompress(packed, 100000);
    REQUIRE(back.ok());
    CHECK(*back == data);
    CHECK_FALSE(gzip_decompress(packed, 1000).ok());
    CHECK_FALSE(gzip_decompress(packed.substr(0, packed.size() / 2), 100000).ok());
  }
}
