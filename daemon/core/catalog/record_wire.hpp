// The wire text of one record after its sequence number (platform-api.md §3.3): the queue stores
// this tail, and the uplink prefixes `{"seq":N,` when it builds a batch, so that a record's bytes
// are made once at intake and never re-serialised.
#pragma once
#include <string>
#include <string_view>

#include "core/base/json.hpp"
#include "core/base/time.hpp"
#include "core/catalog/record_checker.hpp"

namespace xnode::catalog {

// Appends `"op":"upsert","key":"…","at":"…","data":{…}}` to `out`. `data` may be null for a
// delete (then the member is left out, as §3.3 allows). `at` is RFC 3339 text.
void build_tail(std::string& out, RecordOp op, std::string_view key, std::string_view at, const json::Value* data);
void build_tail(std::string& out, RecordOp op, std::string_view key, TimePoint at, const json::Value* data);

}  // namespace xnode::catalog
