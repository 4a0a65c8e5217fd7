#include "core/catalog/slice_hash.hpp"

#include <algorithm>

#include "core/base/json.hpp"
#include "core/base/sha256.hpp"
#include "core/catalog/resource_json.hpp"

namespace xnode::catalog {

std::string slice_canonical(const Slice& slice) {
  std::vector<const Resource*> sorted;
  sorted.reserve(slice.resources.size());
  for (const auto& r : slice.resources) sorted.push_back(&r);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Resource* a, const Resource* b) { return a->code < b->code; });
  json::Value array = json::Value::array();
  for (const Resource* r : sorted) array.push_back(to_json(*r));
  return json::canonical(array);
}

std::string slice_sha256(const Slice& slice) { return Sha256::hex(slice_canonical(slice)); }

}  // namespace xnode::catalog
