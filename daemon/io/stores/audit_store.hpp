// The audit trail's durable store (issue #5; platform-api.md §3.6; domain.md Art. 41, Ext. 16).
//
// - Its own SQLite file (WAL; synchronous FULL or NORMAL), written in batches by a dedicated
//   thread: append() chains the event in memory (seq, prev, hash) and returns at once. An audit
//   write never holds up data delivery: the in-memory queue is bounded; when the disk is stuck or
//   the store is over its quota, events wait in memory, and once that is full they are counted
//   as dropped (overflow) and, as soon as the store can write again, the loss itself is recorded
//   as an `audit.overflow` event. Status changes (quota near/over, stuck, overflow) are reported
//   through a callback so that the health model can raise `audit_quota`.
// - The chain survives restarts and SIGKILL: every batch is one transaction, and open() reads the
//   last event back and continues from its hash. The tail is re-verified at open.
// - `<path>.lock` (flock) keeps a second writer off the file: two writers would fork the chain.
// - shipped-through marker for the uplink (events_after / mark_shipped); retention prunes only
//   events that are both older than retention_days (≥ 1095) and shipped, as a prefix of the chain,
//   and remembers the last pruned event as the anchor verification starts from.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/audit/audit_chain.hpp"
#include "core/audit/audit_event.hpp"
#include "core/base/expected.hpp"
#include "core/base/time.hpp"
#include "io/stores/audit_reader.hpp"

namespace xnode::io {

enum class AuditDurability { full, normal };

struct AuditStoreOptions {
  std::string path;                          // SQLite file; <path>.lock beside it
  AuditDurability durability = AuditDurability::full;
  std::uint64_t max_bytes = 256ull << 20;    // quota for stored events
  unsigned near_quota_percent = 90;          // audit_quota warning from here
  int retention_days = 1095;                 // Art. 41: at least 3 years; smaller is refused
  std::size_t max_pending = 100000;          // events held in memory before overflow
  std::size_t max_batch = 4096;              // events a transaction at most
  std::chrono::milliseconds linger{10};      // group-commit wait for more events
  std::chrono::milliseconds retry_min{100};  // back-off after a failed write …
  std::chrono::milliseconds retry_max{5000}; // … doubling up to this
  // How long open() waits for a lock held by someone else. xnodectl holds it for a moment when it
  // audits a command itself (xnoded not answering); the daemon starting at that moment waits for it
  // instead of failing. Zero: fail at once (xnodectl, which must never queue behind the daemon).
  std::chrono::milliseconds lock_wait{0};
};

enum class QuotaState { ok, near, over };
const char* quota_state_name(QuotaState s);

struct AuditStoreStatus {
  std::int64_t head_seq = 0;         // last seq assigned (in memory)
  std::int64_t durable_seq = 0;      // last seq committed to disk
  std::int64_t shipped_through = 0;
  std::size_t pending = 0;           // in memory, not yet on disk
  std::uint64_t overflow_dropped = 0;  // events lost to a full memory queue since start
  std::uint64_t used_bytes = 0;
  std::uint64_t max_bytes = 0;
  QuotaState quota = QuotaState::ok;
  bool stuck = false;                // the last write failed; retrying with back-off
  bool chain_broken = false;         // the stored tail failed verification at open
  std::string last_error;            // the last write error, or the tail problem

  // True when the health model should hold the audit_quota alarm.
  bool quota_alarm() const { return quota != QuotaState::ok || stuck || overflow_dropped > 0; }
  // The alarm text: "over quota: 270 MiB of 256 MiB; 120 events dropped; writes failing: …".
  std::string describe_quota() const;
  friend bool operator==(const AuditStoreStatus&, const AuditStoreStatus&) = default;
};

enum class AppendResult {
  queued,   // in the chain and the write queue
  refused,  // values the hash cannot cover reproducibly (fractional number, bad UTF-8): a defect
  dropped,  // memory queue full (store stuck or over quota): counted, recorded later
};

struct PruneResult {
  std::int64_t pruned = 0;            // events removed
  std::int64_t pruned_through = 0;    // last seq removed (0: none)
};

class AuditStore {
 public:
  using StatusCallback = std::function<void(const AuditStoreStatus&)>;

  // Opens (creating) the store, takes the lock, reads the chain head back, verifies the last
  // events and starts the writer thread. `on_status` runs on the writer thread whenever the
  // quota state, stuck flag, overflow count or chain_broken change.
  static Expected<std::unique_ptr<AuditStore>> open(AuditStoreOptions options, StatusCallback on_status = {});
  // Writes what is pending (one attempt if the disk is failing) and stops the thread.
  ~AuditStore();
  AuditStore(const AuditStore&) = delete;
  AuditStore& operator=(const AuditStore&) = delete;

  // Thread-safe; never blocks on the disk. `at` is the event's time.
  AppendResult append(audit::AuditEntry entry, TimePoint at);
  // Waits until everything appended before the call is durable; false on timeout.
  bool flush(std::chrono::milliseconds timeout);

  // Shipping (§3.6): events the platform has not acknowledged yet, and the acknowledgement.
  // mark_shipped persists with the next transaction (a lost marker only means a resend, which
  // the platform accepts as identical). Refuses a seq past what is durable.
  Expected<std::vector<audit::AuditEvent>> events_after(std::int64_t after, std::size_t max);
  Expected<void> mark_shipped(std::int64_t seq);
  std::int64_t shipped_through() const;

  // Retention, run on the writer thread; `done` runs there too.
  void prune(TimePoint now, std::function<void(Expected<PruneResult>)> done);
  // The same, waiting for the result (maintenance code and tests).
  Expected<PruneResult> prune_wait(TimePoint now);

  // Read-side operations through a separate read-only connection (never wait for the writer).
  Expected<audit::VerifyReport> verify_all();
  Expected<std::int64_t> export_ndjson(std::optional<TimePoint> since, std::optional<TimePoint> until,
                                       const std::function<bool(std::string_view line)>& sink);
  Expected<AuditStoreSummary> summary();

  AuditStoreStatus status() const;
  const std::string& path() const { return m_options.path; }

 private:
  struct Impl;
  struct PendingEvent {
    audit::AuditEvent event;
    std::int64_t at_ms = 0;  // for retention and export ranges
  };
  explicit AuditStore(AuditStoreOptions options, StatusCallback on_status);
  void run();

  AuditStoreOptions m_options;
  StatusCallback m_on_status;
  std::unique_ptr<Impl> m_impl;  // the write connection, statements, lock: writer thread only

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;     // the writer: events, tasks, stop
  std::condition_variable m_durable;  // flush(): durable_seq moved
  audit::AuditChain m_chain;
  std::deque<PendingEvent> m_pending;
  std::deque<std::function<void()>> m_tasks;
  AuditStoreStatus m_status;
  std::int64_t m_shipped_requested = 0;
  std::uint64_t m_unrecorded_drops = 0;
  std::string m_first_drop_at, m_last_drop_at;
  bool m_stop = false;

  std::mutex m_reader_mutex;
  std::unique_ptr<AuditReader> m_reader;  // for events_after (opened lazily)

  std::thread m_thread;
};

}  // namespace xnode::io
