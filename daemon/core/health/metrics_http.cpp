#include "core/health/metrics_http.hpp"

#include "core/health/prometheus.hpp"

namespace xnode::health {

namespace {

// RFC 9110 token characters (methods are tokens).
bool token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// Visible ASCII, as a request target must be.
bool target_char(char c) { return c > 0x20 && c < 0x7f; }

}  // namespace

MetricsRequest classify_metrics_request(std::string_view received, std::size_t max_head) {
  // The end of the head: the first empty line.
  std::size_t end = std::string_view::npos;
  for (std::size_t i = 0; i + 1 < received.size() && i < max_head; ++i) {
    if (received[i] != '\n') continue;
    if (received[i + 1] == '\n') {
      end = i + 2;
      break;
    }
    if (received[i + 1] == '\r' && i + 2 < received.size() && received[i + 2] == '\n') {
      end = i + 3;
      break;
    }
  }
  if (end == std::string_view::npos || end > max_head) {
    if (received.size() >= max_head) return {MetricsRequestKind::too_large, 0};
    return {MetricsRequestKind::incomplete, 0};
  }
  MetricsRequest out{MetricsRequestKind::bad_request, end};

  std::string_view line = received.substr(0, received.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // METHOD SP TARGET SP HTTP/1.x — exactly single spaces, as RFC 9112 writes it.
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return out;
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return out;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  for (char c : method)
    if (!token_char(c)) return out;
  for (char c : target)
    if (!target_char(c)) return out;
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return out;
  if (target.front() != '/') return out;  // origin form only: no proxying here

  const std::string_view path = target.substr(0, target.find('?'));
  if (method != "GET" && method != "HEAD") {
    out.kind = MetricsRequestKind::method_not_allowed;
  } else if (path != "/metrics") {
    out.kind = MetricsRequestKind::not_found;
  } else {
    out.kind = method == "GET" ? MetricsRequestKind::metrics : MetricsRequestKind::metrics_head;
  }
  return out;
}

std::string metrics_response(MetricsRequestKind kind, std::string_view body) {
  std::string_view status = "400 Bad Request";
  std::string_view type = "text/plain; charset=utf-8";
  std::string_view extra;
  std::string text;
  bool send_body = true;
  switch (kind) {
    case MetricsRequestKind::metrics:
    case MetricsRequestKind::metrics_head:
      status = "200 OK";
      type = prometheus::content_type;
      text = std::string(body);
      send_body = kind == MetricsRequestKind::metrics;
      break;
    case MetricsRequestKind::not_found:
      status = "404 Not Found";
      text = "not found: the metrics are at /metrics\n";
      break;
    case MetricsRequestKind::method_not_allowed:
      status = "405 Method Not Allowed";
      extra = "Allow: GET, HEAD\r\n";
      text = "method not allowed: use GET\n";
      break;
    case MetricsRequestKind::too_large:
      status = "431 Request Header Fields Too Large";
      text = "request head too large\n";
      break;
    case MetricsRequestKind::bad_request:
    case MetricsRequestKind::incomplete:
      text = "bad request\n";
      break;
  }
  std::string out = "HTTP/1.1 ";
  out += status;
  out += "\r\nContent-Type: ";
  out += type;
  out += "\r\nContent-Length: ";
  out += std::to_string(text.size());
  out += "\r\nCache-Control: no-store\r\nConnection: close\r\n";
  out += extra;
  out += "\r\n";
  if (send_body) out += text;
  return out;
}

}  // namespace xnode::health
