#include "drivers/postgres/pg_values.hpp"

#include <cctype>

#include "core/base/sha256.hpp"
#include "core/base/time.hpp"

namespace xnode::drivers::postgres {
namespace {

bool digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// ISO date "YYYY-MM-DD"; anything else (BC suffix, infinity, 5-digit years) is refused.
Expected<std::string> iso_date(std::string_view text) {
  if (text.size() != 10 || !valid_date(text)) return make_error("date " + std::string(text) + " has no YYYY-MM-DD form");
  return std::string(text);
}

// "YYYY-MM-DD HH:MM:SS[.ffffff]" then, for timestamptz, "+HH[:MM[:SS]]".
Expected<std::string> iso_timestamp(std::string_view text, bool with_zone, std::string_view naive_offset) {
  const auto bad = [&] { return make_error("timestamp " + std::string(text) + " has no RFC 3339 form"); };
  if (text.size() < 19 || text[10] != ' ' || text[13] != ':' || text[16] != ':') return bad();
  auto date = iso_date(text.substr(0, 10));
  if (!date) return date.error();
  std::size_t i = 19;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == 20) return bad();
  }
  std::string out(text.substr(0, i));
  out[10] = 'T';
  if (!digits(out.substr(11, 2)) || !digits(out.substr(14, 2)) || !digits(out.substr(17, 2))) return bad();
  std::string_view zone = text.substr(i);
  if (!with_zone) {
    if (!zone.empty()) return bad();
    out += naive_offset;
    return out;
  }
  // The session runs with TimeZone UTC, so the zone is "+00"; other offsets are still read right.
  if (zone.size() < 3 || (zone[0] != '+' && zone[0] != '-') || !digits(zone.substr(1, 2))) return bad();
  std::string minutes = "00";
  if (zone.size() >= 6 && zone[3] == ':' && digits(zone.substr(4, 2))) minutes = std::string(zone.substr(4, 2));
  if (zone.size() > 6 && zone.substr(6) != ":00") return bad();  // second offsets: RFC 3339 has none
  if (zone.size() != 3 && zone.size() != 6 && zone.size() != 9) return bad();
  if (zone.substr(1, 2) == "00" && minutes == "00")
    out += 'Z';
  else
    out += std::string(zone.substr(0, 3)) + ":" + minutes;
  return out;
}

bool json_number(std::string_view s) {
  // What json::parse accepts as a number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  if (s[i] == '0')
    ++i;
  else
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  return i == s.size();
}

}  // namespace

Expected<json::Value> to_json(std::uint32_t type_oid, std::string_view text, std::string_view naive_offset) {
  switch (type_oid) {
    case oid::boolean:
      if (text == "t") return json::Value(true);
      if (text == "f") return json::Value(false);
      return make_error("boolean " + std::string(text) + " is neither t nor f");
    case oid::int2:
    case oid::int4:
    case oid::int8:
    case oid::object_id:
      if (!json_number(text)) return make_error("integer " + std::string(text) + " is not a number");
      return json::Value::number_text(std::string(text));
    case oid::numeric:
    case oid::float4:
    case oid::float8:
      // NaN and ±Infinity have no JSON form; the row cannot travel as it is.
      if (!json_number(text)) return make_error("number " + std::string(text) + " has no JSON form");
      return json::Value::number_text(std::string(text));
    case oid::date: {
      auto d = iso_date(text);
      if (!d) return d.error();
      return json::Value(std::move(d).value());
    }
    case oid::timestamp:
    case oid::timestamptz: {
      auto t = iso_timestamp(text, type_oid == oid::timestamptz, naive_offset);
      if (!t) return t.error();
      return json::Value(std::move(t).value());
    }
    case oid::bytea: {
      // bytea_output = hex (set by the driver): "\x" then two hex digits a byte.
      if (text.size() < 2 || text[0] != '\\' || text[1] != 'x') return make_error("bytea value not in hex output form");
      std::string bytes;
      if (!from_hex(text.substr(2), bytes)) return make_error("bytea value with bad hex digits");
      return json::Value(base64_encode(bytes));
    }
    default:
      return json::Value(std::string(text));
  }
}

}  // namespace xnode::drivers::postgres
