#include <doctest/doctest.h>

#include <sys/stat.h>

#include <array>
#include <chrono>
#include <functional>
#include <fstream>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "io/tls/cert_info.hpp"
#include "io/tls/mbedtls_compat.hpp"
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
      if (hec) {
        (*server)->next_layer().close();  // `server` outlives this handler (the caller holds it)
        return;
      }
      out.server_saw = (*server)->peer();
      server_buf->resize(message.size());
      net::async_read(**server, net::buffer(*server_buf), [&, server, server_buf](error_code rec, std::size_t) {
        if (rec) return;
        net::async_write(**server, net::buffer(*server_buf), [server, server_buf](error_code wec, std::size_t) {
          if (wec) return;
          // Answer the client's close_notify with ours so its bounded wait ends at once.
          (*server)->async_read_some(net::buffer(*server_buf), [server](error_code, std::size_t) {
            (*server)->async_shutdown([server](error_code) {});
          });
        });
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

  TEST_CASE("client refuses a platform certificate from another CA") {
    net::io_context io;
    auto out = exchange(io, make_config(client_settings()), make_config(server_settings("other-platform")));
    REQUIRE(out.client.has_value());
    CHECK(*out.client == TlsErrc::certificate_untrusted);
    CHECK(out.client_verify.find("not correctly signed by the trusted CA") != std::string::npos);
    CHECK(out.echoed.empty());
  }

  TEST_CASE("client refuses a wrong server name") {
    net::io_context io;
    auto out = exchange(io, make_config(client_settings()), make_config(server_settings("platform-wrongname")));
    REQUIRE(out.client.has_value());
    CHECK(*out.client == TlsErrc::hostname_mismatch);
    CHECK(out.client->message().find("hostname mismatch") != std::string::npos);
    CHECK(out.client_verify.find("Common Name (CN) does not match") != std::string::npos);
  }

  TEST_CASE("client refuses a revoked platform certificate (client-side CRL)") {
    net::io_context io;
    auto out = exchange(io, make_config(client_settings()), make_config(server_settings("platform-revoked")));
    REQUIRE(out.client.has_value());
    CHECK(*out.client == TlsErrc::certificate_revoked);
    CHECK(out.client_verify.find("revoked") != std::string::npos);
    // Without the CRL the same certificate is accepted: the refusal really comes from the CRL.
    auto no_crl = client_settings();
    no_crl.crl_file.clear();
    auto out2 = exchange(io, make_config(no_crl), make_config(server_settings("platform-revoked")));
    REQUIRE(out2.client.has_value());
    CHECK(!*out2.client);
  }

  TEST_CASE("SPKI pins: the right pin passes, another one is a pin mismatch") {
    net::io_context io;
    std::ifstream pin_file(pki("platform.pin"));
    std::string pin;
    pin_file >> pin;
    auto pinned = client_settings();
    pinned.spki_pins = {std::string(64, 'a'), pin};
    auto ok = exchange(io, make_config(pinned), make_config(server_settings()));
    REQUIRE(ok.client.has_value());
    CHECK(!*ok.client);
    CHECK(ok.echoed == "ping");
    pinned.spki_pins = {std::string(64, 'a')};
    auto bad = exchange(io, make_config(pinned), make_config(server_settings()));
    REQUIRE(bad.client.has_value());
    CHECK(*bad.client == TlsErrc::pin_mismatch);
    CHECK(bad.client_verify.find("pin mismatch") != std::string::npos);
    CHECK(bad.client->message().find("pin mismatch") != std::string::npos);
  }

  TEST_CASE("server refuses a revoked, an expired, a foreign and a missing client certificate") {
    net::io_context io;
    auto server_cfg = make_config(server_settings());
    {
      auto out = exchange(io, make_config(client_settings("node-revoked")), server_cfg);
      REQUIRE(out.server.has_value());
      CHECK(*out.server == TlsErrc::certificate_revoked);
      CHECK(out.server_verify.find("revoked") != std::string::npos);
      REQUIRE(out.client.has_value());
      // The client learns why from the alert.
      CHECK(*out.client == make_alert_error(MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED));
      CHECK(out.client->message().find("certificate_revoked") != std::string::npos);
    }
    {
      auto out = exchange(io, make_config(client_settings("node-expired")), server_cfg);
      REQUIRE(out.server.has_value());
      CHECK(*out.server == TlsErrc::certificate_expired);
      CHECK(out.server_verify.find("expired") != std::string::npos);
      REQUIRE(out.client.has_value());
      CHECK(*out.client == make_alert_error(MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED));
    }
    {
      auto out = exchange(io, make_config(client_settings("other-node")), server_cfg);
      REQUIRE(out.server.has_value());
      CHECK(*out.server == TlsErrc::certificate_untrusted);
      REQUIRE(out.client.has_value());
      CHECK(is_verification_failure(*out.client));
    }
    {
      auto anonymous = client_settings();
      anonymous.cert_file.clear();
      anonymous.key_file.clear();
      auto out = exchange(io, make_config(anonymous), server_cfg);
      REQUIRE(out.server.has_value());
      CHECK_MESSAGE(*out.server == TlsErrc::peer_certificate_missing, out.server->message());
      REQUIRE(out.client.has_value());
      CHECK(*out.client);
      CHECK(out.echoed.empty());
    }
  }

  TEST_CASE("client refuses a server offering only TLS 1.1, or only CBC suites") {
    net::io_context io;
    {
      auto old_server = make_config(server_settings());
      xnode::tls::compat::set_only_version(old_server->native(), MBEDTLS_SSL_MINOR_VERSION_2);
      static const int legacy_suites[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, 0};
      mbedtls_ssl_conf_ciphersuites(old_server->native(), legacy_suites);
      auto out = exchange(io, make_config(client_settings()), old_server);
      REQUIRE(out.client.has_value());
      CHECK(*out.client);
      REQUIRE(out.server.has_value());
      CHECK(*out.server);
      CHECK(out.echoed.empty());
      MESSAGE("TLS 1.1 server: client " << out.client->message() << " / server " << out.server->message());
    }
    {
      auto cbc_server = make_config(server_settings());
      static const int cbc_suites[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
                                       MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384, 0};
      mbedtls_ssl_conf_ciphersuites(cbc_server->native(), cbc_suites);
      auto out = exchange(io, make_config(client_settings()), cbc_server);
      REQUIRE(out.client.has_value());
      CHECK(*out.client);
      REQUIRE(out.server.has_value());
      CHECK(*out.server);
      CHECK(out.echoed.empty());
      MESSAGE("CBC-only server: client " << out.client->message() << " / server " << out.server->message());
    }
  }

  TEST_CASE("the session of the last connection is resumed on reconnect") {
    net::io_context io;
    auto client_cfg = make_config(client_settings());
    auto server_cfg = make_config(server_settings());
    auto first = exchange(io, client_cfg, server_cfg);
    REQUIRE(first.client.has_value());
    CHECK(!*first.client);
    CHECK_FALSE(first.resumed);
    auto second = exchange(io, client_cfg, server_cfg);
    REQUIRE(second.client.has_value());
    CHECK(!*second.client);
    CHECK(second.resumed);
    CHECK(second.echoed == "ping");
    // Resumption keeps the identity the full handshake established.
    CHECK(second.server_saw.common_name == "scj-01");
    // A config without resumption does a full handshake every time.
    auto fresh = client_settings();
    fresh.session_resumption = false;
    auto no_resume_cfg = make_config(fresh);
    exchange(io, no_resume_cfg, server_cfg);
    auto again = exchange(io, no_resume_cfg, server_cfg);
    CHECK_FALSE(again.resumed);
  }

  TEST_CASE("a handshake with a silent peer times out through the tcp_stream expiry") {
    net::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    tcp::socket silent(io);
    acceptor.async_accept(silent, [](error_code) {});
    TlsStream client(io.get_executor(), make_config(client_settings()));
    std::optional<error_code> result;
    auto started = std::chrono::steady_clock::now();
    client.next_layer().async_connect(acceptor.local_endpoint(), [&](error_code ec) {
      REQUIRE(!ec);
      client.next_layer().expires_after(200ms);
      client.async_handshake([&](error_code hec) { result = hec; });
    });
    io.run_for(5s);
    REQUIRE(result.has_value());
    CHECK(*result == beast::error::timeout);
    CHECK(std::chrono::steady_clock::now() - started < 3s);
  }

  TEST_CASE("completion handlers never run inside the initiating call; small writes coalesce") {
    net::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    auto server_cfg = make_config(server_settings());
    std::optional<TlsStream> server;
    std::string received;
    char server_buf[64];
    std::function<void()> server_read = [&] {
      server->async_read_some(net::buffer(server_buf), [&](error_code ec, std::size_t n) {
        if (ec) return;
        received.append(server_buf, n);
        if (received.size() >= 10) {
          io.stop();  // everything the test waits for has happened
          return;
        }
        server_read();
      });
    };
    acceptor.async_accept([&](error_code ec, tcp::socket sock) {
      REQUIRE(!ec);
      server.emplace(beast::tcp_stream(std::move(sock)), server_cfg);
      server->async_handshake([&](error_code hec) {
        REQUIRE(!hec);
        // One record carrying many bytes; the client then reads it one byte at a time.
        net::async_write(*server, net::buffer(std::string("abcdef")), [&](error_code, std::size_t) { server_read(); });
      });
    });
    TlsStream client(io.get_executor(), make_config(client_settings()));
    std::string got;
    int inline_completions = 0;
    char one;
    std::function<void()> read_one = [&] {
      auto returned = std::make_shared<bool>(false);
      client.async_read_some(net::buffer(&one, 1), [&, flag = returned](error_code ec, std::size_t n) {
        if (!*flag) ++inline_completions;
        REQUIRE(!ec);
        got.append(&one, n);
        if (got.size() < 6) {
          read_one();
          return;
        }
        // Header + body as separate small buffers: one TLS record on the wire.
        std::array<net::const_buffer, 3> parts{net::buffer("GET ", 4), net::buffer("/ ", 2), net::buffer("HTTP", 4)};
        auto write_returned = std::make_shared<bool>(false);
        client.async_write_some(parts, [&, wflag = write_returned](error_code wec, std::size_t wn) {
          if (!*wflag) ++inline_completions;
          REQUIRE(!wec);
          CHECK(wn == 10);
        });
        *write_returned = true;
      });
      *returned = true;
    };
    client.next_layer().async_connect(acceptor.local_endpoint(), [&](error_code ec) {
      REQUIRE(!ec);
      client.async_handshake([&](error_code hec) {
        REQUIRE(!hec);
        read_one();
      });
    });
    io.run_for(5s);
    CHECK(got == "abcdef");
    CHECK(received == "GET / HTTP");
    CHECK(inline_completions == 0);
  }

  TEST_CASE("graceful shutdown: the peer reads end of stream") {
    net::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    auto server_cfg = make_config(server_settings());
    std::optional<TlsStream> server;
    std::optional<error_code> server_read_result, server_shutdown, client_shutdown;
    char buf[16];
    acceptor.async_accept([&](error_code ec, tcp::socket sock) {
      REQUIRE(!ec);
      server.emplace(beast::tcp_stream(std::move(sock)), server_cfg);
      server->async_handshake([&](error_code hec) {
        REQUIRE(!hec);
        server->async_read_some(net::buffer(buf), [&](error_code rec, std::size_t) {
          server_read_result = rec;
          server->async_shutdown([&](error_code sec) { server_shutdown = sec; });
        });
      });
    });
    TlsStream client(io.get_executor(), make_config(client_settings()));
    client.next_layer().async_connect(acceptor.local_endpoint(), [&](error_code ec) {
      REQUIRE(!ec);
      client.async_handshake([&](error_code hec) {
        REQUIRE(!hec);
        client.async_shutdown([&](error_code sec) { client_shutdown = sec; });
      });
    });
    io.run_for(5s);
    REQUIRE(server_read_result.has_value());
    CHECK(*server_read_result == net::error::eof);
    REQUIRE(client_shutdown.has_value());
    CHECK_MESSAGE(!*client_shutdown, client_shutdown->message());
  }
}

TEST_SUITE("io::TlsConfig") {
  TEST_CASE("a private key readable by others is refused, naming the file and the mode") {
    std::string copy = std::string(XNODE_BINARY_DIR) + "/test-pki-loose.key";
    {
      std::ifstream in(pki("node.key"), std::ios::binary);
      std::ofstream out(copy, std::ios::binary | std::ios::trunc);
      out << in.rdbuf();
    }
    ::chmod(copy.c_str(), 0644);
    auto s = client_settings();
    s.key_file = copy;
    auto c = TlsConfig::create(s);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().message.find(copy) != std::string::npos);
    CHECK(c.error().message.find("0644") != std::string::npos);
    ::chmod(copy.c_str(), 0600);
    CHECK(TlsConfig::create(s).ok());
  }

  TEST_CASE("configuration errors are clear") {
    auto s = client_settings();
    s.server_name.clear();
    auto c = TlsConfig::create(s);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().message.find("server name") != std::string::npos);
    s = client_settings();
    s.ca_file = pki("missing.crt");
    c = TlsConfig::create(s);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().message.find("missing.crt") != std::string::npos);
    s = client_settings();
    s.key_file = pki("platform.key");
    c = TlsConfig::create(s);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().message.find("does not belong") != std::string::npos);
    s = client_settings();
    s.spki_pins = {"abc"};
    CHECK_FALSE(TlsConfig::create(s).ok());
  }
}

TEST_SUITE("io::CertInfo") {
  TEST_CASE("certificate expiry and CRL next update") {
    auto now = xnode::Clock::now();
    auto node = read_certificate_dates(pki("node.crt"));
    REQUIRE(node.ok());
    CHECK(days_left(node->not_after, now) >= 800);
    CHECK(node->subject.find("scj-01") != std::string::npos);
    auto expired = read_certificate_dates(pki("node-expired.crt"));
    REQUIRE(expired.ok());
    CHECK(days_left(expired->not_after, now) < -300);
    auto crl = read_crl_next_update(pki("crl.pem"));
    REQUIRE(crl.ok());
    auto d = days_left(*crl, now);
    CHECK(d >= 29);
    CHECK(d <= 30);
    CHECK_FALSE(read_certificate_dates(pki("nope.crt")).ok());
  }
}
