#include "io/stores/audit_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <thread>

#include "core/audit/actions.hpp"
#include "core/base/log.hpp"
#include "io/sqlite/database.hpp"
#include "io/stores/audit_schema.hpp"

namespace xnode::io {

namespace {

constexpr std::string_view log_category = "audit";
constexpr int min_retention_days = 1095;  // Art. 41: logs kept at least 3 years
constexpr std::int64_t prune_chunk = 10000;  // events a pruning transaction, to bound its time
constexpr std::int64_t tail_verify_events = 1000;

// An exclusive advisory lock on <path>.lock, released by the kernel when the process dies (also
// on SIGKILL), so a stale lock never keeps the daemon from starting.
class LockFile {
 public:
  LockFile() = default;
  ~LockFile() {
    if (m_fd >= 0) ::close(m_fd);
  }
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;

  Expected<void> acquire(const std::string& path, std::chrono::milliseconds wait) {
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m_fd < 0) return make_error("cannot open lock file " + path + ": " + std::strerror(errno));
    // Polled rather than a blocking flock: the wait stays bounded whatever the holder does.
    const auto deadline = std::chrono::steady_clock::now() + wait;
    int rc;
    while ((rc = ::flock(m_fd, LOCK_EX | LOCK_NB)) != 0 && errno == EWOULDBLOCK &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (rc != 0) {
      int err = errno;
      ::close(m_fd);
      m_fd = -1;
      if (err == EWOULDBLOCK)
        return make_error(path + " is held: another xnoded uses this audit store (two writers would fork the chain)");
      return make_error("cannot lock " + path + ": " + std::strerror(err));
    }
    return {};
  }

 private:
  int m_fd = -1;
};

bool alarm_fields_differ(const AuditStoreStatus& a, const AuditStoreStatus& b) {
  return a.quota != b.quota || a.stuck != b.stuck || a.overflow_dropped != b.overflow_dropped ||
         a.chain_broken != b.chain_broken;
}

}  // namespace

const char* quota_state_name(QuotaState s) {
  switch (s) {
    case QuotaState::ok: return "ok";
    case QuotaState::near: return "near";
    case QuotaState::over: return "over";
  }
  return "?";
}

// Everything the writer thread owns. Declaration order matters: the lock is released last.
static std::string human_bytes(std::uint64_t b) {
  if (b >= (1ull << 20)) return std::to_string(b >> 20) + " MiB";
  return std::to_string(b >> 10) + " KiB";
}

std::string AuditStoreStatus::describe_quota() const {
  std::string out;
  auto add = [&](const std::string& part) {
    if (!out.empty()) out += "; ";
    out += part;
  };
  if (quota != QuotaState::ok)
    add(std::string(quota == QuotaState::over ? "over quota: " : "near quota: ") + human_bytes(used_bytes) + " of " +
        human_bytes(max_bytes));
  if (overflow_dropped > 0) add(std::to_string(overflow_dropped) + " events dropped (memory queue full)");
  if (stuck) add("writes failing: " + last_error);
  return out;
}

struct AuditStore::Impl {
  LockFile lock;
  sqlite::Database db;
  sqlite::Statement insert;
  sqlite::Statement set_meta;

  Expected<void> write_batch(const std::vector<PendingEvent>& batch, std::int64_t shipped) {
    XNODE_TRY(auto tx, sqlite::Transaction::begin(db));
    for (const PendingEvent& p : batch) {
      const audit::AuditEvent& e = p.event;
      sqlite::Statement::Reset reset(insert);
      insert.bind(1, e.seq)
          .bind(2, p.at_ms)
          .bind(3, e.at)
          .bind(4, e.actor)
          .bind(5, e.action)
          .bind(6, e.object)
          .bind(7, e.result)
          .bind(8, json::serialize(e.detail))
          .bind(9, e.prev)
          .bind(10, e.hash);
      auto r = insert.run();
      if (!r) return r.error();
    }
    if (shipped > 0) {
      auto r = put_meta("shipped_through", shipped, {});
      if (!r) return r.error();
    }
    return tx.commit();
  }

  Expected<void> put_meta(std::string_view key, std::int64_t value, std::string_view text) {
    sqlite::Statement::Reset reset(set_meta);
    set_meta.bind(1, key).bind(2, value).bind(3, text);
    return set_meta.run();
  }

  Expected<std::uint64_t> used_bytes() {
    XNODE_TRY(std::int64_t pages, db.query_int("PRAGMA page_count"));
    XNODE_TRY(std::int64_t free_pages, db.query_int("PRAGMA freelist_count"));
    XNODE_TRY(std::int64_t page_size, db.query_int("PRAGMA page_size"));
    return static_cast<std::uint64_t>((pages - free_pages) * page_size);
  }
};

AuditStore::AuditStore(AuditStoreOptions options, StatusCallback on_status)
    : m_options(std::move(options)), m_on_status(std::move(on_status)), m_impl(std::make_unique<Impl>()) {}

Expected<std::unique_ptr<AuditStore>> AuditStore::open(AuditStoreOptions options, StatusCallback on_status) {
  if (options.path.empty()) return make_error("audit store: no path configured");
  if (options.retention_days < min_retention_days)
    return make_error("audit store: retention_days " + std::to_string(options.retention_days) +
                      " is below the 1095 days (3 years) the rules require");
  if (options.max_batch == 0 || options.max_pending == 0)
    return make_error("audit store: max_batch and max_pending must be positive");

  std::unique_ptr<AuditStore> store(new AuditStore(std::move(options), std::move(on_status)));
  const AuditStoreOptions& o = store->m_options;
  Impl& impl = *store->m_impl;
  auto locked = impl.lock.acquire(o.path + ".lock", o.lock_wait);
  if (!locked) return locked.error();

  XNODE_TRY(impl.db, sqlite::Database::open(o.path, sqlite::OpenMode::read_write_create));
  XNODE_TRY(std::string mode, impl.db.query_text("PRAGMA journal_mode = WAL"));
  if (mode != "wal") return make_error(o.path + ": cannot switch to WAL journal (got '" + mode + "')");
  auto sync = impl.db.exec(o.durability == AuditDurability::full ? "PRAGMA synchronous = FULL"
                                                                 : "PRAGMA synchronous = NORMAL");
  if (!sync) return sync.error();
  auto migrated = impl.db.migrate(audit_schema::migrations);
  if (!migrated) return migrated.error();
  XNODE_TRY(impl.insert, impl.db.prepare("INSERT INTO audit_event (seq, at_ms, at, actor, action, object, result, "
                                         "detail, prev, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
  XNODE_TRY(impl.set_meta, impl.db.prepare("INSERT INTO audit_meta (key, value_int, value_text) VALUES (?1, ?2, ?3) "
                                           "ON CONFLICT (key) DO UPDATE SET value_int = ?2, value_text = ?3"));

  // Read the chain head back (through a reader on the same file: one code path for both).
  XNODE_TRY(auto reader, AuditReader::open(o.path));
  XNODE_TRY(AuditStoreSummary summary, reader->summary());
  audit::ChainHead head{summary.last_seq, summary.last_hash};
  if (summary.events == 0 && summary.pruned) head = *summary.pruned;  // everything pruned
  store->m_chain = audit::AuditChain(head);
  store->m_status.head_seq = head.seq;
  store->m_status.durable_seq = head.seq;
  store->m_status.shipped_through = summary.shipped_through;
  store->m_shipped_requested = summary.shipped_through;
  store->m_status.used_bytes = summary.used_bytes;
  store->m_status.max_bytes = o.max_bytes;

  // Re-verify the tail: a chain continued from a tampered head would carry the damage forward
  // silently. (The whole table is verified by verify_all(), which may take long.)
  if (summary.events > 0) {
    XNODE_TRY(auto tail, reader->events_after(std::max<std::int64_t>(summary.first_seq - 1,
                                                                     summary.last_seq - tail_verify_events),
                                              static_cast<std::size_t>(tail_verify_events)));
    if (!tail.empty()) {
      audit::ChainVerifier verifier(audit::ChainHead{tail.front().seq - 1, tail.front().prev});
      for (const auto& e : tail) verifier.feed(e);
      auto report = verifier.take();
      if (!report.ok()) {
        store->m_status.chain_broken = true;
        store->m_status.last_error = "stored audit chain fails verification at its tail: " + report.problems[0].message;
        log::error(log_category, o.path + ": " + store->m_status.last_error);
      }
    }
  }
  store->m_reader = std::move(reader);

  const std::uint64_t near = o.max_bytes / 100 * o.near_quota_percent;
  store->m_status.quota = summary.used_bytes >= o.max_bytes ? QuotaState::over
                          : summary.used_bytes >= near     ? QuotaState::near
                                                           : QuotaState::ok;
  store->m_thread = std::thread([s = store.get()] { s->run(); });
  return store;
}

AuditStore::~AuditStore() {
  {
    std::lock_guard lk(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

AppendResult AuditStore::append(audit::AuditEntry entry, TimePoint at) {
  std::unique_lock lk(m_mutex);
  if (m_pending.size() >= m_options.max_pending) {
    ++m_status.overflow_dropped;
    if (m_unrecorded_drops++ == 0) m_first_drop_at = format_rfc3339(at);
    m_last_drop_at = format_rfc3339(at);
    lk.unlock();
    m_wake.notify_one();  // the writer reports the status change
    return AppendResult::dropped;
  }
  auto event = m_chain.append(std::move(entry), at);
  if (!event) {
    lk.unlock();
    static log::RateLimit limit(5, std::chrono::minutes(1));
    limit.write(log::Level::error, log_category, event.error().message);
    return AppendResult::refused;
  }
  m_status.head_seq = event->seq;
  m_pending.push_back({std::move(*event), to_unix_ms(at)});
  const bool wake = m_pending.size() == 1 || m_pending.size() == m_options.max_batch;
  lk.unlock();
  if (wake) m_wake.notify_one();
  return AppendResult::queued;
}

bool AuditStore::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lk(m_mutex);
  const std::int64_t target = m_status.head_seq;
  m_wake.notify_one();
  return m_durable.wait_for(lk, timeout, [&] { return m_status.durable_seq >= target; });
}

void AuditStore::run() {
  Impl& impl = *m_impl;
  std::vector<PendingEvent> batch;
  std::chrono::milliseconds retry_delay = m_options.retry_min;
  AuditStoreStatus reported = m_status;
  bool first_report = m_status.chain_broken || m_status.quota != QuotaState::ok;
  std::unique_lock lk(m_mutex);
  for (;;) {
    auto has_work = [&] {
      return m_stop || !m_pending.empty() || !m_tasks.empty() || m_shipped_requested > m_status.shipped_through ||
             alarm_fields_differ(reported, m_status) || first_report;
    };
    m_wake.wait(lk, has_work);
    if (!m_stop && m_pending.size() < m_options.max_batch && m_tasks.empty()) {
      // Group commit: let a burst gather so one fsync covers many events.
      m_wake.wait_for(lk, m_options.linger,
                      [&] { return m_stop || m_pending.size() >= m_options.max_batch || !m_tasks.empty(); });
    }
    std::deque<std::function<void()>> tasks;
    tasks.swap(m_tasks);
    // Over quota: events wait in memory (and overflow once that is full). At shutdown they are
    // written anyway: exceeding a quota a little is better than losing the trail.
    const bool may_write = m_status.quota != QuotaState::over || m_stop;
    batch.clear();
    if (may_write) {
      const std::size_t n = std::min(m_pending.size(), m_options.max_batch);
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) batch.push_back(std::move(m_pending[i]));
      m_pending.erase(m_pending.begin(), m_pending.begin() + static_cast<std::ptrdiff_t>(n));
    }
    const std::int64_t shipped = m_shipped_requested;
    const bool ship_dirty = shipped > m_status.shipped_through;
    lk.unlock();

    for (auto& task : tasks) task();

    Expected<void> written;
    if (!batch.empty() || ship_dirty) written = impl.write_batch(batch, ship_dirty ? shipped : 0);
    auto used = impl.used_bytes();

    lk.lock();
    bool wait_retry = false;
    if (written) {
      if (!batch.empty()) m_status.durable_seq = batch.back().event.seq;
      if (ship_dirty) m_status.shipped_through = shipped;
      if (m_status.stuck) log::notice(log_category, m_options.path + ": audit writes resumed");
      m_status.stuck = false;
      retry_delay = m_options.retry_min;
    } else {
      // Put the batch back at the front, in order; it is retried after a back-off.
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) m_pending.push_front(std::move(*it));
      if (!m_status.stuck) log::error(log_category, m_options.path + ": audit write failed, retrying: " + written.error().message);
      m_status.stuck = true;
      m_status.last_error = written.error().message;
      wait_retry = true;
    }
    if (used) {
      m_status.used_bytes = *used;
      const std::uint64_t near = m_options.max_bytes / 100 * m_options.near_quota_percent;
      m_status.quota = *used >= m_options.max_bytes ? QuotaState::over
                       : *used >= near             ? QuotaState::near
                                                   : QuotaState::ok;
    }
    // Record the loss itself once there is room again (loss is never silent).
    if (m_unrecorded_drops > 0 && written && m_pending.size() < m_options.max_pending) {
      json::Value detail = json::Value::object();
      detail.set("dropped", static_cast<std::int64_t>(m_unrecorded_drops));
      detail.set("first_dropped_at", m_first_drop_at);
      detail.set("last_dropped_at", m_last_drop_at);
      const TimePoint now = Clock::now();
      auto e = m_chain.append({std::string(audit::daemon_actor), std::string(audit::action::audit_overflow),
                               m_options.path, std::string(audit::result::failed), std::move(detail)},
                              now);
      if (e) {
        m_status.head_seq = e->seq;
        m_pending.push_back({std::move(*e), to_unix_ms(now)});
        m_unrecorded_drops = 0;
      }
    }
    m_durable.notify_all();

    if (first_report || alarm_fields_differ(reported, m_status)) {
      first_report = false;
      reported = m_status;
      if (m_on_status) {
        AuditStoreStatus copy = m_status;
        copy.pending = m_pending.size();
        lk.unlock();
        m_on_status(copy);
        lk.lock();
      }
    }

    if (m_stop && (m_pending.empty() || wait_retry) && m_tasks.empty()) {
      if (!m_pending.empty())
        log::error(log_category, m_options.path + ": stopping with " + std::to_string(m_pending.size()) +
                                     " audit events not written: " + m_status.last_error);
      break;
    }
    if (wait_retry) {
      m_wake.wait_for(lk, retry_delay, [&] { return m_stop || !m_tasks.empty(); });
      retry_delay = std::min(retry_delay * 2, m_options.retry_max);
    } else if (m_status.quota == QuotaState::over && !m_pending.empty() && !m_stop) {
      // Nothing can be written until pruning (a task) frees space or the process stops.
      m_wake.wait_for(lk, m_options.retry_max,
                      [&] { return m_stop || !m_tasks.empty() || alarm_fields_differ(reported, m_status); });
    }
  }
}

Expected<std::vector<audit::AuditEvent>> AuditStore::events_after(std::int64_t after, std::size_t max) {
  std::lock_guard lk(m_reader_mutex);
  if (!m_reader) {
    XNODE_TRY(m_reader, AuditReader::open(m_options.path));
  }
  auto events = m_reader->events_after(after, max);
  if (!events) m_reader.reset();  // reopen on the next call
  return events;
}

Expected<void> AuditStore::mark_shipped(std::int64_t seq) {
  {
    std::lock_guard lk(m_mutex);
    if (seq > m_status.durable_seq)
      return make_error("audit: cannot mark event " + std::to_string(seq) + " shipped: only events up to " +
                        std::to_string(m_status.durable_seq) + " are stored");
    if (seq <= m_shipped_requested) return {};
    m_shipped_requested = seq;
  }
  m_wake.notify_one();
  return {};
}

std::int64_t AuditStore::shipped_through() const {
  std::lock_guard lk(m_mutex);
  return m_shipped_requested;
}

void AuditStore::prune(TimePoint now, std::function<void(Expected<PruneResult>)> done) {
  auto task = [this, now, done = std::move(done)] {
    Impl& impl = *m_impl;
    auto run_prune = [&]() -> Expected<PruneResult> {
      const std::int64_t cutoff_ms = to_unix_ms(now - std::chrono::hours(24) * m_options.retention_days);
      // Make the latest acknowledgement durable first: pruning relies on it.
      std::int64_t shipped;
      {
        std::lock_guard lk(m_mutex);
        shipped = m_shipped_requested;
      }
      if (shipped > 0) {
        auto marked = impl.put_meta("shipped_through", shipped, {});
        if (!marked) return marked.error();
        std::lock_guard lk(m_mutex);
        m_status.shipped_through = std::max(m_status.shipped_through, shipped);
      }
      // The prunable prefix ends before the first event that is young enough to keep.
      XNODE_TRY(auto young, impl.db.prepare("SELECT seq FROM audit_event WHERE at_ms >= ?1 ORDER BY seq LIMIT 1"));
      young.bind(1, cutoff_ms);
      XNODE_TRY(bool has_young, young.step());
      std::int64_t limit = shipped;
      if (has_young) limit = std::min(limit, young.column_int64(0) - 1);
      young.reset();
      PruneResult result;
      XNODE_TRY(auto last, impl.db.prepare("SELECT seq, hash FROM audit_event WHERE seq <= ?1 ORDER BY seq DESC LIMIT 1"));
      XNODE_TRY(std::int64_t first, impl.db.query_int("SELECT coalesce(min(seq), 0) FROM audit_event"));
      while (first > 0 && first <= limit) {
        const std::int64_t chunk_end = std::min(limit, first + prune_chunk - 1);
        XNODE_TRY(auto tx, sqlite::Transaction::begin(impl.db));
        last.bind(1, chunk_end);
        XNODE_TRY(bool found, last.step());
        if (!found) break;
        const std::int64_t anchor_seq = last.column_int64(0);
        const std::string anchor_hash(last.column_text(1));
        last.reset();
        XNODE_TRY(auto del, impl.db.prepare("DELETE FROM audit_event WHERE seq <= ?1"));
        del.bind(1, chunk_end);
        auto deleted = del.run();
        if (!deleted) return deleted.error();
        result.pruned += impl.db.changes();
        auto anchored = impl.put_meta("pruned", anchor_seq, anchor_hash);
        if (!anchored) return anchored.error();
        auto committed = tx.commit();
        if (!committed) return committed.error();
        result.pruned_through = anchor_seq;
        first = chunk_end + 1;
      }
      return result;
    };
    auto result = run_prune();
    if (result && result->pruned > 0) {
      json::Value detail = json::Value::object();
      detail.set("events", result->pruned);
      detail.set("through_seq", result->pruned_through);
      detail.set("retention_days", m_options.retention_days);
      append({std::string(audit::daemon_actor), std::string(audit::action::audit_pruned), m_options.path,
              std::string(audit::result::ok), std::move(detail)},
             now);
    }
    if (done) done(std::move(result));
  };
  {
    std::lock_guard lk(m_mutex);
    m_tasks.push_back(std::move(task));
  }
  m_wake.notify_one();
}

Expected<PruneResult> AuditStore::prune_wait(TimePoint now) {
  std::promise<Expected<PruneResult>> promise;
  auto future = promise.get_future();
  prune(now, [&promise](Expected<PruneResult> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Expected<audit::VerifyReport> AuditStore::verify_all() {
  // A connection of its own: a long walk over the table must not hold up events_after.
  XNODE_TRY(auto reader, AuditReader::open(m_options.path));
  return reader->verify_all();
}

Expected<std::int64_t> AuditStore::export_ndjson(std::optional<TimePoint> since, std::optional<TimePoint> until,
                                                 const std::function<bool(std::string_view line)>& sink) {
  XNODE_TRY(auto reader, AuditReader::open(m_options.path));
  return reader->export_ndjson(since, until, sink);
}

Expected<AuditStoreSummary> AuditStore::summary() {
  std::lock_guard lk(m_reader_mutex);
  if (!m_reader) {
    XNODE_TRY(m_reader, AuditReader::open(m_options.path));
  }
  return m_reader->summary();
}

AuditStoreStatus AuditStore::status() const {
  std::lock_guard lk(m_mutex);
  AuditStoreStatus s = m_status;
  s.pending = m_pending.size();
  s.shipped_through = std::max(s.shipped_through, m_shipped_requested);
  return s;
}

}  // namespace xnode::io
