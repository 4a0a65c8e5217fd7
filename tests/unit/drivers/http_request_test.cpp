// The HTTP push driver's pure parts: request parsing with its limits, the route, the bearer token
// check, body decoding (all or nothing), gzip bounds, the listen address rule and the settings.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "drivers/http/gzip_body.hpp"
#include "drivers/http/http_request.hpp"
#include "drivers/http/http_settings.hpp"
#include "drivers/http/listen_address.hpp"
#include "drivers/http/push_body.hpp"

using namespace xnode::drivers::http;

namespace {

RequestParser::State parse_all(RequestParser& p, std::string_view bytes, std::size_t step = 0) {
  if (step == 0) step = bytes.size();
  std::size_t at = 0;
  while (at < bytes.size() && p.state() != RequestParser::State::error && p.state() != RequestParser::State::complete) {
    std::string_view piece = bytes.substr(at, std::min(step, bytes.size() - at));
    at += p.feed(piece);
  }
  if (p.state() == RequestParser::State::body) p.feed({});
  return p.state();
}

std::string gzip(std::string_view in) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

TEST_CASE("http request: Content-Length body, any chunking, keep-alive and the next request") {
  const std::string req =
      "POST /v1/sources/orders/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc\r\n"
      "Content-Length: 5\r\n\r\nhelloPOST /next HTTP/1.1\r\n";
  for (std::size_t step : {1u, 3u, 7u, 1000u}) {
    RequestParser p({1024, 1024});
    std::size_t at = 0;
    while (p.state() != RequestParser::State::complete && at < req.size())
      at += p.feed(std::string_view(req).substr(at, std::min<std::size_t>(step, req.size() - at)));
    REQUIRE(p.state() == RequestParser::State::complete);
    CHECK(p.request().method == "POST");
    CHECK(p.request().target == "/v1/sources/orders/records");
    CHECK(p.request().body == "hello");
    CHECK(p.request().keep_alive);
    REQUIRE(p.request().header("authorization"));
    CHECK(*p.request().header("authorization") == "Bearer abc");
    CHECK(req.substr(at).rfind("POST /next", 0) == 0);  // the next request is left alone
    p.reset();
    CHECK(p.state() == RequestParser::State::headers);
  }
}

TEST_CASE("http request: chunked body, trailers, Connection: close, HTTP/1.0") {
  RequestParser p({1024, 1024});
  CHECK(parse_all(p, "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                     "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
                  2) == RequestParser::State::complete);
  CHECK(p.request().body == "hello world");
  CHECK_FALSE(p.request().keep_alive);
  RequestParser q({1024, 1024});
  CHECK(parse_all(q, "GET / HTTP/1.0\r\n\r\n") == RequestParser::State::complete);
  CHECK_FALSE(q.request().keep_alive);
}

TEST_CASE("http request: limits are enforced while reading") {
  SUBCASE("Content-Length above the body limit: 413 before any body byte") {
    RequestParser p({1024, 100});
    CHECK(parse_all(p, "POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n") == RequestParser::State::error);
    CHECK(p.error_status() == 413);
  }
  SUBCASE("chunked body growing above the limit: 413") {
    RequestParser p({1024, 10});
    CHECK(parse_all(p, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n") ==
          RequestParser::State::error);
    CHECK(p.error_status() == 413);
  }
  SUBCASE("header above its limit: 431, whatever the chunking") {
    std::string big = "POST / HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n";
    RequestParser p({1024, 1024});
    CHECK(parse_all(p, big, 100) == RequestParser::State::error);
    CHECK(p.error_status() == 431);
  }
}

TEST_CASE("http request: malformed and ambiguous requests are refused") {
  struct Case {
    const char* text;
    int status;
  } cases[] = {
      {"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"POST / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nX: a\nY: b\r\n\r\n", 400},
      {"POST / HTTP/2.0\r\n\r\n", 505},
      {"POST /\x01 HTTP/1.1\r\n\r\n", 400},
      {"POST  / HTTP/1.1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY", 400},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    RequestParser p({1024, 1024});
    CHECK(parse_all(p, c.text) == RequestParser::State::error);
    CHECK(p.error_status() == c.status);
  }
}

TEST_CASE("http push: route, bearer token, idempotency key") {
  CHECK(records_route("/v1/sources/orders/records") == "orders");
  CHECK(records_route("/v1/sources/orders-2/records?x=1") == "orders-2");
  CHECK(records_route("/v1/sources//records").empty());
  CHECK(records_route("/v1/sources/a/b/records").empty());
  CHECK(records_route("/v1/sources/%2e%2e/records").empty());
  CHECK(records_route("/v1/sources/orders/record").empty());

  const std::string token = "s3cret-token-0123456789";
  CHECK(bearer_matches("Bearer s3cret-token-0123456789", token));
  CHECK(bearer_matches("bearer   s3cret-token-0123456789 ", token));
  CHECK_FALSE(bearer_matches("Bearer s3cret-token-012345678", token));
  CHECK_FALSE(bearer_matches("Bearer s3cret-token-01234567890", token));
  CHECK_FALSE(bearer_matches("Bearer s3cret-token-0123456788", token));
  CHECK_FALSE(bearer_matches("Basic s3cret-token-0123456789", token));
  CHECK_FALSE(bearer_matches("Bearers3cret-token-0123456789", token));
  CHECK_FALSE(bearer_matches("Bearer ", token));
  CHECK_FALSE(bearer_matches("", token));

  CHECK(idempotency_key_problem("0f8e-41c2").empty());
  CHECK_FALSE(idempotency_key_problem("").empty());
  CHECK_FALSE(idempotency_key_problem("a b").empty());
  CHECK_FALSE(idempotency_key_problem(std::string(129, 'k')).empty());
}

TEST_CASE("http push: body decoding is all or nothing, with per-line errors") {
  PushBody ok = decode_push_body("{\"a\":1}\r\n\n{\"a\":2,\"_op\":\"delete\"}", 1024);
  CHECK(ok.errors.empty());
  REQUIRE(ok.records.size() == 2);
  CHECK(ok.records[1].is_delete);
  CHECK(ok.records[1].line == 3);

  PushBody bad = decode_push_body("{\"a\":1}\n[1]\nnot json\n{\"a\":2}\n", 1024);
  REQUIRE(bad.errors.size() == 2);
  CHECK(bad.errors[0].line == 2);
  CHECK(bad.errors[1].line == 3);
  const std::string json = line_errors_json(bad.errors, bad.records.size());
  CHECK(json.find("\"bad_lines\":2") != std::string::npos);
  CHECK(json.find("\"line\":3") != std::string::npos);

  PushBody longline = decode_push_body("{\"a\":\"" + std::string(2000, 'x') + "\"}\n", 1024);
  CHECK(longline.errors.size() == 1);

  CHECK(accepted_json(5, 4) == "{\"accepted\":5,\"queued\":4,\"not_queued\":1}");
  CHECK(error_json("a \"b\"") == "{\"error\":\"a \\\"b\\\"\"}");
}

TEST_CASE("http push: gzip bodies are decoded within the size limit") {
  const std::string text = std::string(100000, 'x');
  std::string out;
  CHECK(gunzip_bounded(gzip(text), 200000, out).status == GunzipStatus::ok);
  CHECK(out == text);
  CHECK(gunzip_bounded(gzip("ab") + gzip("cd"), 100, out).status == GunzipStatus::ok);  // two members
  CHECK(out == "abcd");
  CHECK(gunzip_bounded(gzip(text), 99999, out).status == GunzipStatus::too_large);  // a small bomb
  CHECK(out.empty());
  const std::string z = gzip(text);
  CHECK(gunzip_bounded(std::string_view(z).substr(0, z.size() / 2), 200000, out).status == GunzipStatus::corrupt);
  CHECK(gunzip_bounded("not gzip at all", 200000, out).status == GunzipStatus::corrupt);
  CHECK(gunzip_bounded("", 200000, out).status == GunzipStatus::corrupt);
}

TEST_CASE("http push: the listener takes loopback and private LAN addresses only") {
  for (const char* good : {"127.0.0.1:8471", "127.3.2.1:1", "10.1.2.3:80", "172.16.0.1:8471", "172.31.255.255:8471",
                           "192.168.10.2:8471", "[::1]:8471", "[fd12:3456::1]:8471"}) {
    CAPTURE(good);
    CHECK_FALSE(listen_address_problem(good).has_value());
  }
  for (const char* bad : {"0.0.0.0:8471", "8.8.8.8:80", "172.32.0.1:8471", "192.169.0.1:80", "[::]:8471",
                          "[2001:db8::1]:8471", "localhost:8471", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
                          "[::1]8471", "::1:8471", "127.0.0.1:80x"}) {
    CAPTURE(bad);
    CHECK(listen_address_problem(bad).has_value());
  }
  auto v6 = parse_listen_address("[::1]:9000");
  REQUIRE(v6);
  CHECK(v6->ipv6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 9000);
}

TEST_CASE("http push: the token file must be private and hold a real token") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("xnode-http-token-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "token").string();
  {
    std::ofstream(path) << "abcdefghijklmnopqrstuvwxyz012345\n";
  }
  ::chmod(path.c_str(), 0644);
  auto open = read_token_file(path);
  REQUIRE_FALSE(open);
  CHECK(open.error().message.find("chmod 600") != std::string::npos);
  CHECK(open.error().message.find("abcdef") == std::string::npos);  // never repeats the secret
  ::chmod(path.c_str(), 0600);
  auto ok = read_token_file(path);
  REQUIRE(ok);
  CHECK(*ok == "abcdefghijklmnopqrstuvwxyz012345");
  {
    std::ofstream(path) << "short\n";
  }
  CHECK_FALSE(read_token_file(path));
  CHECK_FALSE(read_token_file((dir / "missing").string()));
  fs::remove_all(dir);
}

TEST_CASE("http push: settings defaults and TLS keys go together") {
  auto text = [](std::string t) {
    xnode::config::SettingValue v;
    v.type = xnode::config::ValueType::string;
    v.is_set = true;
    v.text = std::move(t);
    return v;
  };
  xnode::config::Settings none;
  CHECK_FALSE(settings_from(none));  // token_file required

  xnode::config::Settings s;
  s.set("token_file", text("/etc/xnode/push.token"));
  auto d = settings_from(s);
  REQUIRE(d);
  CHECK(d->listen.host == "127.0.0.1");
  CHECK(d->max_request_bytes == 8u << 20);
  CHECK_FALSE(d->tls());

  s.set("listen", text("203.0.113.5:8471"));
  auto pub = settings_from(s);
  REQUIRE_FALSE(pub);
  CHECK(pub.error().message.find("extranet") != std::string::npos);

  s.set("listen", text("192.168.1.10:9000"));
  s.set("tls_cert", text("/etc/xnode/push.crt"));
  auto half = settings_from(s);
  REQUIRE_FALSE(half);
  CHECK(half.error().message.find("go together") != std::string::npos);
  s.set("tls_key", text("/etc/xnode/push.key"));
  s.set("tls_client_ca", text("/etc/xnode/clients.pem"));
  auto full = settings_from(s);
  REQUIRE(full);
  CHECK(full->tls());
  CHECK(full->listen.port == 9000);
}
