// How long a group commit waits for company (queue_store.cpp's store thread; issue #7).
//
// Why adaptive. A fixed linger makes every commit wait the whole `queue.linger` for submits that
// may never come: a source that waits for each answer before it submits again (an HTTP client, a
// lone spool file) cannot give its own commit company, so N such clients got at most N submits a
// linger+fsync cycle (4 HTTP connections at 5 ms: ~25,000–47,000 records/s instead of ~88,000).
// Classic group commit needs no linger for them: submits that arrive while a commit is being
// written form the next group by themselves. The linger only pays when submitters are about to
// arrive, so it is used only on evidence that it gathers:
// - a group whose wait gathered submits (they arrived after the group began) keeps a linger of
//   twice the time the last of them took to arrive: enough for the same pattern again, and it
//   shrinks to what the submitters need (4 HTTP clients answered together arrive within a fraction
//   of a millisecond) instead of the configured maximum;
// - a wait that gathered nothing drops the linger to zero: a lone or waiting submitter is then
//   committed at once;
// - from zero, the linger is tried again (about one commit's duration) only when the previous
//   group held several submits and this one starts alone: the others, answered by that commit,
//   are likely on their way. A group that starts with several submits queued already had the
//   previous commit as its linger.
// `queue.linger` is the upper bound of every wait; 0 turns lingering off. Submits already posted
// (still in the compression stage) are waited for regardless, as before.
// Store thread only; no clock inside: the caller measures.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>

namespace xnode::io {

class GroupLinger {
 public:
  using Duration = std::chrono::steady_clock::duration;

  explicit GroupLinger(Duration max) : m_max(std::max(max, Duration::zero())) {}

  // The wait for the group that begins now: `queued` submits are waiting for the store thread
  // (the first one included), `more_posted` says whether others are still being compressed.
  Duration wait(std::size_t queued, bool more_posted) const {
    if (m_max == Duration::zero()) return Duration::zero();
    if (m_current > Duration::zero()) return m_current;
    if (queued <= 1 && !more_posted && m_last_group > 1) return bounded(std::max(m_last_commit, kMin));
    return Duration::zero();
  }

  // The group's wait is over: `any` says whether submits arrived during it, the last of them
  // `last_arrival` after the group began; `group_size` submits go in the commit.
  void gathered(bool any, Duration last_arrival, std::size_t group_size) {
    m_last_group = group_size;
    m_current = any ? bounded(std::max(2 * last_arrival, kMin)) : Duration::zero();
  }

  // The group's commit (fsync included) took `d`.
  void committed(Duration d) { m_last_commit = d; }

  // The linger the next group starts with when it has no other evidence (for tests and logs).
  Duration current() const { return m_current; }

 private:
  // The smallest linger worth waiting: below it, waking up costs more than it gathers.
  static constexpr Duration kMin = std::chrono::microseconds(100);

  Duration bounded(Duration d) const { return std::min(d, m_max); }

  Duration m_max;
  Duration m_current = Duration::zero();
  Duration m_last_commit = Duration::zero();
  std::size_t m_last_group = 0;
};

}  // namespace xnode::io
