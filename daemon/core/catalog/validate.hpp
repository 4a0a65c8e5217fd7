// The rules of platform-api.md §4 and domain.md on catalog resources. Shared by the loader, the
// sync logic, and the reference platform (which checks a PUT body with the same functions).
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/catalog/problem.hpp"
#include "core/catalog/resource.hpp"

namespace xnode::catalog {

// The three parts of `<classification code>/<provider code>-<5 digits>`.
struct ResourceCodeParts {
  std::string_view classification;  // class digit (1-3) + item + sub + detail: at least 6 digits
  std::string_view provider;        // 18 characters of the credit-code alphabet
  std::string_view serial;          // 5 digits
};
// Form only (the provider part's check character is not verified here).
std::optional<ResourceCodeParts> parse_resource_code(std::string_view code);

// `[a-z][a-z0-9_]*`
bool valid_item_name(std::string_view name);

// Every rule on one resource. A resource without a code is named `index_label` (`#2`).
Problems validate(const Resource& resource, std::string_view index_label = "#0");

// Every resource's rules plus uniqueness of codes. `index_labels[i]` names resource i when it has no
// code (defaults to `#i`).
Problems validate_slice(const Slice& slice, std::span<const std::string> index_labels = {});

// Appends the rule problems whose (code, field) has no form problem already: a member that could
// not be read (say an unknown enumeration value) is reported once, not again as "required".
void append_rule_problems(Problems& form_problems, const Problems& rule_problems);

}  // namespace xnode::catalog
