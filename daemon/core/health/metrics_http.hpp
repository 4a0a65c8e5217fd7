// The metrics endpoint's HTTP/1.x request head, read from an untrusted local client (issue #5).
// Only the request line matters: GET or HEAD of /metrics is served, any other path is 404, any
// other method 405, anything malformed 400, a head that does not end within the limit 431. Pure:
// the listener (app/metrics_endpoint) feeds it the bytes it has read so far.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace xnode::health {

enum class MetricsRequestKind {
  incomplete,          // no end of the head yet: read more
  metrics,             // GET /metrics (a query string is ignored)
  metrics_head,        // HEAD /metrics
  not_found,           // a valid request for another path
  method_not_allowed,  // a valid request with another method
  bad_request,         // not an HTTP/1.x request line
  too_large,           // no end of head within the limit
};

struct MetricsRequest {
  MetricsRequestKind kind = MetricsRequestKind::incomplete;
  std::size_t head_bytes = 0;  // where the head ends (when complete)
};

inline constexpr std::size_t metrics_max_head_bytes = 8192;

// Classifies the bytes received so far. A head ends at the first empty line (CRLF CRLF, or a bare
// LF LF as tolerant servers accept). Never reads past `received`.
MetricsRequest classify_metrics_request(std::string_view received, std::size_t max_head = metrics_max_head_bytes);

// The whole response for a classified request (kind != incomplete): status line, Content-Type,
// Content-Length, Connection: close, and for `metrics` the body. For `metrics_head` the headers
// of the body without it. `Allow: GET, HEAD` with 405.
std::string metrics_response(MetricsRequestKind kind, std::string_view body);

}  // namespace xnode::health
