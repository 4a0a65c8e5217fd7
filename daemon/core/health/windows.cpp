#include "core/health/windows.hpp"

#include <algorithm>
#include <cmath>

namespace xnode::health {

void SampleWindow::add(TimePoint now, std::int64_t value) {
  m_samples.push_back({now, value});
  while (m_samples.size() > m_max_samples) m_samples.pop_front();
  while (!m_samples.empty() && now - m_samples.front().at > m_max_age) m_samples.pop_front();
}

std::size_t SampleWindow::size(TimePoint now) const {
  return static_cast<std::size_t>(
      std::count_if(m_samples.begin(), m_samples.end(), [&](const Sample& s) { return now - s.at <= m_max_age; }));
}

std::optional<std::int64_t> SampleWindow::percentile(TimePoint now, double p) const {
  std::vector<std::int64_t> values;
  values.reserve(m_samples.size());
  for (const Sample& s : m_samples)
    if (now - s.at <= m_max_age) values.push_back(s.value);
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  rank = std::clamp<std::size_t>(rank, 1, values.size());
  return values[rank - 1];
}

RollingSum::RollingSum(Clock::duration window, std::size_t buckets)
    : m_bucket_ms(std::max<std::int64_t>(1, std::chrono::duration_cast<Millis>(window).count() /
                                                static_cast<std::int64_t>(std::max<std::size_t>(buckets, 1)))),
      m_buckets(std::max<std::size_t>(buckets, 1)),
      m_ring(m_buckets) {}

std::int64_t RollingSum::bucket_of(TimePoint t) const {
  const std::int64_t ms = to_unix_ms(t);
  return ms >= 0 ? ms / m_bucket_ms : (ms - m_bucket_ms + 1) / m_bucket_ms;
}

void RollingSum::add(TimePoint at, std::int64_t amount) {
  const std::int64_t index = bucket_of(at);
  Bucket& b = m_ring[static_cast<std::size_t>(((index % static_cast<std::int64_t>(m_buckets)) +
                                               static_cast<std::int64_t>(m_buckets)) %
                                              static_cast<std::int64_t>(m_buckets))];
  if (b.index < index) {
    b.index = index;
    b.sum = 0;
  } else if (b.index > index) {
    return;  // older than the window this slot now holds: already outside it
  }
  b.sum += amount;
}

void RollingSum::add_interval_ms(TimePoint from, TimePoint to) {
  std::int64_t start = to_unix_ms(from);
  const std::int64_t end = to_unix_ms(to);
  // Only the last `m_buckets` buckets can matter; skip what is older.
  const std::int64_t earliest = (bucket_of(to) - static_cast<std::int64_t>(m_buckets) + 1) * m_bucket_ms;
  start = std::max(start, earliest);
  while (start < end) {
    const std::int64_t bucket_end = (bucket_of(from_unix_ms(start)) + 1) * m_bucket_ms;
    const std::int64_t piece_end = std::min(end, bucket_end);
    add(from_unix_ms(start), piece_end - start);
    start = piece_end;
  }
}

std::int64_t RollingSum::total(TimePoint now) const {
  const std::int64_t newest = bucket_of(now);
  const std::int64_t oldest = newest - static_cast<std::int64_t>(m_buckets) + 1;
  std::int64_t sum = 0;
  for (const Bucket& b : m_ring)
    if (b.index >= oldest && b.index <= newest) sum += b.sum;
  return sum;
}

std::int64_t RollingSum::window_overlap_ms(TimePoint now, TimePoint from, TimePoint to) const {
  const std::int64_t window_start = (bucket_of(now) - static_cast<std::int64_t>(m_buckets) + 1) * m_bucket_ms;
  const std::int64_t start = std::max(window_start, to_unix_ms(from));
  const std::int64_t end = std::min(to_unix_ms(now), to_unix_ms(to));
  return std::max<std::int64_t>(0, end - start);
}

}  // namespace xnode::health
