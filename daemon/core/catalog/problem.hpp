// A catalog problem in the form of platform-api.md §3.2's 422 answer: which resource (its code, or
// `#<index>` when it has none), which field (`items[1].purpose`), and the rule it breaks.
#pragma once
#include <string>
#include <vector>

namespace xnode::catalog {

struct Problem {
  std::string code;
  std::string field;
  std::string reason;

  std::string to_string() const { return code + ": " + field + ": " + reason; }
  friend bool operator==(const Problem&, const Problem&) = default;
};

using Problems = std::vector<Problem>;

}  // namespace xnode::catalog
