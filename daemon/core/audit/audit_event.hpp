// One event of the hash-chained audit trail (platform-api.md §3.6, domain.md Art. 41, Ext. 16).
//
// hash = lower-case hex SHA-256 of the RFC 8785 canonical JSON of the event without its `hash`
// member. Events hold strings, integers, booleans, null, objects and arrays — never fractional
// numbers (their canonical text depends on float formatting, which a verifier elsewhere might do
// differently), and integers only within ±(2^53−1) so that every RFC 8785 implementation writes
// them the same way.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/expected.hpp"
#include "core/base/json.hpp"
#include "core/base/time.hpp"

namespace xnode::audit {

// 64 zeros: the `prev` of event 1.
inline const std::string genesis_prev(64, '0');

// What a caller records; the chain adds seq, at, prev and hash.
struct AuditEntry {
  std::string actor;
  std::string action;
  std::string object;
  std::string result;
  json::Value detail = json::Value::object();
};

struct AuditEvent {
  std::int64_t seq = 0;
  std::string at;  // RFC 3339
  std::string actor;
  std::string action;
  std::string object;
  std::string result;
  json::Value detail = json::Value::object();
  std::string prev;
  std::string hash;

  friend bool operator==(const AuditEvent&, const AuditEvent&) = default;
};

// The entry for an operator command given through xnodectl: actor "uid:<uid>", detail.uid.
AuditEntry operator_command(std::uint32_t uid, std::string command, std::string result,
                            json::Value detail = json::Value::object());

// Checks what the hash relies on: text fields valid UTF-8, `at` RFC 3339, detail an object whose
// numbers are all integers within ±(2^53−1). Errors name the offending member ("detail.rate").
Expected<void> check_values(const AuditEvent& event);

// The canonical JSON text the hash is computed over (the event without `hash`).
std::string canonical_unhashed(const AuditEvent& event);
// Hex SHA-256 of canonical_unhashed(event). Does not check values: call check_values first.
std::string compute_hash(const AuditEvent& event);

// The wire/export form: one JSON object, members in §3.6 order, with `hash`.
json::Value to_json(const AuditEvent& event);
// One NDJSON line (no trailing newline): compact JSON, members in §3.6 order.
std::string to_line(const AuditEvent& event);
// Reads an event from its JSON form; every member required, no others allowed.
Expected<AuditEvent> from_json(const json::Value& value);
Expected<AuditEvent> parse_line(std::string_view line);

// True when `s` is 64 lower-case hex digits.
bool is_hash_text(std::string_view s);

}  // namespace xnode::audit
