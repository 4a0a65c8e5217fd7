// Exponential back-off with FULL jitter (delay drawn uniformly from [0, ceiling], the ceiling
// doubling from `initial` up to `cap`). Full jitter spreads the nodes of a whole city that lost the
// platform at the same moment, so they do not come back in lock-step; the cap bounds how long
// delivery waits once the platform is back (issue #3: first batch within cap + 2 s).
#pragma once
#include <cstdint>
#include <functional>

#include "core/base/time.hpp"

namespace xnode::uplink {

// Returns a number in [0, 1). Injected so that tests control the jitter.
using Random = std::function<double()>;

class Backoff {
 public:
  Backoff(Millis initial, Millis cap, Random random);

  // The delay before the next attempt after one more consecutive failure.
  Millis next_delay();
  // The ceiling the next failure will draw from (for tests and the health report).
  Millis current_ceiling() const;
  // A success: the next failure starts again from `initial`.
  void reset() { m_failures = 0; }
  std::uint32_t failures() const { return m_failures; }

 private:
  Millis m_initial;
  Millis m_cap;
  Random m_random;
  std::uint32_t m_failures = 0;
};

}  // namespace xnode::uplink
