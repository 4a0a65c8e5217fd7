// Time is injected: core code takes a `now` argument instead of reading a clock.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xnode {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;
using Millis = std::chrono::milliseconds;
using Seconds = std::chrono::seconds;

// RFC 3339 in UTC with milliseconds, e.g. 2026-03-23T00:00:00.250Z.
std::string format_rfc3339(TimePoint t);
// RFC 3339 with an offset or Z, fractional seconds allowed. nullopt when malformed or not a real date.
std::optional<TimePoint> parse_rfc3339(std::string_view s);
// "YYYY-MM-DD" with a real calendar date.
bool valid_date(std::string_view s);
bool valid_ymd(int year, int month, int day);
// Days since 1970-01-01 of a civil date (proleptic Gregorian).
std::int64_t days_from_civil(int y, unsigned m, unsigned d);

inline std::int64_t to_unix_ms(TimePoint t) {
  return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
}
inline TimePoint from_unix_ms(std::int64_t ms) { return TimePoint(std::chrono::duration_cast<Clock::duration>(Millis(ms))); }

}  // namespace xnode
