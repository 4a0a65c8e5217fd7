#include "core/catalog/resource.hpp"

#include <algorithm>

namespace xnode::catalog {

const Item* Resource::find_item(std::string_view item_name) const {
  for (const auto& item : items)
    if (item.name == item_name) return &item;
  return nullptr;
}

bool operator==(const Classification& a, const Classification& b) {
  return a.kind == b.kind && a.item == b.item && a.sub == b.sub && a.detail == b.detail;
}
bool operator==(const Provider& a, const Provider& b) {
  return a.name == b.name && a.code == b.code && a.unit == b.unit;
}
bool operator==(const Format& a, const Format& b) { return a.category == b.category && a.type == b.type; }
bool operator==(const Share& a, const Share& b) {
  return a.type == b.type && a.condition == b.condition && a.legal_basis == b.legal_basis &&
         a.method == b.method && a.method_type == b.method_type && a.usage == b.usage;
}
bool operator==(const Open& a, const Open& b) { return a.type == b.type && a.condition == b.condition; }
bool operator==(const Resource& a, const Resource& b) {
  return a.code == b.code && a.name == b.name && a.classification == b.classification &&
         a.provider == b.provider && a.abstract_text == b.abstract_text && a.format == b.format &&
         a.items == b.items && a.share == b.share && a.open == b.open &&
         a.update_cycle == b.update_cycle && a.published == b.published && a.related == b.related;
}

void Slice::sort() {
  std::stable_sort(resources.begin(), resources.end(),
                   [](const Resource& a, const Resource& b) { return a.code < b.code; });
}

const Resource* Slice::find(std::string_view code) const {
  auto it = std::lower_bound(resources.begin(), resources.end(), code,
                             [](const Resource& r, std::string_view c) { return r.code < c; });
  if (it != resources.end() && it->code == code) return &*it;
  // Tolerate an unsorted slice (being built): fall back to a scan.
  for (const auto& r : resources)
    if (r.code == code) return &r;
  return nullptr;
}

std::string classification_code(const Classification& c) {
  if (!c.kind) return {};
  std::string out(1, class_digit(*c.kind));
  out += c.item;
  out += c.sub;
  out += c.detail;
  return out;
}

}  // namespace xnode::catalog
