// The engine that checks a YAML tree against key declarations and turns it into Settings, collecting
// every problem as a diagnostic (position, key path, rule broken) instead of stopping at the first.
// Internal to core/config: the loader and its tests use it; other modules call the loader.
#pragma once
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/config/schema.hpp"
#include "core/config/settings.hpp"

namespace xnode::config {

struct Diagnostic {
  Position position;
  std::string key_path;  // `queue.max_bytes`, `sources[2].settings.dir`; empty for file-level errors
  std::string rule;      // `must be at least 16MiB (got 1MiB)`
};

class Diagnostics {
 public:
  void add(Position position, std::string key_path, std::string rule);
  bool empty() const { return m_items.empty(); }
  std::size_t size() const { return m_items.size(); }
  // `file:line:col: key: rule` lines in file order (stable for equal positions).
  std::vector<std::string> format(const std::string& display_name) const;

 private:
  std::vector<Diagnostic> m_items;
};

class Validator {
 public:
  // Relative paths are resolved against `base_dir` (left relative when it is empty).
  Validator(std::string base_dir, const DriverSchemas& drivers, Diagnostics& diagnostics)
      : m_base_dir(std::move(base_dir)), m_drivers(drivers), m_diagnostics(diagnostics) {}

  // Checks `node` (a mapping, or null/undefined for an empty one) against `keys`. `path` is the
  // key path of the mapping (empty at top level); `where` is reported for keys that are missing.
  Settings mapping(const YAML::Node& node, const std::vector<KeySpec>& keys, const std::string& path,
                   Position where);

 private:
  SettingValue value(const YAML::Node& node, const KeySpec& key, const std::string& path, Position key_position);
  bool scalar(const std::string& text, const KeySpec& key, const std::string& path, Position position,
              SettingValue& out);
  SettingValue default_value(const KeySpec& key, Position where);
  SettingValue driver_settings(const YAML::Node& node, const Settings& siblings, const std::string& path,
                               Position where);
  std::string resolve_path(const std::string& path) const;

  std::string m_base_dir;
  const DriverSchemas& m_drivers;
  Diagnostics& m_diagnostics;
};

// Stores the set values of `settings` into the struct at `owner` through the keys' bindings.
void apply_bindings(const std::vector<KeySpec>& keys, const Settings& settings, void* owner);

// The position of a YAML node, 1-based; `fallback` when the node carries none.
Position position_of(const YAML::Node& node, Position fallback);

// Joins a key path: `join("queue", "max_bytes")` → `queue.max_bytes`.
std::string join_path(const std::string& parent, const std::string& key);

}  // namespace xnode::config
