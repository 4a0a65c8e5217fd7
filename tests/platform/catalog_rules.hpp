// The platform's view of a node's catalog slice: the resources as the project's catalog module
// reads and validates them (core/catalog — the same rules the node applies), and the per-record
// content checks of §3.3/§4 (undeclared item, bad value, key not matching the data, not_shared).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/json.hpp"
#include "core/catalog/problem.hpp"
#include "core/catalog/record_checker.hpp"
#include "core/catalog/resource.hpp"

namespace xnode::platform {

struct SliceRules {
  catalog::Slice slice;  // sorted by code
  // One compiled checker per resource (the node's intake uses the same class).
  std::map<std::string, catalog::RecordChecker, std::less<>> checkers;

  const catalog::Resource* find(std::string_view code) const { return slice.find(code); }
  const catalog::RecordChecker* checker(std::string_view code) const {
    auto it = checkers.find(code);
    return it == checkers.end() ? nullptr : &it->second;
  }
};

struct SliceCheck {
  std::shared_ptr<const SliceRules> rules;  // set when there is no problem
  catalog::Problems problems;
};

// Reads and validates a `resources` array (the body of a catalog PUT, or the stored slice).
SliceCheck read_slice(const json::Value& resources);

// The resources array sorted by code (stable; a resource without a string code sorts first).
json::Value sorted_by_code(const json::Value& resources);
// Hex SHA-256 of the RFC 8785 canonical JSON of `resources` sorted by code (§3.2).
std::string slice_sha256(const json::Value& resources);

// The reason a record (an envelope already checked: seq, op, key, at) fails the content checks of
// its resource; nullopt when it is accepted. The item rules are core/catalog's RecordChecker; the
// platform adds what only it sees: an undeclared member is a rejection here (the node strips
// them before sending), the key sent must be the key of the data, and a `share.type: none`
// record is rejected as `not_shared`. `record` is not changed when the result is a rejection.
std::optional<std::string> check_record(const catalog::Resource& resource, const catalog::RecordChecker& checker,
                                        json::Value& record);

}  // namespace xnode::platform
