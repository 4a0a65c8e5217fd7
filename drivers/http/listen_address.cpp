#include "drivers/http/listen_address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace xnode::drivers::http {
namespace {

// 127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 (RFC 1918).
bool ipv4_allowed(const unsigned char a[4]) {
  return a[0] == 127 || a[0] == 10 || (a[0] == 172 && (a[1] & 0xF0) == 16) || (a[0] == 192 && a[1] == 168);
}

// ::1 and unique local addresses fc00::/7 (RFC 4193), the IPv6 counterpart of RFC 1918.
bool ipv6_allowed(const unsigned char a[16]) {
  static const unsigned char loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (std::memcmp(a, loopback, 16) == 0) return true;
  return (a[0] & 0xFE) == 0xFC;
}

}  // namespace

Expected<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return make_error("must be host:port or [ipv6]:port");
    out.host = std::string(text.substr(1, close - 1));
    out.ipv6 = true;
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return make_error("must be host:port or [ipv6]:port");
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
    return make_error("must end in a port number 1-65535");
  out.port = static_cast<std::uint16_t>(port);

  unsigned char bytes[16];
  if (out.ipv6) {
    if (inet_pton(AF_INET6, out.host.c_str(), bytes) != 1) return make_error("must be a literal IPv6 address in brackets");
    if (!ipv6_allowed(bytes)) return make_error("must be ::1 or a unique local address fc00::/7 (never the extranet side)");
  } else {
    if (inet_pton(AF_INET, out.host.c_str(), bytes) != 1)
      return make_error("must be a literal IPv4 address (no host names)");
    if (!ipv4_allowed(bytes))
      return make_error("must be loopback 127.0.0.0/8 or a private LAN address 10/8, 172.16/12, 192.168/16 (never the extranet side)");
  }
  return out;
}

std::optional<std::string> listen_address_problem(std::string_view text) {
  auto parsed = parse_listen_address(text);
  if (!parsed) return parsed.error().message;
  return std::nullopt;
}

}  // namespace xnode::drivers::http
