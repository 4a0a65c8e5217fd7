// The push request's body → records, and the JSON answers. Pure (the fuzz target uses it).
//
// All or nothing: a body with any line that is not a JSON object (or not UTF-8, or too long) is
// refused whole with 400 and the per-line reasons, and nothing of it is stored. The client still
// holds the request, fixes it and sends it again: no partial state to reconcile, and no risk of
// storing the good lines twice when it resends. Lines that decode but fail the catalog's checks
// are not HTTP errors: they go to the quarantine with the records of the same request (like
// spool's), and the answer counts them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/intake/decoded_record.hpp"

namespace xnode::drivers::http {

struct LineError {
  std::uint64_t line = 0;
  std::string reason;
};

struct PushBody {
  std::vector<intake::DecodedRecord> records;  // every decoded line, in order
  std::vector<LineError> errors;               // empty: the body is acceptable
};

// NDJSON (blank lines skipped, "\n" or "\r\n", `_op: delete` deletion form as in spool files).
PushBody decode_push_body(std::string_view body, std::size_t max_line_bytes);

// The errors listed in a 400 answer at most (the count says how many there were).
constexpr std::size_t kMaxListedErrors = 100;

// {"error":"…","lines":[{"line":N,"reason":"…"},…],"bad_lines":N,"records":N}
std::string line_errors_json(const std::vector<LineError>& errors, std::size_t records);
// {"error":"…"}
std::string error_json(std::string_view message);
// {"accepted":N,"queued":Q,"not_queued":N-Q}: all N records are durable; Q of them queued for the
// platform, the others quarantined by the catalog checks or not shared.
std::string accepted_json(std::uint64_t accepted, std::uint64_t queued);

}  // namespace xnode::drivers::http
