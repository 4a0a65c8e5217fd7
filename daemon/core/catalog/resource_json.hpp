// The JSON form of a resource, exactly as platform-api.md §4 shows it (the PUT body, §3.2), and
// reading it back (the platform's GET answer, or the loader's YAML turned into JSON).
#pragma once
#include <string_view>

#include "core/base/json.hpp"
#include "core/catalog/problem.hpp"
#include "core/catalog/resource.hpp"

namespace xnode::catalog {

// Members in the order of §4. Optional item flags (`key`, `required`, `sensitive`, `classified`)
// are written only when true, `length`/`identifier`/`title`/`purpose` only when set, `published`
// only when set; every other member is always written (empty strings included) so that one
// resource has exactly one JSON form — the hash of §3.2 depends on it.
json::Value to_json(const Resource& resource);
// The `resources` array of a slice, in the slice's order.
json::Value to_json(const Slice& slice);

struct ReadOptions {
  // YAML has no string/number distinction for plain scalars: `item: 01` arrives as the number
  // text "01". When set, string fields accept a number and keep its text as written.
  bool lenient_scalars = false;
};

// Reads one resource. Form problems (wrong JSON type, unknown member, unknown enumeration value)
// are appended to `problems`, naming the resource by its code or by `index_label` (`#3`) when the
// code is missing. The rules of §4 are not checked here: see validate.hpp.
Resource resource_from_json(const json::Value& value, std::string_view index_label, Problems& problems,
                            const ReadOptions& options = {});

struct SliceRead {
  Slice slice;        // sorted by code
  Problems problems;  // form problems, then rule problems (validate_slice)
  bool ok() const { return problems.empty(); }
};
// Reads a `resources` array (the platform's GET answer) and validates it.
SliceRead slice_from_json(const json::Value& resources);

}  // namespace xnode::catalog
