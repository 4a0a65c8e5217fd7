#include <doctest/doctest.h>

#include "core/base/identifiers.hpp"
#include "core/base/json.hpp"
#include "core/base/sha256.hpp"
#include "core/base/time.hpp"

using namespace xnode;

TEST_SUITE("core::json") {
  TEST_CASE("parse and serialize keep member order and number text") {
    auto v = json::parse(R"( {"b": 1.50, "a": [true, null, "x\u00e9"], "c": {"d": -0}} )");
    REQUIRE(v.ok());
    CHECK(json::serialize(*v) == R"({"b":1.50,"a":[true,null,"xé"],"c":{"d":-0}})");
    CHECK(v->find("b")->number_text() == "1.50");
    CHECK(v->find("a")->as_array().size() == 3);
  }
  TEST_CASE("canonical form sorts members and normalises numbers (RFC 8785)") {
    auto v = json::parse(R"({"b": 1.50, "a": 1e3, "\u20ac": 1, "\r": "\u000f", "x": 0.000001, "y": 1e21})");
    REQUIRE(v.ok());
    CHECK(json::canonical(*v) == "{\"\\r\":\"\\u000f\",\"a\":1000,\"b\":1.5,\"x\":0.000001,\"y\":1e+21,\"€\":1}");
  }
  TEST_CASE("errors name the offset") {
    auto v = json::parse(R"({"a": })");
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().message == "unexpected character at byte 6");
    CHECK_FALSE(json::parse(R"({"a":1,"a":2})").ok());
    CHECK_FALSE(json::parse("\"\xff\"").ok());
    CHECK_FALSE(json::parse("[1,]").ok());
    CHECK_FALSE(json::parse("01").ok());
    CHECK_FALSE(json::parse("{} x").ok());
    CHECK(json::parse(R"("\ud83d\ude00")")->as_string() == "\xF0\x9F\x98\x80");
  }
  TEST_CASE("integers") {
    auto v = json::parse("[12, 1.0, 1e2, -9223372036854775808, 99999999999999999999]");
    REQUIRE(v.ok());
    const auto& a = v->as_array();
    CHECK(a[0].as_int() == 12);
    CHECK_FALSE(a[1].is_integer());
    CHECK_FALSE(a[2].is_integer());
    CHECK(a[3].as_int() == INT64_MIN);
    CHECK_FALSE(a[4].as_int().has_value());
  }
}

TEST_SUITE("core::sha256") {
  TEST_CASE("known vectors") {
    CHECK(Sha256::hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(Sha256::hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    std::string million(1000000, 'a');
    CHECK(Sha256::hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
  TEST_CASE("accelerated and portable rounds agree on every length and split") {
    std::string data;
    for (int i = 0; i < 700; ++i) data.push_back(static_cast<char>((i * 131 + 7) & 0xFF));
    for (std::size_t len = 0; len <= data.size(); len += (len < 130 ? 1 : 37)) {
      std::string_view part(data.data(), len);
      Sha256::allow_acceleration(false);
      const std::string portable = Sha256::hex(part);
      Sha256::allow_acceleration(true);
      CHECK(Sha256::hex(part) == portable);
      Sha256 split;  // odd-sized updates exercise the buffered path too
      for (std::size_t off = 0; off < len; off += 13) split.update(part.substr(off, 13));
      CHECK(to_hex(split.finish()) == portable);
    }
    const std::string note = std::string("SHA-256 accelerated: ") + (Sha256::accelerated() ? "yes" : "no");
    MESSAGE(note);
  }
  TEST_CASE("base64 and hex round trips") {
    std::string out;
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    CHECK(base64_encode("fo") == "Zm8=");
    REQUIRE(base64_decode("Zm9v\nYmE=", out, true));
    CHECK(out == "fooba");
    CHECK_FALSE(base64_decode("Zm9", out));
    REQUIRE(from_hex("00ff", out));
    CHECK(out == std::string("\x00\xff", 2));
  }
  TEST_CASE("base64 decoding refuses what is not base64") {
    std::string out;
    REQUIRE(base64_decode("", out));
    CHECK(out.empty());
    REQUIRE(base64_decode(" Zm9v\r\n\tYmFy \n", out, true));
    CHECK(out == "foobar");
    CHECK_FALSE(base64_decode("Zm9v YmFy", out));       // white space only when asked to skip it
    CHECK_FALSE(base64_decode("Zm9vYmF*", out, true));  // a character outside the alphabet
    CHECK_FALSE(base64_decode("Zm9-", out, true));      // base64url is another alphabet
    CHECK_FALSE(base64_decode("Zg=", out));             // padding short of a group
    CHECK_FALSE(base64_decode("Zg===", out));
    CHECK_FALSE(base64_decode("Z===", out));
    CHECK_FALSE(base64_decode("Zg==Zm9v", out));        // data after padding
    CHECK_FALSE(base64_decode("Z", out));
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    for (std::size_t n = 0; n <= all.size(); n += 37) {
      REQUIRE(base64_decode(base64_encode(all.substr(0, n)), out));
      CHECK(out == all.substr(0, n));
    }
  }
}

TEST_SUITE("core::time") {
  TEST_CASE("RFC 3339 round trip and offsets") {
    auto t = parse_rfc3339("2026-03-23T08:00:01.250+08:00");
    REQUIRE(t.has_value());
    CHECK(format_rfc3339(*t) == "2026-03-23T00:00:01.250Z");
    CHECK_FALSE(parse_rfc3339("2026-02-30T00:00:00Z").has_value());
    CHECK_FALSE(parse_rfc3339("2026-03-23 08:00").has_value());
    CHECK(valid_date("2024-02-29"));
    CHECK_FALSE(valid_date("2023-02-29"));
  }
}

TEST_SUITE("core::identifiers") {
  TEST_CASE("citizen ID (GB 11643)") {
    for (auto id : {"11010519491231002X", "440524188001010014", "540102199001011233"})
      CHECK(identifiers::valid_citizen_id(id));
    CHECK_FALSE(identifiers::valid_citizen_id("11010519491231002Y"));
    CHECK_FALSE(identifiers::valid_citizen_id("540102199002301232"));
  }
  TEST_CASE("unified social credit code (GB 32100)") {
    for (auto c : {"91350100M000100Y43", "91330100716105852F", "91540100MA6T00012D"})
      CHECK(identifiers::valid_uscc(c));
    CHECK_FALSE(identifiers::valid_uscc("91350100M000100Y4Z"));
    CHECK_FALSE(identifiers::valid_uscc("91540100MA6T0I012D"));
  }
}
