// The transport-free form of one HTTP exchange: the server turns Beast messages into these, so
// that the protocol (PlatformService) and the admin interface are tested without sockets.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xnode::platform {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;   // "GET", "POST", "PUT", …
  std::string target;   // path with optional query, as sent
  Headers headers;
  std::string body;     // as received (possibly gzip)
  std::string peer_cn;  // client certificate subject CN (the node id); empty on the admin port
  std::string peer_ou;

  // Case-insensitive header lookup; nullptr when absent.
  const std::string* header(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  void set_header(std::string name, std::string value);
  const std::string* header(std::string_view name) const;
};

bool iequals(std::string_view a, std::string_view b);
// Decodes %XX escapes (and only those); false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out);

}  // namespace xnode::platform
