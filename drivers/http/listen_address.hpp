// The push listener's address: `host:port` with a literal IPv4 address or a bracketed IPv6 one.
// Only loopback and private-LAN addresses are taken: the node sits between the department's LAN and
// the government extranet, and the push intake must never be reachable from the extranet side (an
// address there would let anything on the extranet try tokens). Host names are refused too: what
// they resolve to can change after the check. Pure (no Asio).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/expected.hpp"

namespace xnode::drivers::http {

struct ListenAddress {
  std::string host;  // the literal address, without brackets
  std::uint16_t port = 0;
  bool ipv6 = false;
};

// Parses and checks `host:port` / `[v6]:port`; the error says what is wrong ("must be …").
Expected<ListenAddress> parse_listen_address(std::string_view text);

// nullopt when `text` is acceptable, else the reason (for the settings schema's rule).
std::optional<std::string> listen_address_problem(std::string_view text);

}  // namespace xnode::drivers::http
