// Value rules shared by the configuration schema and by the modules that use the values: the uplink
// parses the endpoint and proxy URLs with the same functions that validated them.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xnode::config {

struct HostPort {
  std::string host;  // DNS name, dotted IPv4, or IPv6 without brackets
  std::uint16_t port = 0;
  bool ipv6 = false;
};

// `[a-z0-9][a-z0-9-]{0,62}` — the node id, also the client certificate's CN.
bool valid_node_id(std::string_view id);
// `[a-z0-9][a-z0-9_-]*`, at most 64 characters.
bool valid_source_name(std::string_view name);
// A DNS host name: dot-separated labels of letters, digits and `-` (not at either end), each 1–63
// characters, 253 in all.
bool valid_dns_name(std::string_view name);
bool valid_ipv4(std::string_view text);
bool valid_ipv6(std::string_view text);
// 64 hex digits (either case).
bool valid_sha256_hex(std::string_view text);
// `<classification code>/<provider USCC>-<5 digits>`, classification code = class digit 1–3,
// 2-digit item, 3-digit sub, optional detail digits; the USCC passes GB 32100.
bool valid_resource_code(std::string_view code);

// `https://host[:port]` with an optional trailing `/`; port 443 when left out.
std::optional<HostPort> parse_https_url(std::string_view url);
// `http://host:port` (a CONNECT proxy has no usual port, so it must be written).
std::optional<HostPort> parse_http_proxy_url(std::string_view url);
// `127.x.x.x:port` or `[::1]:port` — a metrics endpoint must never face the extranet.
std::optional<HostPort> parse_loopback_listen(std::string_view text);

}  // namespace xnode::config
