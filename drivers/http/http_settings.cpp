#include "drivers/http/http_settings.hpp"

#include <fstream>

#include "io/sys/files.hpp"

namespace xnode::drivers::http {

config::SettingsSchema settings_schema() {
  using namespace xnode::config;
  return SettingsSchema{
      string_key("listen",
                 "Address the push listener binds, host:port or [ipv6]:port; one listener per source, so "
                 "each http source needs its own port")
          .def("127.0.0.1:8471")
          .rule("loopback or a private LAN address (never the extranet side)",
                [](std::string_view v) { return listen_address_problem(v); }),
      path_key("token_file",
               "File holding the source's bearer token (first line); must not be readable by group or others")
          .required(),
      size_key("max_request_bytes", "Largest request body taken (as sent and after gzip decoding); larger: 413")
          .def("8MiB")
          .at_least("1KiB")
          .at_most("256MiB"),
      size_key("max_header_bytes", "Largest request line + headers taken; larger: 431").def("16KiB").at_least("1KiB").at_most("1MiB"),
      integer_key("max_connections",
                  "Connections open at once; more are closed at once (each may buffer max_request_bytes)")
          .def("16")
          .at_least("1")
          .at_most("4096"),
      size_key("max_line_bytes", "Longest NDJSON line taken; longer: 400").def("1MiB").at_least("1KiB").at_most("64MiB"),
      duration_key("idle_timeout", "A connection with no complete request for this long is closed")
          .def("30s")
          .at_least("1s")
          .at_most("1h"),
      path_key("tls_cert", "TLS on the listener: the server certificate (chain), PEM; with tls_key and tls_client_ca"),
      path_key("tls_key", "TLS on the listener: the private key, PEM, not readable by group or others"),
      path_key("tls_client_ca", "TLS on the listener: CAs whose client certificates are accepted (mutual TLS)"),
      duration_key("idempotency_window", "How long an Idempotency-Key and its answer are remembered (across restarts)")
          .def("24h")
          .at_least("1m")
          .at_most("30d"),
      integer_key("idempotency_max_keys", "Keys remembered at most per source; beyond, the oldest are forgotten early")
          .def("100000")
          .at_least("100")
          .at_most("10000000"),
  };
}

Expected<HttpSettings> settings_from(const config::Settings& settings) {
  HttpSettings out;
  if (settings.has("listen")) {
    auto listen = parse_listen_address(settings.get_string("listen"));
    if (!listen) return make_error("settings.listen: " + listen.error().message);
    out.listen = std::move(listen).value();
  }
  if (!settings.has("token_file") || settings.get_string("token_file").empty())
    return make_error("settings.token_file: required");
  out.token_file = settings.get_string("token_file");
  if (settings.has("max_request_bytes")) out.max_request_bytes = static_cast<std::size_t>(settings.get_size("max_request_bytes"));
  if (settings.has("max_header_bytes")) out.max_header_bytes = static_cast<std::size_t>(settings.get_size("max_header_bytes"));
  if (settings.has("max_connections")) out.max_connections = static_cast<std::size_t>(settings.get_int("max_connections"));
  if (settings.has("max_line_bytes")) out.max_line_bytes = static_cast<std::size_t>(settings.get_size("max_line_bytes"));
  if (settings.has("idle_timeout")) out.idle_timeout = settings.get_duration("idle_timeout");
  if (settings.has("tls_cert")) out.tls_cert = settings.get_string("tls_cert");
  if (settings.has("tls_key")) out.tls_key = settings.get_string("tls_key");
  if (settings.has("tls_client_ca")) out.tls_client_ca = settings.get_string("tls_client_ca");
  if (settings.has("idempotency_window")) out.idempotency_window = settings.get_duration("idempotency_window");
  if (settings.has("idempotency_max_keys"))
    out.idempotency_max_keys = static_cast<std::size_t>(settings.get_int("idempotency_max_keys"));
  const int tls_set = !out.tls_cert.empty() + !out.tls_key.empty() + !out.tls_client_ca.empty();
  if (tls_set != 0 && tls_set != 3)
    return make_error("settings: tls_cert, tls_key and tls_client_ca go together (TLS on the listener is mutual TLS)");
  if (out.max_connections == 0) return make_error("settings.max_connections: must be at least 1");
  if (out.idle_timeout.count() <= 0) return make_error("settings.idle_timeout: must be positive");
  if (out.idempotency_window.count() <= 0) return make_error("settings.idempotency_window: must be positive");
  return out;
}

Expected<std::string> read_token_file(const std::string& path) {
  if (auto secret = io::check_private_file("token_file", path); !secret) return secret.error();
  std::ifstream in(path);
  if (!in) return make_error("token_file " + path + ": cannot open");
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
  if (line.size() < 16) return make_error("token_file " + path + ": the token must be at least 16 characters");
  for (unsigned char c : line)
    if (c < 0x21 || c > 0x7E) return make_error("token_file " + path + ": the token must be printable ASCII without spaces");
  return line;
}

}  // namespace xnode::drivers::http
