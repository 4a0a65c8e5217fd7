// PostgreSQL values (text result format, session DateStyle ISO, TimeZone UTC) to the JSON forms of
// the catalog item types (platform-api.md §4). Pure: no libpq here, so it is tested on its own.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/expected.hpp"
#include "core/base/json.hpp"

namespace xnode::drivers::postgres {

// Type OIDs of the built-in types the driver maps (pg_type.dat; stable across server versions).
namespace oid {
constexpr std::uint32_t boolean = 16, bytea = 17, name = 19, int8 = 20, int2 = 21, int4 = 23, text = 25,
                        object_id = 26, float4 = 700, float8 = 701, bpchar = 1042, varchar = 1043, date = 1082,
                        timestamp = 1114, timestamptz = 1184, numeric = 1700;
}

// One non-NULL value in its text form → JSON:
//   text, varchar, char, name → string (char's blank padding kept, as stored);
//   int2/4/8, oid → integer; numeric → number, text as written; float4/8 → number;
//   bool → boolean; date → "YYYY-MM-DD"; timestamptz → RFC 3339 (as the server gives it, UTC);
//   timestamp → RFC 3339 with `naive_offset` appended; bytea (hex output) → base64;
//   any other type → its text as a string (json, uuid, time, arrays…).
// An error when the value has no JSON form the platform takes: NaN and infinities, infinite or
// BC dates and times, years past 9999.
Expected<json::Value> to_json(std::uint32_t type_oid, std::string_view text, std::string_view naive_offset);

}  // namespace xnode::drivers::postgres
