// The HTTP push driver's settings: what a source's `settings:` mapping may hold, and the typed form.
#pragma once
#include <chrono>
#include <cstddef>
#include <string>

#include "core/base/expected.hpp"
#include "core/config/schema.hpp"
#include "core/config/settings.hpp"
#include "drivers/http/listen_address.hpp"

namespace xnode::drivers::http {

struct HttpSettings {
  ListenAddress listen{"127.0.0.1", 8471, false};
  std::string token_file;
  std::size_t max_request_bytes = 8u << 20;  // the body as sent (compressed or not) and as decoded
  std::size_t max_header_bytes = 16u << 10;
  std::size_t max_connections = 16;
  std::size_t max_line_bytes = 1u << 20;
  std::chrono::milliseconds idle_timeout{30000};
  // TLS on the listener: all three or none. The project's TLS policy always verifies the peer, so
  // a TLS listener is mutual TLS: clients present a certificate from tls_client_ca.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::chrono::milliseconds idempotency_window{std::chrono::hours(24)};
  std::size_t idempotency_max_keys = 100000;

  bool tls() const { return !tls_cert.empty(); }
};

config::SettingsSchema settings_schema();
// Reads checked settings (missing keys fall back to the defaults above).
Expected<HttpSettings> settings_from(const config::Settings& settings);

// The token: the first line of `path`, which must not be readable by group or others (like the
// uplink key) and must not be empty.
Expected<std::string> read_token_file(const std::string& path);

}  // namespace xnode::drivers::http
