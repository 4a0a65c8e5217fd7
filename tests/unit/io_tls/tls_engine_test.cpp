// The engine without sockets: two engines wired back to back through their memory buffers.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include <boost/asio/error.hpp>

#include "io/tls/tls_engine.hpp"
#include "pki_fixture.hpp"

using namespace xnode::tls;
using xnode::test::pki;

namespace {

std::shared_ptr<TlsConfig> config(Role role) {
  TlsSettings s;
  s.role = role;
  s.ca_file = pki("ca.crt");
  s.cert_file = pki(role == Role::client ? "node.crt" : "platform.crt");
  s.key_file = pki(role == Role::client ? "node.key" : "platform.key");
  s.server_name = "platform.xchg.test";
  auto c = TlsConfig::create(s);
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  return *c;
}

// Moves everything `from` has produced into `to`'s input.
void carry(TlsEngine& from, TlsEngine& to) {
  while (from.has_output()) {
    auto out = from.output();
    auto in = to.prepare_input(out.size());
    std::memcpy(in.data(), out.data(), out.size());
    to.commit_input(out.size());
    from.consume_output(out.size());
  }
}

void handshake(TlsEngine& client, TlsEngine& server) {
  for (int round = 0; round < 20 && !(client.handshake_done() && server.handshake_done()); ++round) {
    auto c = client.handshake();
    REQUIRE_MESSAGE(!c.ec, c.ec.message());
    carry(client, server);
    auto s = server.handshake();
    REQUIRE_MESSAGE(!s.ec, s.ec.message());
    carry(server, client);
  }
  REQUIRE(client.handshake_done());
  REQUIRE(server.handshake_done());
}

}  // namespace

TEST_SUITE("io::TlsEngine") {
  TEST_CASE("a write refused with WANT_WRITE succeeds when retried with the same data after a flush") {
    TlsEngine client(config(Role::client));
    TlsEngine server(config(Role::server));
    handshake(client, server);
    CHECK(server.peer().common_name == "scj-01");

    // Without flushing, the engine takes records until its output buffer is full, then asks for a
    // flush (output_retry) — it never drops or half-takes the data it refused.
    std::vector<std::string> sent;
    std::string chunk(TlsEngine::max_record_plaintext, 'a');
    TlsEngine::Result r;
    for (int i = 0; i < 100; ++i) {
      chunk[0] = static_cast<char>('a' + i % 26);
      r = client.write(boost::asio::buffer(chunk));
      if (r.want != TlsEngine::Want::done) break;
      REQUIRE(!r.ec);
      REQUIRE(r.bytes == chunk.size());
      sent.push_back(chunk);
    }
    REQUIRE(r.want == TlsEngine::Want::output_retry);
    CHECK(sent.size() >= 3);
    carry(client, server);
    r = client.write(boost::asio::buffer(chunk));  // the same buffer again
    REQUIRE(r.want == TlsEngine::Want::done);
    REQUIRE(!r.ec);
    CHECK(r.bytes == chunk.size());
    sent.push_back(chunk);
    carry(client, server);

    std::string expected;
    for (const auto& s : sent) expected += s;
    std::string got;
    std::vector<char> buf(20000);
    for (int i = 0; i < 1000; ++i) {
      auto rr = server.read(boost::asio::buffer(buf));
      if (rr.want == TlsEngine::Want::input) break;
      REQUIRE(!rr.ec);
      got.append(buf.data(), rr.bytes);
    }
    CHECK(got.size() == expected.size());
    CHECK(got == expected);
  }

  TEST_CASE("a truncated connection is not mistaken for a clean end") {
    TlsEngine client(config(Role::client));
    TlsEngine server(config(Role::server));
    handshake(client, server);
    char buf[16];
    CHECK(server.read(boost::asio::buffer(buf)).want == TlsEngine::Want::input);
    server.set_transport_eof();
    auto r = server.read(boost::asio::buffer(buf));
    CHECK(r.ec == TlsErrc::stream_truncated);
    // With close_notify it is a clean end of stream.
    TlsEngine c2(config(Role::client));
    TlsEngine s2(config(Role::server));
    handshake(c2, s2);
    CHECK(!c2.shutdown().ec);
    carry(c2, s2);
    auto r2 = s2.read(boost::asio::buffer(buf));
    CHECK(r2.ec == boost::asio::error::eof);
    CHECK(s2.peer_closed());
  }
}
