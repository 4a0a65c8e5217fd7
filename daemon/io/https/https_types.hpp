// What the HTTPS client takes and returns. No Beast here: this header is cheap to include.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/error_code.hpp>

#include "core/base/expected.hpp"

namespace xnode::tls {
class TlsConfig;
}

namespace xnode::https {

// An endpoint or proxy URL: scheme://host[:port][/base-path].
struct Url {
  std::string scheme;  // "https" or "http"
  std::string host;    // without brackets for IPv6 literals
  std::uint16_t port = 0;
  std::string base_path;  // "" or "/prefix" (no trailing slash); prepended to request targets
  std::string text() const;  // scheme://host:port/base
  std::string host_port() const;  // host:port as in Host and CONNECT (IPv6 in brackets)
};
Expected<Url> parse_url(const std::string& text);

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";  // GET, POST, PUT
  std::string target;          // "/xep/v1/hello", relative to the endpoint's base path
  Headers headers;
  std::string body;
  // Sent instead of `body` when set: a body shared with its owner (the uplink session keeps each
  // batch to split or resend it), so that a batch of up to max_batch_bytes is not copied on its
  // way to the socket; every copy of it alive at once counts in the daemon's peak RSS.
  std::shared_ptr<const std::string> shared_body;
  bool gzip = false;  // send the body with Content-Encoding: gzip
  std::string_view body_text() const { return shared_body ? std::string_view(*shared_body) : std::string_view(body); }
};

// Which part of the path failed, for the health report's errors_24h (XEP/1 §3.5).
enum class ErrorClass { none, dns, connect, tls, timeout, http };
const char* error_class_name(ErrorClass c);

struct Response {
  unsigned status = 0;
  Headers headers;
  std::string body;
  // Case-insensitive header lookup; empty when absent.
  std::string header(const std::string& name) const;

  // Filled on failure (the handler's error_code is set): what failed, in words an operator can act
  // on, e.g. "connect to https://10.1.2.3:8443: Connection refused".
  ErrorClass error_class = ErrorClass::none;
  std::string error_detail;
  std::string endpoint;  // the endpoint that answered (or was tried last)
};

struct ClientOptions {
  // Platform base URLs in order of preference: on a connect or handshake failure the next is tried,
  // and the one that works is used first from then on.
  std::vector<std::string> endpoints;
  // Optional HTTP CONNECT proxy "http://host:port"; TLS runs end-to-end through the tunnel.
  std::string proxy;
  // TLS policy for https endpoints (required for them; unused for http:// endpoints in tests).
  std::shared_ptr<tls::TlsConfig> tls;
  std::chrono::milliseconds connect_timeout{10000};  // DNS + TCP connect + proxy CONNECT
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds read_timeout{30000};  // until the whole response has arrived
  std::uint64_t body_limit = 16 * 1024 * 1024;    // larger responses fail with ErrorClass::http
  std::string user_agent = "xnode";
  // health.probe_interval: TCP keep-alive finds a silent peer of an idle connection within it
  // (liveness.hpp); 0 turns keep-alive off.
  std::chrono::milliseconds liveness_interval{0};
};

struct ClientStats {
  std::string endpoint;  // the endpoint in use (or last used)
  bool connection_open = false;
  std::chrono::milliseconds last_handshake{0};
  bool last_session_resumed = false;
  std::uint64_t connections_opened = 0;
  std::uint64_t reconnects = 0;  // connections opened after the first one
  std::uint64_t retries = 0;     // requests resent on a fresh connection after a reused one failed
  std::uint64_t failovers = 0;   // times an endpoint other than the preferred one was used
  ErrorClass last_error_class = ErrorClass::none;
  std::string last_error;
};

// The client's own error conditions (others come from the OS, Beast or the TLS layer).
enum class HttpsErrc {
  no_endpoints = 1,
  bad_endpoint,
  proxy_refused,
  client_closed,
};
const boost::system::error_category& https_category();
inline boost::system::error_code make_error_code(HttpsErrc e) { return {static_cast<int>(e), https_category()}; }

// Best-effort class of a bare error_code (the Response's error_class, which knows the phase, is
// more precise).
ErrorClass classify(const boost::system::error_code& ec);

// gzip (RFC 1952) of `data`, for Content-Encoding: gzip request bodies.
std::string gzip_compress(std::string_view data, int level = 6);
// Inverse, bounded: fails when the output would exceed `limit` bytes. For tests and the platform.
Expected<std::string> gzip_decompress(const std::string& data, std::size_t limit);

}  // namespace xnode::https

namespace boost::system {
template <>
struct is_error_code_enum<xnode::https::HttpsErrc> : std::true_type {};
}  // namespace boost::system
