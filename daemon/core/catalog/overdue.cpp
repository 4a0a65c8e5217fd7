#include "core/catalog/overdue.hpp"

namespace xnode::catalog {

std::optional<std::chrono::seconds> cycle_length(UpdateCycle cycle) {
  using std::chrono::hours;
  constexpr auto day = hours(24);
  switch (cycle) {
    case UpdateCycle::realtime: return hours(1);
    case UpdateCycle::daily: return day;
    case UpdateCycle::weekly: return 7 * day;
    case UpdateCycle::monthly: return 31 * day;
    case UpdateCycle::quarterly: return 92 * day;
    case UpdateCycle::half_yearly: return 183 * day;
    case UpdateCycle::yearly: return 366 * day;
    case UpdateCycle::other: return std::nullopt;
  }
  return std::nullopt;
}

std::vector<OverdueResource> overdue_resources(const Slice& slice, const LastRecordTimes& last_record,
                                               TimePoint tracking_since, TimePoint now, std::chrono::seconds grace) {
  std::vector<OverdueResource> out;
  for (const auto& r : slice.resources) {
    if (!r.shared() || !r.update_cycle) continue;
    const auto length = cycle_length(*r.update_cycle);
    if (!length) continue;
    std::optional<TimePoint> last;
    if (auto it = last_record.find(r.code); it != last_record.end()) last = it->second;
    const TimePoint since = last ? *last : tracking_since;
    if (now - since > *length + grace) out.push_back(OverdueResource{r.code, *r.update_cycle, last});
  }
  return out;
}

json::Value overdue_to_json(const std::vector<OverdueResource>& overdue) {
  json::Value out = json::Value::array();
  for (const auto& o : overdue) {
    json::Value entry = json::Value::object();
    entry.set("code", o.code);
    entry.set("update_cycle", std::string(code_of(o.update_cycle)));
    entry.set("last_update", o.last_update ? json::Value(format_rfc3339(*o.last_update)) : json::Value());
    out.push_back(std::move(entry));
  }
  return out;
}

bool slice_review_due(TimePoint last_changed_or_confirmed, TimePoint now) {
  return now - last_changed_or_confirmed >= kSliceReviewPeriod;
}

}  // namespace xnode::catalog
