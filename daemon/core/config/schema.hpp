// Key declarations: every configuration key is declared once, here-shaped, with its type, default,
// limits and a one-line doc. The same declarations drive validation (with file:line:column errors),
// the typed Config, and the generated reference (docs/configuration.md). Drivers declare the keys of
// their `settings` the same way, as a SettingsSchema.
#pragma once
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/settings.hpp"

namespace xnode::config {

// An extra rule on a string value (or on each entry of a list of strings): returns the rule broken,
// phrased "must be …", or nullopt when the value is fine.
using ValueCheck = std::function<std::optional<std::string>(std::string_view value)>;

struct KeySpec {
  std::string name;
  ValueType type = ValueType::string;
  std::string doc;
  bool is_required = false;
  bool is_secret = false;  // may hold a credential: errors never repeat the value
  std::optional<std::string> default_text;  // as an operator would write it (`512MiB`, `30s`, `[]`)
  std::optional<std::string> min_text;      // integer, size, duration: inclusive limits
  std::optional<std::string> max_text;
  std::vector<std::string> words;           // enumeration: the allowed words
  std::size_t min_entries = 0;              // string_list, object_list
  std::string rule_doc;                     // what `check` demands, for the reference
  ValueCheck check;
  std::vector<KeySpec> children;            // object, object_list

  // Binding to the typed Config (set by the configuration's own schema; driver keys have none).
  // `assign` stores a set value into the struct at `owner`; `enter` returns the sub-struct of an
  // object; `append` adds an element for an object_list entry and returns it.
  std::function<void(void* owner, const SettingValue& value)> assign;
  std::function<void*(void* owner)> enter;
  std::function<void*(void* owner)> append;

  KeySpec& required() {
    is_required = true;
    return *this;
  }
  KeySpec& secret() {
    is_secret = true;
    return *this;
  }
  KeySpec& def(std::string text) {
    default_text = std::move(text);
    return *this;
  }
  KeySpec& at_least(std::string text) {
    min_text = std::move(text);
    return *this;
  }
  KeySpec& at_most(std::string text) {
    max_text = std::move(text);
    return *this;
  }
  KeySpec& entries_at_least(std::size_t n) {
    min_entries = n;
    return *this;
  }
  KeySpec& rule(std::string description, ValueCheck value_check) {
    rule_doc = std::move(description);
    check = std::move(value_check);
    return *this;
  }
};

KeySpec string_key(std::string name, std::string doc);
KeySpec integer_key(std::string name, std::string doc);
KeySpec bool_key(std::string name, std::string doc);
KeySpec enum_key(std::string name, std::vector<std::string> words, std::string doc);
KeySpec size_key(std::string name, std::string doc);
KeySpec duration_key(std::string name, std::string doc);
KeySpec path_key(std::string name, std::string doc);
KeySpec list_key(std::string name, std::string doc);
KeySpec map_key(std::string name, std::string doc);
KeySpec object_key(std::string name, std::string doc, std::vector<KeySpec> children);
KeySpec object_list_key(std::string name, std::string doc, std::vector<KeySpec> children);
// A mapping checked by the schema of the driver named by the sibling key `driver`.
KeySpec driver_settings_key(std::string name, std::string doc);

// The keys of one driver's `settings` mapping, e.g.
//   SettingsSchema{path_key("dir", "Directory to watch").required(),
//                  enum_key("format", {"auto", "ndjson", "csv"}, "File format").def("auto")}
class SettingsSchema {
 public:
  SettingsSchema() = default;
  SettingsSchema(std::initializer_list<KeySpec> keys) : m_keys(keys) {}
  SettingsSchema& add(KeySpec key) {
    m_keys.push_back(std::move(key));
    return *this;
  }
  const std::vector<KeySpec>& keys() const { return m_keys; }

 private:
  std::vector<KeySpec> m_keys;
};

// Driver name → the schema of its settings, supplied by whoever knows the drivers (the app).
using DriverSchemas = std::map<std::string, SettingsSchema, std::less<>>;

}  // namespace xnode::config
