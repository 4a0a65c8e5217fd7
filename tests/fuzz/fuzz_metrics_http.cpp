// libFuzzer target: the metrics endpoint's request-head classifier on arbitrary bytes.
// Oracle: feeding the bytes in growing prefixes (as the listener reads them) never classifies a
// shorter prefix as complete with a different result than the full head; a complete head never
// extends past the input or the 8 KiB limit; the response is a well-formed HTTP/1.1 answer whose
// Content-Length matches its body (none for HEAD).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/health/metrics_http.hpp"

using namespace xnode::health;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const MetricsRequest whole = classify_metrics_request(input);
  if (whole.kind != MetricsRequestKind::incomplete && whole.kind != MetricsRequestKind::too_large) {
    check(whole.head_bytes > 0 && whole.head_bytes <= input.size() && whole.head_bytes <= metrics_max_head_bytes);
    // The head alone classifies the same: bytes after it never matter.
    const MetricsRequest head = classify_metrics_request(input.substr(0, whole.head_bytes));
    check(head.kind == whole.kind && head.head_bytes == whole.head_bytes);
  }
  // Growing prefixes: once complete, the answer is final.
  MetricsRequest first{};
  for (std::size_t n = 0; n <= input.size(); n += 7) {
    const MetricsRequest r = classify_metrics_request(input.substr(0, n));
    if (r.kind != MetricsRequestKind::incomplete) {
      first = r;
      break;
    }
  }
  if (first.kind != MetricsRequestKind::incomplete && first.kind != MetricsRequestKind::too_large &&
      whole.kind != MetricsRequestKind::too_large)
    check(first.kind == whole.kind && first.head_bytes == whole.head_bytes);

  if (whole.kind == MetricsRequestKind::incomplete) return 0;
  const std::string body = "xnode_up 1\n";
  const std::string response = metrics_response(whole.kind, body);
  check(response.starts_with("HTTP/1.1 "));
  const std::size_t end = response.find("\r\n\r\n");
  check(end != std::string::npos);
  const std::size_t cl = response.find("Content-Length: ");
  check(cl != std::string::npos && cl < end);
  const std::size_t length = std::strtoul(response.c_str() + cl + 16, nullptr, 10);
  const std::size_t sent = response.size() - end - 4;
  check(whole.kind == MetricsRequestKind::metrics_head ? sent == 0 : sent == length);
  return 0;
}
