#include "core/config/schema.hpp"

#include <utility>

namespace xnode::config {

namespace {
KeySpec make(std::string name, ValueType type, std::string doc) {
  KeySpec key;
  key.name = std::move(name);
  key.type = type;
  key.doc = std::move(doc);
  return key;
}
}  // namespace

KeySpec string_key(std::string name, std::string doc) { return make(std::move(name), ValueType::string, std::move(doc)); }
KeySpec integer_key(std::string name, std::string doc) { return make(std::move(name), ValueType::integer, std::move(doc)); }
KeySpec bool_key(std::string name, std::string doc) { return make(std::move(name), ValueType::boolean, std::move(doc)); }
KeySpec enum_key(std::string name, std::vector<std::string> words, std::string doc) {
  KeySpec key = make(std::move(name), ValueType::enumeration, std::move(doc));
  key.words = std::move(words);
  return key;
}
KeySpec size_key(std::string name, std::string doc) { return make(std::move(name), ValueType::size, std::move(doc)); }
KeySpec duration_key(std::string name, std::string doc) { return make(std::move(name), ValueType::duration, std::move(doc)); }
KeySpec path_key(std::string name, std::string doc) { return make(std::move(name), ValueType::path, std::move(doc)); }
KeySpec list_key(std::string name, std::string doc) { return make(std::move(name), ValueType::string_list, std::move(doc)); }
KeySpec map_key(std::string name, std::string doc) { return make(std::move(name), ValueType::string_map, std::move(doc)); }
KeySpec object_key(std::string name, std::string doc, std::vector<KeySpec> children) {
  KeySpec key = make(std::move(name), ValueType::object, std::move(doc));
  key.children = std::move(children);
  return key;
}
KeySpec object_list_key(std::string name, std::string doc, std::vector<KeySpec> children) {
  KeySpec key = make(std::move(name), ValueType::object_list, std::move(doc));
  key.children = std::move(children);
  return key;
}

KeySpec driver_settings_key(std::string name, std::string doc) {
  return make(std::move(name), ValueType::driver_settings, std::move(doc));
}

}  // namespace xnode::config
