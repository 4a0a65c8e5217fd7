// Overdue submissions (domain.md Art. 43) and the yearly review of the slice (Art. 12), from
// injected time. The health report (§3.5 `catalog.overdue`) and the alarms are built from these.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/json.hpp"
#include "core/base/time.hpp"
#include "core/catalog/resource.hpp"

namespace xnode::catalog {

// The longest a resource may go without a record. Choices (documented in docs/catalog.md):
// realtime 1 h (a "realtime" source silent for an hour is broken, not quiet), daily 1 d,
// weekly 7 d, monthly 31 d (the longest month), quarterly 92 d, half_yearly 183 d, yearly 366 d
// (leap years); `other` has no fixed beat: never overdue.
std::optional<std::chrono::seconds> cycle_length(UpdateCycle cycle);

struct OverdueResource {
  std::string code;
  UpdateCycle update_cycle = UpdateCycle::other;
  std::optional<TimePoint> last_update;  // none: no record since tracking began
  friend bool operator==(const OverdueResource&, const OverdueResource&) = default;
};

using LastRecordTimes = std::map<std::string, TimePoint, std::less<>>;

// Resources whose last record is older than cycle + grace at `now`. A resource that never had a
// record is measured from `tracking_since` (when the node began watching it), so a fresh install
// does not raise alarms for everything at once. Resources with share.type none send nothing and
// are not listed.
std::vector<OverdueResource> overdue_resources(const Slice& slice, const LastRecordTimes& last_record,
                                               TimePoint tracking_since, TimePoint now, std::chrono::seconds grace);

// The §3.5 form: [{"code","update_cycle","last_update"}] (last_update null when none).
json::Value overdue_to_json(const std::vector<OverdueResource>& overdue);

// A slice neither changed nor confirmed by its department for 365 days needs its yearly review.
constexpr std::chrono::hours kSliceReviewPeriod{24 * 365};
bool slice_review_due(TimePoint last_changed_or_confirmed, TimePoint now);

}  // namespace xnode::catalog
