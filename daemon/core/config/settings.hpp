// Settings: a validated, typed value map that remembers where each value came from (file line and
// column, or the schema default). The configuration loader produces one for every object it checks;
// drivers receive theirs (`sources[].settings`) already checked against the schema they declared,
// so a driver reads typed values and can still point an operator at the line of a bad value.
#pragma once
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xnode::config {

// 1-based line and column in the configuration file; line 0 when the value is a schema default.
struct Position {
  int line = 0;
  int column = 0;
  bool known() const { return line > 0; }
  friend bool operator==(const Position&, const Position&) = default;
};

enum class ValueType : std::uint8_t {
  string,
  integer,
  boolean,
  enumeration,
  size,      // bytes, written with a unit (`512MiB`)
  duration,  // written with a unit (`30s`)
  path,      // resolved against the configuration file's directory
  string_list,
  string_map,
  object,           // a mapping of declared keys
  object_list,      // a list of such mappings
  driver_settings,  // a mapping checked by the schema of the driver named beside it
};

std::string_view type_name(ValueType type);

class Settings;

struct SettingValue {
  ValueType type = ValueType::string;
  bool is_set = false;      // false: an optional key without default that the file leaves out
  bool is_default = false;  // true: the value is the schema's default
  Position position;        // of the value in the file (of the enclosing mapping for defaults)
  std::string text;         // string, enumeration, path (resolved); the raw text for the others
  std::int64_t integer = 0;
  bool boolean = false;
  std::uint64_t bytes = 0;
  std::chrono::milliseconds duration{0};
  std::vector<std::string> list;
  std::vector<Position> list_positions;  // one per entry of `list` or `objects`
  std::map<std::string, std::string> map;
  std::vector<Settings> objects;  // object and driver_settings: one; object_list: one per entry
};

class Settings {
 public:
  Settings() = default;
  explicit Settings(Position position) : m_position(position) {}

  // Where the mapping itself starts.
  Position position() const { return m_position; }

  // True when `key` has a value (from the file or a default).
  bool has(std::string_view key) const;
  // The value of a declared key (also when not set); nullptr for a key the schema does not declare.
  const SettingValue* find(std::string_view key) const;
  // Position of the value, or of the mapping when the value is a default or absent.
  Position position_of(std::string_view key) const;

  // Typed getters. A key left out (optional, no default) gives an empty/zero value — use has().
  // Asking for an undeclared key or with the wrong type is a defect of the caller and throws
  // std::logic_error, which a driver's unit tests catch at once.
  const std::string& get_string(std::string_view key) const;  // string, enumeration or path
  std::int64_t get_int(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  std::uint64_t get_size(std::string_view key) const;
  std::chrono::milliseconds get_duration(std::string_view key) const;
  const std::vector<std::string>& get_list(std::string_view key) const;
  const std::map<std::string, std::string>& get_map(std::string_view key) const;
  const Settings& get_object(std::string_view key) const;
  const std::vector<Settings>& get_objects(std::string_view key) const;

  // Declared keys in schema order.
  const std::vector<std::pair<std::string, SettingValue>>& entries() const { return m_entries; }
  void set(std::string key, SettingValue value);

 private:
  const SettingValue& typed(std::string_view key, std::initializer_list<ValueType> types) const;

  Position m_position;
  std::vector<std::pair<std::string, SettingValue>> m_entries;
};

// True when both hold the same keys with the same values; positions are ignored, so a reload that
// only moved lines around does not count as a change (a driver need not restart).
bool same_values(const Settings& a, const Settings& b);
bool same_values(const SettingValue& a, const SettingValue& b);

}  // namespace xnode::config
