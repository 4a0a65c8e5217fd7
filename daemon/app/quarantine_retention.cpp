#include "app/quarantine_retention.hpp"

#include <boost/asio/post.hpp>

#include "core/base/log.hpp"
#include "io/queue/quarantine_ops.hpp"

namespace asio = boost::asio;

namespace xnode::app {

QuarantineRetention::QuarantineRetention(asio::any_io_executor executor, io::QueueStore& store,
                                         std::function<void(std::uint64_t, TimePoint)> swept)
    : m_executor(std::move(executor)), m_store(store), m_swept(std::move(swept)) {}

void QuarantineRetention::on_tick(std::chrono::steady_clock::time_point steady, TimePoint now,
                                  std::chrono::milliseconds retention) {
  if (m_running || retention.count() <= 0) return;
  if (m_last && steady - *m_last < kEvery) return;
  m_last = steady;
  m_running = true;
  step(now - retention, 0, 0);
}

void QuarantineRetention::step(TimePoint cutoff, int steps_done, std::uint64_t removed) {
  std::weak_ptr<bool> alive = m_alive;
  m_store.quarantine_work([this, ex = m_executor, alive, cutoff, steps_done, removed](io::sqlite::Database* db) {
    auto n = db ? io::quarantine_ops::sweep(*db, cutoff, kStep) : Expected<std::int64_t>(Error("the queue is closed"));
    asio::post(ex, [this, alive, cutoff, steps_done, removed, n = std::move(n)] {
      if (!alive.lock()) return;
      std::uint64_t total = removed;
      if (!n) {
        log::warning("quarantine", "retention sweep: " + n.error().message);
      } else {
        total += static_cast<std::uint64_t>(*n);
        if (static_cast<std::size_t>(*n) == kStep && steps_done + 1 < kMaxSteps) return step(cutoff, steps_done + 1, total);
      }
      m_running = false;
      m_removed_total += total;
      if (total > 0) {
        log::notice("quarantine", "retention: removed " + std::to_string(total) + " entr" + (total == 1 ? "y" : "ies") +
                                      " quarantined before " + format_rfc3339(cutoff));
        if (m_swept) m_swept(total, cutoff);
      }
    });
  });
}

}  // namespace xnode::app
