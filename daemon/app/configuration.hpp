// Everything the daemon needs to run, checked as a whole before any of it is used: the YAML
// configuration, the catalog slice it points at, the sources' resources, and the TLS files.
// `xnoded --check-config`, the start, and every reload go through check_configuration(), so a
// bad push is refused the same way wherever it comes from and the old configuration stays.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog/resource.hpp"
#include "core/config/config.hpp"
#include "io/tls/tls_config.hpp"

namespace xnode::app {

struct CheckedConfiguration {
  std::optional<config::Config> config;  // set only when everything is valid
  catalog::Slice slice;
  std::string path;
  std::string sha256;  // of the configuration file's bytes
  std::int64_t version = 0;
  std::vector<std::string> errors;    // one a line, each naming file:line:col where known
  std::vector<std::string> warnings;  // valid, but an operator should know
  bool ok() const { return config.has_value(); }
};

// The uplink's client TLS policy from the configuration (used by the check and by the daemon).
tls::TlsSettings uplink_tls_settings(const config::UplinkConfig& uplink);

// `check_tls_files`: also load the CA, certificate, key (mode checked) and CRL.
CheckedConfiguration check_configuration(const std::string& path, bool check_tls_files = true);

// The same checks on configuration text meant to become the file at `path` (a pushed
// configuration is checked before it replaces the file; relative paths resolve as in that file).
CheckedConfiguration check_configuration_text(std::string_view text, const std::string& path,
                                              bool check_tls_files = true);

}  // namespace xnode::app
