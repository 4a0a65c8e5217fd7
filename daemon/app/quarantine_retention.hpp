// quarantine.retention: entries older than the retention are deleted on the daemon's tick — once
// shortly after start and then hourly — in bounded steps on the store's thread (kStep entries a
// store task, at most kMaxSteps a sweep; what is left goes on the next sweep), so a sweep never
// holds intake up. The count removed shows in the status file and is audited once a sweep.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include <boost/asio/any_io_executor.hpp>

#include "core/base/time.hpp"
#include "io/queue/queue_store.hpp"

namespace xnode::app {

class QuarantineRetention {
 public:
  static constexpr std::size_t kStep = 500;
  static constexpr int kMaxSteps = 200;
  static constexpr std::chrono::minutes kEvery{60};

  // `swept(removed, cutoff)` runs on the loop after a sweep that removed something.
  QuarantineRetention(boost::asio::any_io_executor executor, io::QueueStore& store,
                      std::function<void(std::uint64_t removed, TimePoint cutoff)> swept);

  // On the tick: starts a sweep when one is due and none is running.
  void on_tick(std::chrono::steady_clock::time_point steady, TimePoint now, std::chrono::milliseconds retention);
  std::uint64_t removed_total() const { return m_removed_total; }

 private:
  void step(TimePoint cutoff, int steps_done, std::uint64_t removed);

  boost::asio::any_io_executor m_executor;
  io::QueueStore& m_store;
  std::function<void(std::uint64_t, TimePoint)> m_swept;
  std::optional<std::chrono::steady_clock::time_point> m_last;
  bool m_running = false;
  std::uint64_t m_removed_total = 0;
  std::shared_ptr<bool> m_alive = std::make_shared<bool>(true);
};

}  // namespace xnode::app
