#include "drivers/http/push_body.hpp"

#include "core/base/json.hpp"
#include "core/intake/ndjson_decoder.hpp"

namespace xnode::drivers::http {

PushBody decode_push_body(std::string_view body, std::size_t max_line_bytes) {
  PushBody out;
  intake::NdjsonOptions options;
  options.max_line_bytes = max_line_bytes;
  options.deletion_form = true;
  intake::NdjsonDecoder decoder(options);
  decoder.feed(body, out.records);
  decoder.finish(out.records);
  for (const auto& r : out.records)
    if (!r.ok()) out.errors.push_back({r.line, r.error});
  return out;
}

std::string error_json(std::string_view message) {
  std::string out = "{\"error\":";
  json::quote_to(out, json::valid_utf8(message) ? message : std::string_view("(not UTF-8)"));
  out += "}";
  return out;
}

std::string line_errors_json(const std::vector<LineError>& errors, std::size_t records) {
  std::string out = "{\"error\":\"bad lines: nothing of this request was stored\",\"lines\":[";
  for (std::size_t i = 0; i < errors.size() && i < kMaxListedErrors; ++i) {
    if (i) out += ',';
    out += "{\"line\":" + std::to_string(errors[i].line) + ",\"reason\":";
    json::quote_to(out, json::valid_utf8(errors[i].reason) ? std::string_view(errors[i].reason) : "(not UTF-8)");
    out += '}';
  }
  out += "],\"bad_lines\":" + std::to_string(errors.size()) + ",\"records\":" + std::to_string(records) + "}";
  return out;
}

std::string accepted_json(std::uint64_t accepted, std::uint64_t queued) {
  return "{\"accepted\":" + std::to_string(accepted) + ",\"queued\":" + std::to_string(queued) +
         ",\"not_queued\":" + std::to_string(accepted >= queued ? accepted - queued : 0) + "}";
}

}  // namespace xnode::drivers::http
