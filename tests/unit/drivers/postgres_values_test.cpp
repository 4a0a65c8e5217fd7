// The postgres driver's pure parts: settings checks and the PostgreSQL → JSON value mapping.
#include <doctest/doctest.h>

#include "core/base/json.hpp"
#include "drivers/postgres/pg_settings.hpp"
#include "drivers/postgres/pg_values.hpp"

using namespace xnode;
using namespace xnode::drivers::postgres;

namespace {

std::string mapped(std::uint32_t type, std::string_view text) {
  auto v = to_json(type, text, "+08:00");
  REQUIRE_MESSAGE(v.ok(), v.error().message);
  return json::serialize(*v);
}

bool refused(std::uint32_t type, std::string_view text) { return !to_json(type, text, "+08:00").ok(); }

}  // namespace

TEST_SUITE("drivers::postgres::values") {
  TEST_CASE("types map to the catalog's JSON forms") {
    CHECK(mapped(oid::text, "拉萨市") == "\"拉萨市\"");
    CHECK(mapped(oid::varchar, "a\"b") == "\"a\\\"b\"");
    CHECK(mapped(oid::int2, "-12") == "-12");
    CHECK(mapped(oid::int8, "9223372036854775807") == "9223372036854775807");
    CHECK(mapped(oid::numeric, "1234567890.1200") == "1234567890.1200");  // as written, scale kept
    CHECK(mapped(oid::float8, "0.1") == "0.1");
    CHECK(mapped(oid::float4, "1e+30") == "1e+30");
    CHECK(mapped(oid::boolean, "t") == "true");
    CHECK(mapped(oid::boolean, "f") == "false");
    CHECK(mapped(oid::date, "2026-03-23") == "\"2026-03-23\"");
    CHECK(mapped(oid::timestamptz, "2026-03-23 07:59:58.123456+00") == "\"2026-03-23T07:59:58.123456Z\"");
    CHECK(mapped(oid::timestamptz, "2026-03-23 07:59:58+05:30") == "\"2026-03-23T07:59:58+05:30\"");
    CHECK(mapped(oid::timestamptz, "2026-03-23 07:59:58-03") == "\"2026-03-23T07:59:58-03:00\"");
    CHECK(mapped(oid::timestamp, "2026-03-23 07:59:58") == "\"2026-03-23T07:59:58+08:00\"");
    CHECK(mapped(oid::bytea, "\\x00ff10") == "\"AP8Q\"");
    CHECK(mapped(oid::bytea, "\\x") == "\"\"");
    CHECK(mapped(2950 /* uuid */, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11") == "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
  }

  TEST_CASE("values without a JSON form are refused with the reason") {
    CHECK(refused(oid::numeric, "NaN"));
    CHECK(refused(oid::float8, "Infinity"));
    CHECK(refused(oid::float8, "-Infinity"));
    CHECK(refused(oid::date, "infinity"));
    CHECK(refused(oid::date, "0044-03-15 BC"));
    CHECK(refused(oid::date, "12026-01-01"));
    CHECK(refused(oid::timestamptz, "infinity"));
    CHECK(refused(oid::timestamptz, "2026-03-23 07:59:58+05:30:15"));
    CHECK(refused(oid::timestamp, "2026-03-23 07:59:58+00"));
    CHECK(refused(oid::boolean, "yes"));
    CHECK(refused(oid::bytea, "\\x0"));
    auto error = to_json(oid::numeric, "NaN", "Z");
    CHECK(error.error().message.find("NaN") != std::string::npos);
  }
}

TEST_SUITE("drivers::postgres::settings") {
  TEST_CASE("a connection string holding a password is refused") {
    CHECK(conninfo_problem("host=/run/pg dbname=biz user=xnode").has_value() == false);
    CHECK(conninfo_problem("host=db password=secret").has_value());
    CHECK(conninfo_problem("host=db PASSWORD = secret").has_value());
    CHECK(conninfo_problem("postgresql://xnode:secret@db/biz").has_value());
    CHECK(conninfo_problem("postgresql://xnode@db/biz?password=secret").has_value());
    CHECK_FALSE(conninfo_problem("postgresql://xnode@db/biz").has_value());
    CHECK_FALSE(conninfo_problem("host=db passfile=/etc/xnode/pgpass").has_value());  // a file, not a secret
  }

  TEST_CASE("identifiers are quoted") {
    CHECK(quote_identifier("updated_at") == "\"updated_at\"");
    CHECK(quote_identifier("we\"ird") == "\"we\"\"ird\"");
  }

  TEST_CASE("query xor table, columns with table, a cursor") {
    auto make = [](std::initializer_list<std::pair<const char*, config::SettingValue>> values) {
      config::Settings s;
      for (auto& [k, v] : values) s.set(k, v);
      return settings_from(s);
    };
    auto text = [](std::string t) {
      config::SettingValue v;
      v.type = config::ValueType::string;
      v.is_set = true;
      v.text = std::move(t);
      return v;
    };
    auto list = [](std::vector<std::string> l) {
      config::SettingValue v;
      v.type = config::ValueType::string_list;
      v.is_set = true;
      v.list = std::move(l);
      return v;
    };
    auto map = [](std::map<std::string, std::string> m) {
      config::SettingValue v;
      v.type = config::ValueType::string_map;
      v.is_set = true;
      v.map = std::move(m);
      return v;
    };
    CHECK(make({{"conninfo", text("dbname=x")}, {"query", text("SELECT 1 AS id")}, {"cursor", list({"id"})}}).ok());
    CHECK_FALSE(make({{"conninfo", text("dbname=x")}, {"cursor", list({"id"})}}).ok());
    CHECK_FALSE(make({{"conninfo", text("dbname=x")}, {"table", text("t")}, {"cursor", list({"id"})}}).ok());
    CHECK(make({{"conninfo", text("dbname=x")}, {"table", text("t")}, {"columns", map({{"id", "id"}})}, {"cursor", list({"id"})}})
              .ok());
    CHECK_FALSE(make({{"conninfo", text("dbname=x")}, {"query", text("SELECT 1 AS id")}}).ok());
    auto with_password = make({{"conninfo", text("dbname=x password=p")}, {"query", text("SELECT 1")}, {"cursor", list({"id"})}});
    REQUIRE_FALSE(with_password.ok());
    CHECK(with_password.error().message.find("password_file") != std::string::npos);
  }
}
