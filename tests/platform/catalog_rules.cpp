#include "tests/platform/catalog_rules.hpp"

#include <algorithm>

#include "core/base/identifiers.hpp"
#include "core/base/sha256.hpp"
#include "core/base/time.hpp"
#include "core/catalog/resource_json.hpp"

namespace xnode::platform {

SliceCheck read_slice(const json::Value& resources) {
  SliceCheck out;
  auto read = catalog::slice_from_json(resources);
  if (!read.ok()) {
    out.problems = std::move(read.problems);
    return out;
  }
  auto rules = std::make_shared<SliceRules>();
  rules->slice = std::move(read.slice);
  rules->slice.sort();
  out.rules = std::move(rules);
  return out;
}

json::Value sorted_by_code(const json::Value& resources) {
  json::Array items = resources.as_array();
  std::stable_sort(items.begin(), items.end(), [](const json::Value& a, const json::Value& b) {
    return a.get_string("code") < b.get_string("code");
  });
  return json::Value(std::move(items));
}

std::string slice_sha256(const json::Value& resources) {
  return Sha256::hex(json::canonical(sorted_by_code(resources)));
}

namespace {

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// Why `value` is not a valid value of `item`; nullopt when it is.
std::optional<std::string> check_value(const catalog::Item& item, const json::Value& value) {
  using catalog::ItemType;
  if (value.is_null()) {
    if (item.required || item.key) return "item " + item.name + " is required";
    return std::nullopt;
  }
  const ItemType type = item.type.value_or(ItemType::C);
  const std::string type_code(catalog::code_of(type));
  auto wrong = [&](std::string_view expected) {
    return "item " + item.name + " (type " + type_code + ") needs " + std::string(expected);
  };
  switch (type) {
    case ItemType::C:
    case ItemType::M: {
      if (!value.is_string()) return wrong("a string");
      if (item.length && code_points(value.as_string()) > static_cast<std::size_t>(*item.length))
        return "item " + item.name + " is longer than " + std::to_string(*item.length) + " characters";
      if (item.identifier == catalog::IdentifierKind::citizen_id &&
          !identifiers::valid_citizen_id(value.as_string()))
        return "item " + item.name + " is not a valid citizen ID (GB 11643)";
      if (item.identifier == catalog::IdentifierKind::uscc && !identifiers::valid_uscc(value.as_string()))
        return "item " + item.name + " is not a valid unified social credit code (GB 32100)";
      return std::nullopt;
    }
    case ItemType::N:
    case ItemType::Y:
    case ItemType::B:
    case ItemType::F:
      if (!value.is_number()) return wrong("a number");
      return std::nullopt;
    case ItemType::I:
      if (!value.is_number() || !value.is_integer()) return wrong("an integer");
      return std::nullopt;
    case ItemType::D:
      if (!value.is_string() || !valid_date(value.as_string())) return wrong("a date YYYY-MM-DD");
      return std::nullopt;
    case ItemType::T:
      if (!value.is_string() || !parse_rfc3339(value.as_string())) return wrong("an RFC 3339 date-time");
      return std::nullopt;
    case ItemType::L:
      if (!value.is_bool()) return wrong("a boolean");
      return std::nullopt;
    case ItemType::G: {
      std::string decoded;
      if (!value.is_string() || !base64_decode(value.as_string(), decoded)) return wrong("base64 text");
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// A key item's value as it appears in the record key: strings as they are, numbers as written,
// booleans true/false.
std::optional<std::string> key_text(const json::Value& v) {
  if (v.is_string() || v.is_number()) return v.as_string();
  if (v.is_bool()) return std::string(v.as_bool() ? "true" : "false");
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_record(const catalog::Resource& resource, const json::Value& record) {
  if (!resource.shared()) return std::string("not_shared");
  const bool upsert = record.get_string("op") == "upsert";
  const json::Value* data = record.find("data");
  if (data && data->is_null()) data = nullptr;
  if (data && !data->is_object()) return std::string("data is not an object");
  if (upsert && !data) return std::string("upsert without data");

  if (data) {
    for (const auto& [name, value] : data->as_object()) {
      const catalog::Item* item = resource.find_item(name);
      if (!item) return "undeclared item: " + name;
      if (auto why = check_value(*item, value)) return why;
    }
  }
  std::string expected_key;
  std::size_t key_items = 0;
  for (const auto& item : resource.items) {
    const json::Value* value = data ? data->find(item.name) : nullptr;
    if (upsert && (item.required || item.key) && (!value || value->is_null()))
      return "item " + item.name + " is required";
    if (!item.key) continue;
    ++key_items;
    if (!data) continue;
    if (!value || value->is_null()) return "key item " + item.name + " is missing";
    auto text = key_text(*value);
    if (!text) return "key item " + item.name + " is not a scalar";
    if (text->find('|') != std::string::npos) return "key item " + item.name + " contains '|'";
    if (key_items > 1) expected_key += '|';
    expected_key += *text;
  }
  const std::string& key = record.get_string("key");
  if (data) {
    if (key != expected_key) return "key does not match the data (expected \"" + expected_key + "\")";
  } else {
    // A delete without data: the key must at least have one part per key item.
    std::size_t parts = static_cast<std::size_t>(std::count(key.begin(), key.end(), '|')) + 1;
    if (key.empty() || parts != key_items) return std::string("key does not have one part per key item");
  }
  return std::nullopt;
}

}  // namespace xnode::platform
