#include "core/config/rules.hpp"

#include <charconv>

#include "core/base/identifiers.hpp"

namespace xnode::config {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || is_digit(c); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || text.front() == '0') return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// `host[:port]` where host is a DNS name, IPv4 or `[IPv6]`.
std::optional<HostPort> parse_authority(std::string_view text, std::optional<std::uint16_t> default_port) {
  HostPort out;
  std::string_view rest;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view host = text.substr(1, close - 1);
    if (!valid_ipv6(host)) return std::nullopt;
    out.host = std::string(host);
    out.ipv6 = true;
    rest = text.substr(close + 1);
  } else {
    const std::size_t colon = text.find(':');
    std::string_view host = text.substr(0, colon);
    if (!valid_ipv4(host) && !valid_dns_name(host)) return std::nullopt;
    out.host = std::string(host);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }
  if (rest.empty()) {
    if (!default_port) return std::nullopt;
    out.port = *default_port;
    return out;
  }
  if (rest.front() != ':') return std::nullopt;
  auto port = parse_port(rest.substr(1));
  if (!port) return std::nullopt;
  out.port = *port;
  return out;
}

}  // namespace

bool valid_node_id(std::string_view id) {
  if (id.empty() || id.size() > 63 || !is_lower_alnum(id.front())) return false;
  for (char c : id)
    if (!is_lower_alnum(c) && c != '-') return false;
  return true;
}

bool valid_source_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || !is_lower_alnum(name.front())) return false;
  for (char c : name)
    if (!is_lower_alnum(c) && c != '-' && c != '_') return false;
  return true;
}

bool valid_dns_name(std::string_view name) {
  if (name.ends_with('.')) name.remove_suffix(1);  // a fully qualified name
  if (name.empty() || name.size() > 253) return false;
  bool all_numeric = true;  // `1.2.3.4` is an address, `1.2.3` is nothing
  while (true) {
    const std::size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!is_alnum(c) && c != '-') return false;
      if (!is_digit(c)) all_numeric = false;
    }
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  return !all_numeric;
}

bool valid_ipv4(std::string_view text) {
  int parts = 0;
  while (true) {
    const std::size_t dot = text.find('.');
    std::string_view part = text.substr(0, dot);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part.front() == '0')) return false;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (ec != std::errc() || end != part.data() + part.size() || value > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  return parts == 4;
}

bool valid_ipv6(std::string_view text) {
  if (text.empty()) return false;
  int groups = 0;
  bool compressed = false;
  if (text.starts_with("::")) {
    compressed = true;
    text.remove_prefix(2);
    if (text.empty()) return true;  // `::`
  }
  while (!text.empty()) {
    const std::size_t colon = text.find(':');
    std::string_view group = text.substr(0, colon);
    if (colon == std::string_view::npos && group.find('.') != std::string_view::npos) {
      if (!valid_ipv4(group)) return false;  // embedded IPv4 tail counts as two groups
      groups += 2;
      break;
    }
    if (group.empty() || group.size() > 4) return false;
    for (char c : group)
      if (!is_hex(c)) return false;
    ++groups;
    if (colon == std::string_view::npos) break;
    text.remove_prefix(colon + 1);
    if (text.starts_with(':')) {
      if (compressed) return false;
      compressed = true;
      text.remove_prefix(1);
    } else if (text.empty()) {
      return false;  // a trailing single `:`
    }
  }
  return compressed ? groups < 8 : groups == 8;
}

bool valid_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!is_hex(c)) return false;
  return true;
}

bool valid_resource_code(std::string_view code) {
  const std::size_t slash = code.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view classification = code.substr(0, slash);
  if (classification.size() < 6 || classification.front() < '1' || classification.front() > '3') return false;
  for (char c : classification)
    if (!is_digit(c)) return false;
  std::string_view rest = code.substr(slash + 1);
  if (rest.size() != 18 + 1 + 5 || rest[18] != '-') return false;
  for (char c : rest.substr(19))
    if (!is_digit(c)) return false;
  return identifiers::valid_uscc(rest.substr(0, 18));
}

std::optional<HostPort> parse_https_url(std::string_view url) {
  constexpr std::string_view scheme = "https://";
  if (!url.starts_with(scheme)) return std::nullopt;
  url.remove_prefix(scheme.size());
  if (url.ends_with('/')) url.remove_suffix(1);
  return parse_authority(url, 443);
}

std::optional<HostPort> parse_http_proxy_url(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme)) return std::nullopt;
  url.remove_prefix(scheme.size());
  if (url.ends_with('/')) url.remove_suffix(1);
  return parse_authority(url, std::nullopt);
}

std::optional<HostPort> parse_loopback_listen(std::string_view text) {
  auto address = parse_authority(text, std::nullopt);
  if (!address) return std::nullopt;
  if (address->ipv6 ? address->host != "::1" : !(valid_ipv4(address->host) && address->host.starts_with("127.")))
    return std::nullopt;
  return address;
}

}  // namespace xnode::config
