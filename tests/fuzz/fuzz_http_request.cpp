// libFuzzer target: the HTTP push listener's request parser and what the driver does with a
// complete request (route, bearer check, Idempotency-Key check, NDJSON body decoding).
// Oracle: parsing the same bytes in chunks (sizes from the first input byte) ends in the same
// state with the same request as one-piece parsing. Invariants: limits hold (header, body), a
// complete request's body never exceeds the limit, an error carries a 4xx/5xx status.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "drivers/http/http_request.hpp"
#include "drivers/http/push_body.hpp"

using namespace xnode::drivers::http;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

constexpr HttpLimits kLimits{512, 4096};

RequestParser parse(std::string_view input, std::size_t step, std::size_t& used) {
  RequestParser p(kLimits);
  used = 0;
  while (used < input.size() && (p.state() == RequestParser::State::headers || p.state() == RequestParser::State::body)) {
    const std::size_t n = std::min(step, input.size() - used);
    const std::size_t took = p.feed(input.substr(used, n));
    check(took <= n);
    used += took;
    if (took < n && (p.state() == RequestParser::State::headers || p.state() == RequestParser::State::body)) std::abort();
  }
  if (p.state() == RequestParser::State::body) p.feed({});
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 17;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::size_t used_whole = 0, used_chunked = 0;
  RequestParser whole = parse(input, input.size() + 1, used_whole);
  RequestParser chunked = parse(input, step, used_chunked);
  check(whole.state() == chunked.state());
  if (whole.state() == RequestParser::State::error) {
    check(whole.error_status() == chunked.error_status());
    check(whole.error_status() >= 400 && whole.error_status() < 600);
    return 0;
  }
  if (whole.state() != RequestParser::State::complete) return 0;
  check(used_whole == used_chunked);
  const HttpRequest& a = whole.request();
  const HttpRequest& b = chunked.request();
  check(a.method == b.method && a.target == b.target && a.body == b.body && a.headers == b.headers);
  check(a.body.size() <= kLimits.max_body_bytes);

  const std::string source = records_route(a.target);
  check(source.size() <= 128);
  if (const std::string* auth = a.header("authorization")) (void)bearer_matches(*auth, "0123456789abcdef");
  if (const std::string* key = a.header("idempotency-key")) (void)idempotency_key_problem(*key);
  PushBody body = decode_push_body(a.body, 256);
  for (const auto& e : body.errors) check(e.line >= 1);
  (void)line_errors_json(body.errors, body.records.size());
  (void)make_response(200, accepted_json(body.records.size(), body.records.size()), a.keep_alive);
  return 0;
}
