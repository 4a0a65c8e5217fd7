#include "core/config/settings.hpp"

#include <algorithm>
#include <stdexcept>

namespace xnode::config {

std::string_view type_name(ValueType type) {
  switch (type) {
    case ValueType::string: return "string";
    case ValueType::integer: return "integer";
    case ValueType::boolean: return "bool";
    case ValueType::enumeration: return "enum";
    case ValueType::size: return "size";
    case ValueType::duration: return "duration";
    case ValueType::path: return "path";
    case ValueType::string_list: return "list of strings";
    case ValueType::string_map: return "map of strings";
    case ValueType::object: return "mapping";
    case ValueType::object_list: return "list of mappings";
    case ValueType::driver_settings: return "driver settings";
  }
  return "?";
}

bool Settings::has(std::string_view key) const {
  const SettingValue* value = find(key);
  return value != nullptr && value->is_set;
}

const SettingValue* Settings::find(std::string_view key) const {
  auto it = std::find_if(m_entries.begin(), m_entries.end(), [&](const auto& e) { return e.first == key; });
  return it == m_entries.end() ? nullptr : &it->second;
}

Position Settings::position_of(std::string_view key) const {
  const SettingValue* value = find(key);
  if (value == nullptr || !value->position.known()) return m_position;
  return value->position;
}

void Settings::set(std::string key, SettingValue value) {
  for (auto& entry : m_entries) {
    if (entry.first == key) {
      entry.second = std::move(value);
      return;
    }
  }
  m_entries.emplace_back(std::move(key), std::move(value));
}

const SettingValue& Settings::typed(std::string_view key, std::initializer_list<ValueType> types) const {
  const SettingValue* value = find(key);
  if (value == nullptr) throw std::logic_error("settings: key \"" + std::string(key) + "\" is not declared");
  if (std::find(types.begin(), types.end(), value->type) == types.end())
    throw std::logic_error("settings: key \"" + std::string(key) + "\" is a " +
                           std::string(type_name(value->type)) + ", not a " +
                           std::string(type_name(*types.begin())));
  return *value;
}

const std::string& Settings::get_string(std::string_view key) const {
  return typed(key, {ValueType::string, ValueType::enumeration, ValueType::path}).text;
}
std::int64_t Settings::get_int(std::string_view key) const { return typed(key, {ValueType::integer}).integer; }
bool Settings::get_bool(std::string_view key) const { return typed(key, {ValueType::boolean}).boolean; }
std::uint64_t Settings::get_size(std::string_view key) const { return typed(key, {ValueType::size}).bytes; }
std::chrono::milliseconds Settings::get_duration(std::string_view key) const {
  return typed(key, {ValueType::duration}).duration;
}
const std::vector<std::string>& Settings::get_list(std::string_view key) const {
  return typed(key, {ValueType::string_list}).list;
}
const std::map<std::string, std::string>& Settings::get_map(std::string_view key) const {
  return typed(key, {ValueType::string_map}).map;
}
const Settings& Settings::get_object(std::string_view key) const {
  static const Settings empty;
  const SettingValue& value = typed(key, {ValueType::object, ValueType::driver_settings});
  return value.objects.empty() ? empty : value.objects.front();
}
const std::vector<Settings>& Settings::get_objects(std::string_view key) const {
  return typed(key, {ValueType::object_list}).objects;
}

bool same_values(const SettingValue& a, const SettingValue& b) {
  if (a.type != b.type || a.is_set != b.is_set || a.text != b.text || a.integer != b.integer ||
      a.boolean != b.boolean || a.bytes != b.bytes || a.duration != b.duration || a.list != b.list ||
      a.map != b.map || a.objects.size() != b.objects.size())
    return false;
  for (std::size_t i = 0; i < a.objects.size(); ++i)
    if (!same_values(a.objects[i], b.objects[i])) return false;
  return true;
}

bool same_values(const Settings& a, const Settings& b) {
  const auto& x = a.entries();
  const auto& y = b.entries();
  if (x.size() != y.size()) return false;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (x[i].first != y[i].first || !same_values(x[i].second, y[i].second)) return false;
  return true;
}

}  // namespace xnode::config
