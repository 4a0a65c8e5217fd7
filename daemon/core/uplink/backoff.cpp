#include "core/uplink/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace xnode::uplink {

Backoff::Backoff(Millis initial, Millis cap, Random random)
    : m_initial(std::max(initial, Millis(1))), m_cap(std::max(cap, m_initial)), m_random(std::move(random)) {}

Millis Backoff::current_ceiling() const {
  // Doubling stops once it passes the cap; the shift is bounded so it cannot overflow.
  std::int64_t ceiling = m_initial.count();
  for (std::uint32_t i = 0; i < m_failures && ceiling < m_cap.count(); ++i) ceiling *= 2;
  return Millis(std::min<std::int64_t>(ceiling, m_cap.count()));
}

Millis Backoff::next_delay() {
  const Millis ceiling = current_ceiling();
  if (m_failures < 64) ++m_failures;
  double r = m_random ? m_random() : 0.5;
  if (!(r >= 0.0)) r = 0.0;  // also catches NaN
  if (r >= 1.0) r = std::nextafter(1.0, 0.0);
  return Millis(static_cast<std::int64_t>(std::floor(r * static_cast<double>(ceiling.count() + 1))));
}

}  // namespace xnode::uplink
