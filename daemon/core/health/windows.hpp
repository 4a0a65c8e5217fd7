// Time windows for the health model: RTT percentiles over recent samples, and counters over the
// last 24 hours in buckets (errors, reconnects, downtime). Time is injected.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "core/base/time.hpp"

namespace xnode::health {

// The last `max_samples` samples not older than `max_age`; percentiles by nearest rank.
class SampleWindow {
 public:
  explicit SampleWindow(std::size_t max_samples = 256, Clock::duration max_age = std::chrono::minutes(5))
      : m_max_samples(max_samples), m_max_age(max_age) {}
  void add(TimePoint now, std::int64_t value);
  // p in (0, 100]: the smallest sample with at least p % of the samples at or below it.
  std::optional<std::int64_t> percentile(TimePoint now, double p) const;
  std::size_t size(TimePoint now) const;

 private:
  struct Sample {
    TimePoint at;
    std::int64_t value;
  };
  std::size_t m_max_samples;
  Clock::duration m_max_age;
  std::deque<Sample> m_samples;
};

// A sum over a rolling window kept in fixed buckets aligned to the epoch (default 24 h in 96
// buckets of 15 min). A total includes the whole oldest bucket still in the window, so it may
// count up to one bucket more than exactly 24 h — a known, documented granularity.
class RollingSum {
 public:
  explicit RollingSum(Clock::duration window = std::chrono::hours(24), std::size_t buckets = 96);
  void add(TimePoint at, std::int64_t amount = 1);
  // Adds the length of [from, to) in milliseconds, spread over the buckets it covers.
  void add_interval_ms(TimePoint from, TimePoint to);
  std::int64_t total(TimePoint now) const;
  // The part of [from, to) that lies inside the window ending at `now`, in ms (for an interval
  // still open, like a current outage, that is not in the buckets yet).
  std::int64_t window_overlap_ms(TimePoint now, TimePoint from, TimePoint to) const;

 private:
  std::int64_t bucket_of(TimePoint t) const;
  std::int64_t m_bucket_ms;
  std::size_t m_buckets;
  struct Bucket {
    std::int64_t index = -1;
    std::int64_t sum = 0;
  };
  std::vector<Bucket> m_ring;
};

}  // namespace xnode::health
