#include "tests/platform/catalog_rules.hpp"

#include <algorithm>

#include "core/base/sha256.hpp"
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
  for (const auto& resource : rules->slice.resources) rules->checkers.emplace(resource.code, catalog::RecordChecker(resource));
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

std::optional<std::string> check_record(const catalog::Resource& resource, const catalog::RecordChecker& checker,
                                        json::Value& record) {
  if (!checker.shared()) return std::string("not_shared");
  const bool upsert = record.get_string("op") == "upsert";
  json::Value* data = record.find("data");
  if (data && data->is_null()) data = nullptr;
  if (data && !data->is_object()) return std::string("data is not an object");
  if (upsert && !data) return std::string("upsert without data");
  const std::string& key = record.get_string("key");
  if (!data) {
    // A delete without data: the key must at least have one part per key item.
    std::size_t key_items = 0;
    for (const auto& item : resource.items) key_items += item.key ? 1 : 0;
    std::size_t parts = static_cast<std::size_t>(std::count(key.begin(), key.end(), '|')) + 1;
    if (key.empty() || parts != key_items) return std::string("key does not have one part per key item");
    return std::nullopt;
  }
  for (const auto& member : data->as_object())
    if (!resource.find_item(member.first)) return "undeclared item: " + member.first;
  auto result = checker.check(upsert ? catalog::RecordOp::upsert : catalog::RecordOp::remove, *data);
  switch (result.verdict) {
    case catalog::Verdict::not_shared: return std::string("not_shared");
    case catalog::Verdict::rejected: return std::move(result.reason);
    case catalog::Verdict::accepted: break;
  }
  if (result.key != key) return "key does not match the data (expected \"" + result.key + "\")";
  return std::nullopt;
}

}  // namespace xnode::platform
