// Loading xnode.yaml: parse, check every key against the schema (collecting all errors, each as
// `file:line:col: key.path: rule`), run the cross-field rules, and fill the typed Config.
// Used by xnoded at start, by `xnoded --check-config`, and for pushed configurations (platform-api
// §3.7): the caller keeps running on its current Config whenever `config` comes back empty.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.hpp"
#include "core/config/schema.hpp"
#include "core/config/settings.hpp"

namespace xnode::config {

// A configuration is a few kilobytes; a pushed one far larger than this is a defect or an attack.
inline constexpr std::size_t kMaxConfigBytes = 1024 * 1024;

struct LoadResult {
  std::optional<Config> config;     // set when the file is valid
  std::vector<std::string> errors;  // `file:line:col: key.path: rule`, in file order
  std::string sha256;               // hex SHA-256 of the file bytes (hello, health: config.sha256)
  std::optional<std::int64_t> version;  // top-level `version`, when it could be read (also when invalid)
  bool ok() const { return config.has_value(); }
};

// Reads and checks the file at `path`. Relative paths inside are resolved against the file's
// directory; errors name the file as `path` is written.
LoadResult load_config_file(const std::string& path, const DriverSchemas& drivers);

// Checks configuration text. `display_name` names it in errors; relative paths inside are resolved
// against `base_dir`, or against display_name's directory when base_dir is empty.
LoadResult load_config_text(std::string_view text, const std::string& display_name, const DriverSchemas& drivers,
                            const std::string& base_dir = {});

struct SettingsResult {
  std::optional<Settings> settings;
  std::vector<std::string> errors;
  bool ok() const { return settings.has_value(); }
};

// Checks a YAML mapping against one driver's schema on its own — for drivers' unit tests and tools.
SettingsResult load_settings_text(std::string_view text, const std::string& display_name,
                                  const SettingsSchema& schema, const std::string& base_dir = {});

}  // namespace xnode::config
