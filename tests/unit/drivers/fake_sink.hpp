// A fake IntakeSink for driver tests: a "queue" that applies each batch (records, quarantine,
// marks) atomically, like the real store, and answers on its own thread, as the real store does.
// A policy decides per submit: accept, refuse (queue_full), or fail (as if the process died
// before the commit: nothing applied).
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "drivers/driver.hpp"

namespace xnode::test {

class FakeSink final : public drivers::IntakeSink {
 public:
  using Policy = std::function<io::SubmitStatus(std::size_t submit_index, const drivers::SourceBatch&)>;

  FakeSink() : m_worker([this] { work(); }) {}
  ~FakeSink() override {
    {
      std::lock_guard lock(m_mutex);
      m_closing = true;
    }
    m_cv.notify_all();
    m_worker.join();
  }

  void submit(drivers::SourceBatch batch, std::function<void(io::SubmitResult)> done) override {
    {
      std::lock_guard lock(m_mutex);
      m_inbox.emplace_back(std::move(batch), std::move(done));
    }
    m_cv.notify_all();
  }

  void read_marks(const std::string& source, std::function<void(std::vector<io::SourceMark>)> done) override {
    std::vector<io::SourceMark> out;
    {
      std::lock_guard lock(m_mutex);
      for (const auto& [key, value] : marks)
        if (key.first == source) out.push_back({source, key.second, value});
    }
    done(std::move(out));
  }

  // The first answer waits until `n` batches are waiting (to make pipelined batches meet).
  void hold_until(std::size_t n) {
    std::lock_guard lock(m_mutex);
    m_hold = n;
  }

  void set_policy(Policy policy) {
    std::lock_guard lock(m_mutex);
    m_policy = std::move(policy);
  }

  // Waits (bounded) until `pred` holds on the sink's state; true when it did.
  bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    std::unique_lock lock(m_mutex);
    return m_cv.wait_for(lock, limit, [&] { return pred(); });
  }

  // State — read under lock() or after the driver stopped.
  std::mutex& mutex() { return m_mutex; }
  std::vector<drivers::SourceRecord> records;
  std::vector<io::QuarantineEntry> quarantine;
  std::map<std::pair<std::string, std::string>, std::string> marks;
  std::size_t submits = 0, refused = 0, failed = 0;

 private:
  void work() {
    std::unique_lock lock(m_mutex);
    for (;;) {
      m_cv.wait(lock, [&] { return m_closing || (!m_inbox.empty() && m_inbox.size() >= m_hold); });
      m_hold = 0;
      if (m_inbox.empty()) return;
      auto [batch, done] = std::move(m_inbox.front());
      m_inbox.pop_front();
      auto status = m_policy ? m_policy(submits, batch) : io::SubmitStatus::ok;
      ++submits;
      io::SubmitResult result;
      result.status = status;
      if (status == io::SubmitStatus::ok) {
        for (auto& r : batch.records) records.push_back(std::move(r));
        for (auto& q : batch.quarantine) quarantine.push_back(std::move(q));
        for (auto& m : batch.marks) {
          if (m.value.empty())
            marks.erase({m.source, m.key});
          else
            marks[{m.source, m.key}] = m.value;
        }
      } else if (status == io::SubmitStatus::queue_full) {
        ++refused;
      } else {
        ++failed;
        result.error = "simulated failure";
      }
      lock.unlock();
      done(std::move(result));
      m_cv.notify_all();
      lock.lock();
    }
  }

  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::pair<drivers::SourceBatch, std::function<void(io::SubmitResult)>>> m_inbox;
  Policy m_policy;
  bool m_closing = false;
  std::size_t m_hold = 0;
  std::thread m_worker;
};

}  // namespace xnode::test
