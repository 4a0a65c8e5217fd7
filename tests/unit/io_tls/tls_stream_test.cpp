#include <doctest/doctest.h>

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "io/tls/tls_config.hpp"
#include "io/tls/tls_stream.hpp"
#include "pki_fixture.hpp"

namespace net = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;
using net::ip::tcp;
using namespace std::chrono_literals;
using xnode::test::pki;
using namespace xnode::tls;

namespace {

std::shared_ptr<TlsConfig> make_config(TlsSettings s) {
  auto c = TlsConfig::create(std::move(s));
  if (!c) FAIL("TlsConfig::create: " << c.error().message);
  return *c;
}

TlsSettings client_settings(const std::string& cert = "node") {
  TlsSettings s;
  s.role = Role::client;
  s.ca_file = pki("ca.crt");
  s.crl_file = pki("crl.pem");
  s.cert_file = pki(cert + ".crt");
  s.key_file = pki(cert + ".key");
  s.server_name = "platform.xchg.test";
  return s;
}

TlsSettings server_settings(const std::string& cert = "platform", const std::string& ca = "ca.crt") {
  TlsSettings s;
  s.role = Role::server;
  s.ca_file = pki(ca);
  s.crl_file = pki("crl.pem");
  s.cert_file = pki(cert + ".crt");
  s.key_file = pki(cert + ".key");
  return s;
}

struct Outcome {
  std::optional<error_code> client;
  std::optional<error_code> server;
  std::string client_verify;
  std::string server_verify;
  PeerIdentity client_saw;  // the server's identity as the client saw it
  PeerIdentity server_saw;  // the node's identity as the server saw it
  bool resumed = false;
  std::string echoed;
};

// One connection: handshake both ways; on success the client sends `message`, the server echoes it.
Outcome exchange(net::io_context& io, std::shared_ptr<TlsConfig> client_cfg, std::shared_ptr<TlsConfig> server_cfg,
                 const std::string& message = "ping") {
  Outcome out;
  tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  auto server = std::make_shared<std::optional<TlsStream>>();
  auto server_buf = std::make_shared<std::string>();
  acceptor.async_accept([&, server, server_buf](error_code ec, tcp::socket sock) {
    REQUIRE(!ec);
    server->emplace(beast::tcp_stream(std::move(sock)), server_cfg);
    (*server)->next_layer().expires_after(5s);
    (*server)->async_handshake([&, server, server_buf](error_code hec) {
      out.server = hec;
      out.server_verify = (*server)->verify_failure();
      if (hec) return;
      out.server_saw = (*server)->peer();
      server_buf->resize(message.size());
      net::async_read(**server, net::buffer(*server_buf), [&, server, server_buf](error_code rec, std::size_t) {
        if (rec) return;
        net::async_write(**server, net::buffer(*server_buf), [server](error_code, std::size_t) {});
      });
    });
  });
  auto client = std::make_shared<TlsStream>(io.get_executor(), client_cfg);
  auto reply = std::make_shared<std::string>(message.size(), '\0');
  client->next_layer().expires_after(5s);
  client->next_layer().async_connect(acceptor.local_endpoint(), [&, client, reply](error_code cec) {
    REQUIRE(!cec);
    client->async_handshake([&, client, reply](error_code hec) {
      out.client = hec;
      out.client_verify = client->verify_failure();
      if (hec) return;
      out.client_saw = client->peer();
      out.resumed = client->session_resumed();
      net::async_write(*client, net::buffer(message), [&, client, reply](error_code wec, std::size_t) {
        REQUIRE(!wec);
        net::async_read(*client, net::buffer(*reply), [&, client, reply](error_code rec, std::size_t n) {
          REQUIRE(!rec);
          out.echoed = reply->substr(0, n);
          client->async_shutdown([client](error_code) {});
        });
      });
    });
  });
  io.restart();
  io.run_for(10s);
  return out;
}

}  // namespace

TEST_SUITE("io::TlsStream") {
  TEST_CASE("mutual handshake, echo, peer identity and timing") {
    net::io_context io;
    auto out = exchange(io, make_config(client_settings()), make_config(server_settings()), "hello over mbedTLS");
    REQUIRE(out.client.has_value());
    CHECK_MESSAGE(!*out.client, out.client->message());
    CHECK(!*out.server);
    CHECK(out.echoed == "hello over mbedTLS");
    CHECK(out.server_saw.common_name == "scj-01");
    CHECK(out.server_saw.organizational_unit == "11540100MB0000008X");
    CHECK(out.client_saw.common_name == "platform.xchg.test");
    std::ifstream pin_file(pki("platform.pin"));
    std::string pin;
    pin_file >> pin;
    CHECK(out.client_saw.spki_sha256 == pin);
    CHECK(out.client_saw.not_after > xnode::Clock::now());
    CHECK_FALSE(out.resumed);
  }
}
