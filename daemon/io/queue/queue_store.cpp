// SQLite-backed QueueStore (see queue_store.hpp for the contract).
//
// Durability. The database runs in WAL mode.
// - durability: full → synchronous=FULL: every commit fsyncs the WAL before the submit's callback
//   runs, so a record acknowledged to its source survives a power loss.
// - durability: normal → synchronous=NORMAL: commits do not fsync; the WAL is synced only at
//   checkpoints. A power loss (not a process crash: the OS still has the data then) may lose the
//   transactions committed since the last checkpoint (up to ~4 MiB of WAL, typically a few seconds
//   of intake) — the sources were told "stored" and will not resend them. The database is never
//   corrupted by it. Use it only where the sources can replay.
//
//   Acknowledgements are committed without their own fsync even under `full` (see
//   do_acknowledge): a lost ack only means a resend that the platform counts as duplicates.
//
// Threading. Callers post work items through a mutex + condition variable. Every item first
// passes a compression stage (two threads, order kept) that compresses the full chunks of large
// submits while the store thread waits for the disk; all SQLite work then runs on the store's
// own thread, and every callback runs on that thread.
//
// Group commit. The store thread puts all submits waiting — queued, still being compressed, or
// arriving within an adaptive linger (at most `linger`) — in one transaction (at most ~4 MiB of
// records), so the fsync is shared: a spool file's batches in flight cost one fsync, not one each.
// The linger adapts (see GroupLinger) so that a submitter that waits for its answer before it
// submits again is not held for the whole linger: it cannot give its own commit company.
//
// Layout. Records are kept in chunks (chunk_codec.hpp): one row holds up to chunk_records
// consecutive records of a stream, compressed. That keeps the bytes written per record small
// (flash wear): one row a record costs ~4.7× the record's size in writes, a compressed chunk ~0.2×.
#include "io/queue/queue_store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdint>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <utility>

#include "core/base/log.hpp"
#include "io/queue/chunk_codec.hpp"
#include "io/queue/group_linger.hpp"
#include "io/queue/lock_file.hpp"
#include "io/queue/quarantine_ops.hpp"
#include "io/queue/queue_schema.hpp"
#include "io/sqlite/database.hpp"

namespace xnode::io {

namespace {

constexpr std::string_view kLog = "queue";
// A small submit may be appended to its stream's newest chunk (fewer, better-compressed rows)
// only while that chunk is small: rewriting it costs about the page it lives in, no more.
constexpr std::size_t kAppendLimitStoredBytes = 3 * 1024;
// One group commit takes at most this many record bytes, to bound the memory of a transaction.
constexpr std::size_t kGroupMaxBytes = 4u << 20;

std::string utc_stamp(TimePoint t) {
  const std::time_t secs = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

bool exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

// Moves a damaged database (and its WAL and shared-memory files) aside; returns the new name.
std::string keep_aside(const std::string& path) {
  const std::string aside = path + ".damaged-" + utc_stamp(Clock::now());
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string from = path + suffix;
    if (exists(from) && std::rename(from.c_str(), (aside + suffix).c_str()) != 0)
      throw std::runtime_error("queue " + path + " is damaged and could not be moved aside to " + aside + suffix);
  }
  return aside;
}

bool is_damage(const Error& e) {
  // SQLite's messages for SQLITE_CORRUPT / SQLITE_NOTADB.
  return e.message.find("malformed") != std::string::npos || e.message.find("not a database") != std::string::npos ||
         e.message.find("(code 11)") != std::string::npos || e.message.find("(code 26)") != std::string::npos;
}

struct StreamState {
  std::uint64_t next_seq = 1;
  std::uint64_t acked_through = 0;
  std::uint64_t evicted = 0;
  bool reconciled = false;
  bool dirty = false;  // next_seq changed in the running transaction
  // The stream's newest chunk, a candidate for appending small submits.
  std::int64_t tail_id = 0;
  std::uint64_t tail_first = 0, tail_count = 0, tail_raw = 0, tail_stored = 0;
};

// A chunk of one submit, compressed before it reaches the store thread (see compress_loop):
// chunk_records records, or fewer for the last run of a stream when that run is large enough
// to be a chunk of its own (min_prechunk_records).
struct PreChunk {
  std::string stream;
  std::string blob;
  std::size_t count = 0;  // records it holds
};

// A run of consecutive records of one stream from a group of submits, before it is stored:
// either loose records (chunked and compressed by the store thread, possibly appended to the
// stream's newest chunk) or one full chunk compressed ahead.
struct Segment {
  std::uint64_t first_seq = 0;
  std::string blob;                    // a PreChunk's blob; empty for loose records
  std::string text;                    // loose: tails, each ending in '\n'
  std::vector<std::uint32_t> ends;     // loose: end offset (after '\n') of each record in text
  std::vector<std::uint32_t> wire;     // wire size of each record
  bool precompressed() const { return !blob.empty(); }
};

struct Task {
  bool is_submit = false;
  IntakeBatch batch;
  std::vector<PreChunk> prechunks;  // chunks of the batch compressed ahead, per stream in record order
  std::function<void(SubmitResult)> submit_done;
  std::size_t bytes = 0;
  std::function<void()> work;
};

class SqliteQueueStore final : public QueueStore {
 public:
  explicit SqliteQueueStore(const QueueOptions& options) : m_options(options), m_linger(options.linger) {
    if (m_options.chunk_records == 0) m_options.chunk_records = 1;
    touch();
    auto lock = LockFile::acquire(m_options.path + ".lock", "queue " + m_options.path);
    if (!lock) throw std::runtime_error(lock.error().message);
    m_lock = std::move(*lock);
    open_database();
    m_thread = std::thread([this] { run(); });
    for (auto& t : m_compressors) t = std::thread([this] { compress_loop(); });
  }

  // Must not be destroyed from one of its own callbacks.
  ~SqliteQueueStore() override {
    close();
    for (auto& t : m_compressors)
      if (t.joinable()) t.join();
    if (m_thread.joinable()) m_thread.join();
  }

  void submit(IntakeBatch batch, std::function<void(SubmitResult)> done) override {
    Task t;
    t.is_submit = true;
    for (const auto& r : batch.records) t.bytes += r.tail.size() + 24;
    t.batch = std::move(batch);
    t.submit_done = std::move(done);
    if (!post(t) && t.submit_done) {
      // A closed store has no thread left to run the callback on: run it here.
      SubmitResult r;
      r.status = SubmitStatus::failed;
      r.error = closed_message();
      t.submit_done(std::move(r));
    }
  }

  void read_batch(std::string stream, std::uint64_t after_seq, std::size_t max_records, std::size_t max_bytes,
                  std::function<void(Expected<StoredBatch>)> done) override {
    post_work([this, stream = std::move(stream), after_seq, max_records, max_bytes, done = std::move(done)](bool closed) {
      done(closed ? Expected<StoredBatch>(Error(closed_message())) : do_read_batch(stream, after_seq, max_records, max_bytes));
    });
  }

  void acknowledge(std::string stream, std::uint64_t seq, std::function<void(Expected<void>)> done) override {
    post_work([this, stream = std::move(stream), seq, done = std::move(done)](bool closed) {
      done(closed ? Expected<void>(Error(closed_message())) : do_acknowledge(stream, seq));
    });
  }

  void reconcile_stream(std::string stream, std::uint64_t platform_acked_through,
                        std::function<void(Expected<StreamStats>)> done) override {
    post_work([this, stream = std::move(stream), platform_acked_through, done = std::move(done)](bool closed) {
      done(closed ? Expected<StreamStats>(Error(closed_message())) : do_reconcile(stream, platform_acked_through));
    });
  }

  void pending_gaps(std::function<void(std::vector<GapRange>)> done) override {
    post_work([this, done = std::move(done)](bool closed) {
      if (closed) return done({});
      auto gaps = queue_schema::read_gaps(m_db);
      if (!gaps) {
        log::error(kLog, gaps.error().message);
        done({});
        return;
      }
      done(std::move(*gaps));
    });
  }

  void mark_gap_declared(GapRange gap, std::function<void(Expected<void>)> done) override {
    post_work([this, gap = std::move(gap), done = std::move(done)](bool closed) {
      done(closed ? Expected<void>(Error(closed_message())) : do_mark_gap_declared(gap));
    });
  }

  void stats(std::function<void(QueueStats)> done) override {
    post_work([this, done = std::move(done)](bool closed) {
      if (closed) return done({});
      auto s = queue_schema::read_stats(m_db);
      if (!s) {
        log::error(kLog, s.error().message);
        done({});
        return;
      }
      s->transactions = m_transactions;
      done(std::move(*s));
    });
  }

  void read_marks(std::string source, std::function<void(std::vector<SourceMark>)> done) override {
    post_work([this, source = std::move(source), done = std::move(done)](bool closed) {
      done(closed ? std::vector<SourceMark>{} : do_read_marks(source));
    });
  }

  void quarantine_work(std::function<void(sqlite::Database*)> work) override {
    post_work([this, work = std::move(work)](bool closed) { work(closed ? nullptr : &m_db); });
  }

  void close() override {
    {
      std::lock_guard lk(m_in_mutex);
      m_in_stopping = true;
    }
    m_in_cv.notify_all();
    // The compressor hands on what it holds, then tells the store thread to stop once its queue
    // is empty. From one of the store's own callbacks the store thread cannot wait for itself: it
    // finishes the queued work and closes the database on its way out; the destructor joins it.
    for (auto& t : m_compressors)
      if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
    if (m_thread.joinable() && m_thread.get_id() != std::this_thread::get_id()) m_thread.join();
  }

  std::chrono::steady_clock::time_point last_alive() const override {
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(m_alive.load()));
  }

 private:
  // --- thread and work queue -------------------------------------------------------------------

  std::string closed_message() const { return "queue " + m_options.path + " is closed"; }

  void touch() { m_alive.store(std::chrono::steady_clock::now().time_since_epoch().count()); }

  // false when the store is closed: the task is left with the caller. Every task passes the
  // compressor first, so the store thread sees them in the order they were posted.
  bool post(Task& t) {
    {
      std::lock_guard lk(m_in_mutex);
      if (m_in_stopping) return false;
      if (t.is_submit) ++m_in_submits;
      m_in_tasks.emplace_back(m_in_next_order++, std::move(t));
    }
    m_in_cv.notify_all();
    return true;
  }

  void forward(Task t) {
    {
      std::lock_guard lk(m_mutex);
      if (t.is_submit) {
        m_queued_submit_bytes += t.bytes;
        ++m_queued_submits;
        --m_in_submits;
      } else {
        ++m_queued_other;
      }
      m_tasks.push_back(std::move(t));
    }
    m_cv.notify_one();
  }

  // The compression stage: compresses the full chunks of large submits (a spool file's batch of
  // chunk_records records, say) while the store thread waits for the disk, so that compression
  // and fsync overlap. Smaller runs are chunked by the store thread, which may merge them.
  // Two compressors work in parallel (the box has two cores); tasks leave in the order they came.
  void compress_loop() {
    std::unique_lock lk(m_in_mutex);
    for (;;) {
      if (m_in_tasks.empty()) {
        if (m_in_stopping) break;
        m_in_cv.wait(lk);
        continue;
      }
      auto [order, t] = std::move(m_in_tasks.front());
      m_in_tasks.pop_front();
      if (t.is_submit) {
        lk.unlock();
        precompress(t);
        lk.lock();
      }
      m_in_cv.wait(lk, [&, order = order] { return m_in_next_forward == order; });
      forward(std::move(t));
      ++m_in_next_forward;
      m_in_cv.notify_all();
    }
    // The last compressor out tells the store thread that nothing more will come.
    if (++m_compressors_done == m_compressors.size()) {
      lk.unlock();
      {
        std::lock_guard wk(m_mutex);
        m_stopping = true;
      }
      m_cv.notify_all();
    }
  }

  // A stream's run shorter than chunk_records is compressed here too when it holds at least half
  // a chunk: spool files are submitted in batches of 500 records by default, which a
  // full-chunk-only rule left entirely to the store thread (the compressors idle, deflate serial
  // with the disk). Shorter runs stay loose so that trickles still append to a small tail chunk.
  std::size_t min_prechunk_records() const { return std::max<std::size_t>(1, m_options.chunk_records / 2); }

  void precompress(Task& t) const {
    const std::size_t per_chunk = m_options.chunk_records;
    const auto& recs = t.batch.records;
    if (recs.size() < min_prechunk_records()) return;
    std::map<std::string_view, std::vector<std::uint32_t>> by_stream;
    for (std::size_t i = 0; i < recs.size(); ++i) by_stream[recs[i].stream].push_back(static_cast<std::uint32_t>(i));
    std::string text;
    for (const auto& [stream, indexes] : by_stream) {
      for (std::size_t begin = 0; begin < indexes.size(); begin += per_chunk) {
        const std::size_t end = std::min(indexes.size(), begin + per_chunk);
        if (end - begin < min_prechunk_records()) break;  // a short last run stays loose
        text.clear();
        for (std::size_t k = begin; k < end; ++k) {
          text += recs[indexes[k]].tail;
          text += '\n';
        }
        auto blob = chunk::compress(text);
        if (!blob || blob->empty()) break;  // the store thread compresses the rest itself
        t.prechunks.push_back(PreChunk{std::string(stream), std::move(*blob), end - begin});
      }
    }
  }

  // `work(closed)`: runs on the store thread with false, or at once with true when closed.
  void post_work(std::function<void(bool)> work) {
    Task t;
    t.work = [w = work] { w(false); };
    if (!post(t)) work(true);
  }

  void run() {
    std::unique_lock lk(m_mutex);
    for (;;) {
      touch();
      if (m_tasks.empty()) {
        if (m_stopping) break;
        // Wake up now and then even when idle, so that last_alive() shows a live thread.
        m_cv.wait_for(lk, std::chrono::seconds(1));
        continue;
      }
      if (m_tasks.front().is_submit) {
        // Group commit: all submits waiting go in one transaction — those queued here, those the
        // compressors are still working on, and those arriving within the linger the GroupLinger
        // chose — unless other work is waiting or a group's worth is collected.
        const auto start = std::chrono::steady_clock::now();
        const auto deadline = start + m_linger.wait(m_queued_submits, m_in_submits > 0);
        const auto cap = start + std::max<std::chrono::steady_clock::duration>(m_options.linger, std::chrono::milliseconds(200));
        const std::size_t queued_at_start = m_queued_submits;
        std::size_t seen = queued_at_start;
        auto last_arrival = start;
        for (;;) {
          const auto now = std::chrono::steady_clock::now();
          if (m_queued_submits > seen) {
            seen = m_queued_submits;
            last_arrival = now;
          }
          if (m_stopping || m_queued_other != 0 || m_queued_submit_bytes >= kGroupMaxBytes || now >= cap) break;
          if (now >= deadline && m_in_submits == 0) break;
          m_cv.wait_until(lk, m_in_submits > 0 ? std::min(cap, now + std::chrono::milliseconds(20)) : deadline);
        }
        std::vector<Task> group;
        std::size_t bytes = 0;
        while (!m_tasks.empty() && m_tasks.front().is_submit && (group.empty() || bytes + m_tasks.front().bytes <= kGroupMaxBytes)) {
          bytes += m_tasks.front().bytes;
          m_queued_submit_bytes -= m_tasks.front().bytes;
          --m_queued_submits;
          group.push_back(std::move(m_tasks.front()));
          m_tasks.pop_front();
        }
        lk.unlock();
        const auto commit_start = std::chrono::steady_clock::now();
        m_linger.gathered(seen > queued_at_start, last_arrival - start, group.size());
        process_submits(group);
        group.clear();
        m_linger.committed(std::chrono::steady_clock::now() - commit_start);
        lk.lock();
      } else {
        Task t = std::move(m_tasks.front());
        m_tasks.pop_front();
        --m_queued_other;
        lk.unlock();
        t.work();
        t = Task{};
        lk.lock();
      }
    }
    lk.unlock();
    m_read_cache = {};
    close_statements();
    m_db.close();
    m_lock.release();
  }

  // --- opening ---------------------------------------------------------------------------------

  void open_database() {
    const std::string& path = m_options.path;
    auto db = sqlite::Database::open(path, sqlite::OpenMode::read_write_create);
    if (!db) throw std::runtime_error("queue " + path + ": " + db.error().message);
    m_db = std::move(*db);

    // Integrity first: a damaged file is kept for inspection, never deleted, and the daemon stops
    // with a message instead of crash-looping on it. The operator restarts after looking; a fresh
    // empty queue is then created, and the platform's acked_through (hello) keeps seq numbers
    // from being reused.
    auto check = m_db.query_text("PRAGMA quick_check");
    if (!check || *check != "ok") {
      if (check || is_damage(check.error())) {
        std::string detail = check ? *check : check.error().message;
        std::replace(detail.begin(), detail.end(), '\n', ';');
        m_db.close();
        const std::string aside = keep_aside(path);
        throw std::runtime_error("queue " + path + " is damaged (" + detail.substr(0, 200) + "); it was kept as " +
                                 aside + " for inspection. Restart xnoded to continue with a fresh empty queue "
                                 "(records not yet delivered stay in the damaged file)");
      }
      throw std::runtime_error("queue " + path + ": integrity check failed: " + check.error().message);
    }

    auto must = [&](Expected<void> r) {
      if (!r) throw std::runtime_error("queue " + path + ": " + r.error().message);
    };
    auto mode = m_db.query_text("PRAGMA journal_mode=WAL");
    if (!mode || *mode != "wal")
      throw std::runtime_error("queue " + path + ": cannot switch to WAL mode" + (mode ? " (got " + *mode + ")" : ": " + mode.error().message));
    must(m_db.exec(m_options.durability == Durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
    // Debian builds SQLite with secure_delete on, which overwrites freed pages: it doubles the
    // writes of every acknowledge and buys nothing here (the file is not handed to anyone).
    must(m_db.exec("PRAGMA secure_delete=OFF"));
    // The daemon's whole RSS budget is 16 MiB: a 1 MiB page cache is plenty for append + drain
    // (chunks are large blobs; the b-trees stay small).
    must(m_db.exec("PRAGMA cache_size=-1024"));
    // Keep the WAL file from staying large after a checkpoint.
    // Checkpoint every 8 MiB of WAL rather than 4: half the checkpoint fsyncs, same bytes.
    must(m_db.exec("PRAGMA wal_autocheckpoint=2048"));
    must(m_db.exec("PRAGMA journal_size_limit=16777216"));
    must(m_db.migrate(queue_schema::migrations()));
    must(load_state());
    must(prepare_statements());
  }

  Expected<void> prepare_statements() {
    XNODE_TRY(m_upsert_stream, m_db.prepare(
        "INSERT INTO streams(stream, next_seq, acked_through, evicted, reconciled) VALUES(?1, ?2, ?3, ?4, ?5) "
        "ON CONFLICT(stream) DO UPDATE SET next_seq = excluded.next_seq, acked_through = excluded.acked_through, "
        "evicted = excluded.evicted, reconciled = excluded.reconciled"));
    XNODE_TRY(m_insert_chunk, m_db.prepare(
        "INSERT INTO chunks(stream, first_seq, record_count, raw_bytes, oldest_ms, data) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
    XNODE_TRY(m_select_chunk_data, m_db.prepare("SELECT data FROM chunks WHERE id = ?1"));
    XNODE_TRY(m_update_chunk, m_db.prepare(
        "UPDATE chunks SET record_count = ?2, raw_bytes = ?3, data = ?4 WHERE id = ?1"));
    XNODE_TRY(m_insert_quarantine, m_db.prepare(
        "INSERT INTO quarantine(at_ms, source, stream, origin, reason, content) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
    XNODE_TRY(m_upsert_mark, m_db.prepare(
        "INSERT INTO source_marks(source, key, value) VALUES(?1, ?2, ?3) "
        "ON CONFLICT(source, key) DO UPDATE SET value = excluded.value"));
    XNODE_TRY(m_delete_mark, m_db.prepare("DELETE FROM source_marks WHERE source = ?1 AND key = ?2"));
    XNODE_TRY(m_select_marks, m_db.prepare("SELECT key, value FROM source_marks WHERE source = ?1 ORDER BY key"));
    XNODE_TRY(m_select_mark, m_db.prepare("SELECT value FROM source_marks WHERE source = ?1 AND key = ?2"));
    // The chunk holding after_seq+1 (the newest starting at or before it) and every later one.
    XNODE_TRY(m_select_batch, m_db.prepare(
        "SELECT id, first_seq, record_count, raw_bytes, data FROM chunks WHERE stream = ?1 AND first_seq >= "
        "coalesce((SELECT max(first_seq) FROM chunks WHERE stream = ?1 AND first_seq <= ?2), 0) "
        "ORDER BY first_seq"));
    XNODE_TRY(m_delete_acked, m_db.prepare(
        "DELETE FROM chunks WHERE stream = ?1 AND first_seq <= ?2 AND first_seq + record_count - 1 <= ?2 "
        "RETURNING id, length(data), raw_bytes"));
    XNODE_TRY(m_select_oldest_chunk, m_db.prepare(
        "SELECT id, stream, first_seq, record_count, length(data), raw_bytes FROM chunks ORDER BY id LIMIT 1"));
    XNODE_TRY(m_delete_chunk, m_db.prepare("DELETE FROM chunks WHERE id = ?1"));
    XNODE_TRY(m_select_last_gap, m_db.prepare(
        "SELECT from_seq, to_seq FROM gaps WHERE stream = ?1 ORDER BY from_seq DESC LIMIT 1"));
    XNODE_TRY(m_insert_gap, m_db.prepare("INSERT INTO gaps(stream, from_seq, to_seq, reason) VALUES(?1, ?2, ?3, ?4)"));
    XNODE_TRY(m_extend_gap, m_db.prepare("UPDATE gaps SET to_seq = ?3 WHERE stream = ?1 AND from_seq = ?2"));
    return {};
  }

  void close_statements() {
    for (sqlite::Statement* s : {&m_upsert_stream, &m_insert_chunk, &m_select_chunk_data, &m_update_chunk,
                                 &m_insert_quarantine, &m_upsert_mark, &m_delete_mark, &m_select_marks, &m_select_mark,
                                 &m_select_batch, &m_delete_acked, &m_select_oldest_chunk, &m_delete_chunk,
                                 &m_select_last_gap, &m_insert_gap, &m_extend_gap})
      *s = sqlite::Statement();
  }

  // The in-memory view of the tables; reloaded after a failed transaction so memory never runs
  // ahead of the file.
  Expected<void> load_state() {
    m_streams.clear();
    m_read_cache_id = 0;
    {
      XNODE_TRY(auto q, m_db.prepare("SELECT stream, next_seq, acked_through, evicted, reconciled FROM streams"));
      for (;;) {
        XNODE_TRY(bool row, q.step());
        if (!row) break;
        StreamState& s = m_streams[std::string(q.column_text(0))];
        s.next_seq = static_cast<std::uint64_t>(q.column_int64(1));
        s.acked_through = static_cast<std::uint64_t>(q.column_int64(2));
        s.evicted = static_cast<std::uint64_t>(q.column_int64(3));
        s.reconciled = q.column_int64(4) != 0;
      }
    }
    {
      XNODE_TRY(auto q, m_db.prepare(
          "SELECT stream, id, first_seq, record_count, raw_bytes, length(data) FROM chunks c "
          "WHERE first_seq = (SELECT max(first_seq) FROM chunks WHERE stream = c.stream)"));
      for (;;) {
        XNODE_TRY(bool row, q.step());
        if (!row) break;
        StreamState& s = m_streams[std::string(q.column_text(0))];
        s.tail_id = q.column_int64(1);
        s.tail_first = static_cast<std::uint64_t>(q.column_int64(2));
        s.tail_count = static_cast<std::uint64_t>(q.column_int64(3));
        s.tail_raw = static_cast<std::uint64_t>(q.column_int64(4));
        s.tail_stored = static_cast<std::uint64_t>(q.column_int64(5));
      }
    }
    XNODE_TRY(auto stored, m_db.query_int("SELECT coalesce(sum(length(data)), 0) FROM chunks"));
    XNODE_TRY(auto raw, m_db.query_int("SELECT coalesce(sum(raw_bytes), 0) FROM chunks"));
    m_stored_total = static_cast<std::uint64_t>(stored);
    m_raw_total = static_cast<std::uint64_t>(raw);
    return {};
  }

  Expected<void> save_stream(const std::string& name, const StreamState& s) {
    sqlite::Statement::Reset reset(m_upsert_stream);
    m_upsert_stream.bind(1, name)
        .bind(2, static_cast<std::int64_t>(s.next_seq))
        .bind(3, static_cast<std::int64_t>(s.acked_through))
        .bind(4, static_cast<std::int64_t>(s.evicted))
        .bind(5, std::int64_t{s.reconciled ? 1 : 0});
    return m_upsert_stream.run();
  }

  // --- submit (group commit) -------------------------------------------------------------------

  static std::string validate(const IntakeBatch& b) {
    for (std::size_t i = 0; i < b.records.size(); ++i) {
      const QueuedRecord& r = b.records[i];
      if (r.stream.empty()) return "record " + std::to_string(i) + ": no stream";
      if (r.tail.empty() || r.tail.back() != '}') return "record " + std::to_string(i) + ": tail must be the rest of a JSON object";
      if (r.tail.find('\n') != std::string::npos) return "record " + std::to_string(i) + ": tail contains a newline";
    }
    for (const SourceMark& m : b.marks)
      if (m.source.empty() || m.key.empty()) return "source mark without source or key";
    return {};
  }

  // The stored value of a source mark inside the open transaction ("" when there is none).
  Expected<std::string> current_mark(const std::string& source, const std::string& key) {
    sqlite::Statement::Reset reset(m_select_mark);
    m_select_mark.bind(1, source).bind(2, key);
    XNODE_TRY(bool row, m_select_mark.step());
    if (!row) return std::string();
    return std::string(m_select_mark.column_text(0));
  }

  void process_submits(std::vector<Task>& group) {
    std::vector<SubmitResult> results(group.size());
    auto failure = [&](const std::string& message) {
      for (auto& r : results) {
        if (r.status == SubmitStatus::ok) {
          r.status = SubmitStatus::failed;
          r.error = message;
          r.first_seq.clear();
        }
      }
    };

    std::map<std::string, std::vector<Segment>, std::less<>> pending;
    Expected<void> outcome = [&]() -> Expected<void> {
      if (!m_fatal.empty()) return Error(m_fatal);
      XNODE_TRY(auto tx, sqlite::Transaction::begin(m_db));
      const std::int64_t now_ms = to_unix_ms(Clock::now());
      std::uint64_t admitted_estimate = 0;
      for (std::size_t i = 0; i < group.size(); ++i) {
        IntakeBatch& b = group[i].batch;
        SubmitResult& result = results[i];
        if (std::string problem = validate(b); !problem.empty()) {
          result.status = SubmitStatus::failed;
          result.error = "refused by queue: " + problem;
          continue;
        }
        bool marks_in_order = true;
        for (const SourceMark& m : b.marks) {
          if (!m.expect) continue;
          XNODE_TRY(std::string current, current_mark(m.source, m.key));
          if (current != *m.expect) marks_in_order = false;
        }
        if (!marks_in_order) {
          result.status = SubmitStatus::queue_full;  // behind a refused batch of the same source
          continue;
        }
        if (m_options.on_full == OnFull::block && !b.records.empty()) {
          // Stored size after compression is known only once compressed: estimate from the ratio
          // seen so far (4:1 before any data). A queue holding nothing admits any one submit, so
          // an oversized one cannot block its source forever.
          std::uint64_t raw = 0;
          for (const auto& r : b.records) raw += r.tail.size() + 20;
          const std::uint64_t estimate = m_raw_total > 0 ? raw * m_stored_total / m_raw_total + 1 : raw / 4 + 1;
          const std::uint64_t held = m_stored_total + admitted_estimate;
          if (held > 0 && held + estimate > m_options.max_bytes) {
            result.status = SubmitStatus::queue_full;
            continue;
          }
          admitted_estimate += estimate;
        }
        if (!b.quarantine_resolved.empty()) {
          XNODE_TRY(bool present, quarantine_ops::all_present(m_db, b.quarantine_resolved));
          if (!present) {
            result.status = SubmitStatus::failed;
            result.error = "refused by queue: a quarantine entry of this retry is gone (retried or purged meanwhile)";
            continue;
          }
          XNODE_TRY_VOID(quarantine_ops::remove(m_db, b.quarantine_resolved));
        }
        result.first_seq.reserve(b.records.size());
        // Records of a stream covered by the submit's precompressed chunks: the first
        // sum(prechunk counts) of them, in order; a stream's prechunks are adjacent in the vector.
        struct Covered {
          std::size_t next_chunk = 0;     // the prechunk that starts at `boundary`
          std::size_t boundary = 0;       // index (within the stream) where it starts
          std::size_t records = 0;        // records covered in all
        };
        std::map<std::string_view, Covered> pre;
        for (std::size_t c = 0; c < group[i].prechunks.size(); ++c) {
          pre.try_emplace(group[i].prechunks[c].stream, Covered{c, 0, 0}).first->second.records +=
              group[i].prechunks[c].count;
        }
        std::map<std::string_view, std::size_t> seen;
        for (const QueuedRecord& r : b.records) {
          StreamState& s = m_streams[r.stream];
          const std::uint64_t seq = s.next_seq++;
          s.dirty = true;
          result.first_seq.push_back(seq);
          std::vector<Segment>& segments = pending[r.stream];
          const std::size_t index = seen[r.stream]++;
          const auto covered = pre.find(r.stream);
          const std::uint32_t wire = static_cast<std::uint32_t>(chunk::wire_line_size(seq, r.tail.size()));
          if (covered != pre.end() && index < covered->second.records) {
            Covered& cv = covered->second;
            if (index == cv.boundary) {
              PreChunk& pc = group[i].prechunks[cv.next_chunk++];
              cv.boundary += pc.count;
              Segment seg;
              seg.first_seq = seq;
              seg.blob = std::move(pc.blob);
              segments.push_back(std::move(seg));
            }
            segments.back().wire.push_back(wire);
            continue;
          }
          if (segments.empty() || segments.back().precompressed()) {
            segments.emplace_back();
            segments.back().first_seq = seq;
          }
          Segment& p = segments.back();
          p.text += r.tail;
          p.text += '\n';
          p.ends.push_back(static_cast<std::uint32_t>(p.text.size()));
          p.wire.push_back(wire);
        }
        for (const QuarantineEntry& q : b.quarantine) {
          sqlite::Statement::Reset reset(m_insert_quarantine);
          m_insert_quarantine.bind(1, q.at == TimePoint{} ? now_ms : to_unix_ms(q.at))
              .bind(2, q.source).bind(3, q.stream).bind(4, q.origin).bind(5, q.reason).bind_blob(6, q.content);
          XNODE_TRY_VOID(m_insert_quarantine.run());
        }
        for (const SourceMark& m : b.marks) {
          sqlite::Statement& st = m.value.empty() ? m_delete_mark : m_upsert_mark;
          sqlite::Statement::Reset reset(st);
          st.bind(1, m.source).bind(2, m.key);
          if (!m.value.empty()) st.bind(3, m.value);
          XNODE_TRY_VOID(st.run());
        }
      }
      m_first_new_chunk_id = INT64_MAX;
      for (auto& [name, segments] : pending)
        for (const Segment& seg : segments) XNODE_TRY_VOID(store_records(name, seg, now_ms));
      for (auto& [name, s] : m_streams) {
        if (!s.dirty) continue;
        XNODE_TRY_VOID(save_stream(name, s));
        s.dirty = false;
      }
      if (m_options.on_full == OnFull::drop_oldest) XNODE_TRY_VOID(evict_over_quota());
      return tx.commit();
    }();

    if (!outcome) {
      log::error(kLog, "storing " + std::to_string(group.size()) + " submit(s) failed: " + outcome.error().message);
      failure(outcome.error().message);
      reload_after_failure();
    } else {
      ++m_transactions;
    }
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (group[i].submit_done) group[i].submit_done(std::move(results[i]));
    }
  }

  void reload_after_failure() {
    auto r = load_state();
    if (!r) log::error(kLog, "reloading queue state failed: " + r.error().message);
  }

  // Appends a stream's new records: first to its newest chunk while that is small, then in new
  // chunks of chunk_records.
  Expected<void> store_records(const std::string& name, const Segment& p, std::int64_t now_ms) {
    StreamState& s = m_streams[name];
    if (p.precompressed()) return insert_chunk(name, s, p.first_seq, p.wire.size(), p.blob,
                                               std::accumulate(p.wire.begin(), p.wire.end(), std::uint64_t{0}), now_ms);
    std::size_t next = 0;  // index of the first record not yet stored
    const std::size_t total = p.ends.size();
    auto range_raw = [&](std::size_t from, std::size_t to) {
      std::uint64_t raw = 0;
      for (std::size_t i = from; i < to; ++i) raw += p.wire[i];
      return raw;
    };
    auto text_of = [&](std::size_t from, std::size_t to) {
      const std::size_t b = from == 0 ? 0 : p.ends[from - 1];
      return std::string_view(p.text).substr(b, p.ends[to - 1] - b);
    };

    std::string text;  // the newest chunk's records, when the new ones can be appended to it
    const bool appendable = s.tail_id != 0 && s.tail_count < m_options.chunk_records &&
                            s.tail_stored <= kAppendLimitStoredBytes && s.tail_first + s.tail_count == p.first_seq;
    if (appendable) {
      sqlite::Statement::Reset reset(m_select_chunk_data);
      m_select_chunk_data.bind(1, s.tail_id);
      XNODE_TRY(bool row, m_select_chunk_data.step());
      if (!row) return Error("queue: chunk " + std::to_string(s.tail_id) + " vanished");
      auto old_text = chunk::decompress(m_select_chunk_data.column_blob(0), s.tail_raw);
      if (old_text) {
        text = std::move(*old_text);
      } else {
        // A damaged chunk must not stop intake: leave it as it is and start a new chunk.
        log::error(kLog, "queue " + m_options.path + ": chunk " + std::to_string(s.tail_id) + " of stream " + name +
                             ": " + old_text.error().message + "; not appending to it");
      }
    }
    if (appendable && !text.empty()) {
      const std::size_t take = std::min<std::size_t>(total, m_options.chunk_records - s.tail_count);
      text += text_of(0, take);
      XNODE_TRY(auto blob, chunk::compress(text));
      const std::uint64_t raw = s.tail_raw + range_raw(0, take);
      {
        sqlite::Statement::Reset reset(m_update_chunk);
        m_update_chunk.bind(1, s.tail_id)
            .bind(2, static_cast<std::int64_t>(s.tail_count + take))
            .bind(3, static_cast<std::int64_t>(raw))
            .bind_blob_static(4, blob);
        XNODE_TRY_VOID(m_update_chunk.run());
      }
      m_stored_total = m_stored_total - s.tail_stored + blob.size();
      m_raw_total = m_raw_total - s.tail_raw + raw;
      if (m_read_cache_id == s.tail_id) m_read_cache_id = 0;
      s.tail_count += take;
      s.tail_raw = raw;
      s.tail_stored = blob.size();
      next = take;
    }
    while (next < total) {
      const std::size_t end = std::min<std::size_t>(total, next + m_options.chunk_records);
      XNODE_TRY(auto blob, chunk::compress(text_of(next, end)));
      XNODE_TRY_VOID(insert_chunk(name, s, p.first_seq + next, end - next, blob, range_raw(next, end), now_ms));
      next = end;
    }
    return {};
  }

  Expected<void> insert_chunk(const std::string& name, StreamState& s, std::uint64_t first, std::uint64_t count,
                              const std::string& blob, std::uint64_t raw, std::int64_t now_ms) {
    {
      sqlite::Statement::Reset reset(m_insert_chunk);
      m_insert_chunk.bind(1, name)
          .bind(2, static_cast<std::int64_t>(first))
          .bind(3, static_cast<std::int64_t>(count))
          .bind(4, static_cast<std::int64_t>(raw))
          .bind(5, now_ms)
          .bind_blob_static(6, blob);
      XNODE_TRY_VOID(m_insert_chunk.run());
    }
    s.tail_id = m_db.last_insert_rowid();
    m_first_new_chunk_id = std::min(m_first_new_chunk_id, s.tail_id);
    s.tail_first = first;
    s.tail_count = count;
    s.tail_raw = raw;
    s.tail_stored = blob.size();
    m_stored_total += blob.size();
    m_raw_total += raw;
    return {};
  }

  // drop_oldest: evicts whole chunks, oldest first across streams, until the stored bytes fit;
  // each evicted range becomes a pending gap (merged with the stream's last one when adjacent).
  // Chunks written by the running transaction are never evicted by it.
  Expected<void> evict_over_quota() {
    static log::RateLimit warn_limit(10, std::chrono::minutes(1));
    while (m_stored_total > m_options.max_bytes) {
      std::int64_t id = 0;
      std::string name;
      std::uint64_t first = 0, count = 0, stored = 0, raw = 0;
      {
        sqlite::Statement::Reset reset(m_select_oldest_chunk);
        XNODE_TRY(bool row, m_select_oldest_chunk.step());
        if (!row) break;
        id = m_select_oldest_chunk.column_int64(0);
        name = std::string(m_select_oldest_chunk.column_text(1));
        first = static_cast<std::uint64_t>(m_select_oldest_chunk.column_int64(2));
        count = static_cast<std::uint64_t>(m_select_oldest_chunk.column_int64(3));
        stored = static_cast<std::uint64_t>(m_select_oldest_chunk.column_int64(4));
        raw = static_cast<std::uint64_t>(m_select_oldest_chunk.column_int64(5));
      }
      if (id >= m_first_new_chunk_id) break;
      {
        sqlite::Statement::Reset reset(m_delete_chunk);
        m_delete_chunk.bind(1, id);
        XNODE_TRY_VOID(m_delete_chunk.run());
      }
      m_stored_total -= std::min(m_stored_total, stored);
      m_raw_total -= std::min(m_raw_total, raw);
      if (m_read_cache_id == id) m_read_cache_id = 0;
      StreamState& s = m_streams[name];
      if (s.tail_id == id) s.tail_id = 0;
      const std::uint64_t from = std::max(first, s.acked_through + 1);
      const std::uint64_t to = first + count - 1;
      if (from > to) continue;
      XNODE_TRY_VOID(record_gap(name, from, to));
      s.evicted += to - from + 1;
      s.dirty = true;
      warn_limit.write(log::Level::warning, kLog,
                       "queue " + m_options.path + " is full (max_bytes " + std::to_string(m_options.max_bytes) +
                           ", on_full drop_oldest): evicted records " + std::to_string(from) + "-" + std::to_string(to) +
                           " of stream " + name + "; the gap will be declared to the platform");
    }
    for (auto& [name, s] : m_streams) {
      if (!s.dirty) continue;
      XNODE_TRY_VOID(save_stream(name, s));
      s.dirty = false;
    }
    return {};
  }

  Expected<void> record_gap(const std::string& name, std::uint64_t from, std::uint64_t to) {
    bool extended = false;
    {
      sqlite::Statement::Reset reset(m_select_last_gap);
      m_select_last_gap.bind(1, name);
      XNODE_TRY(bool row, m_select_last_gap.step());
      if (row && static_cast<std::uint64_t>(m_select_last_gap.column_int64(1)) + 1 == from) {
        const std::int64_t gap_from = m_select_last_gap.column_int64(0);
        m_select_last_gap.reset();
        sqlite::Statement::Reset reset2(m_extend_gap);
        m_extend_gap.bind(1, name).bind(2, gap_from).bind(3, static_cast<std::int64_t>(to));
        XNODE_TRY_VOID(m_extend_gap.run());
        extended = true;
      }
    }
    if (!extended) {
      sqlite::Statement::Reset reset(m_insert_gap);
      m_insert_gap.bind(1, name)
          .bind(2, static_cast<std::int64_t>(from))
          .bind(3, static_cast<std::int64_t>(to))
          .bind(4, std::string_view("evicted: queue full (drop_oldest)"));
      XNODE_TRY_VOID(m_insert_gap.run());
    }
    return {};
  }

  // --- reading and acknowledging ---------------------------------------------------------------

  Expected<const chunk::Lines*> chunk_lines(std::int64_t id, std::string_view blob, std::uint64_t count,
                                            std::uint64_t raw) {
    if (m_read_cache_id != id) {
      m_read_cache_id = 0;
      XNODE_TRY(auto text, chunk::decompress(blob, raw));
      auto lines = chunk::split(std::move(text), count);
      if (!lines) return Error("queue " + m_options.path + ": chunk " + std::to_string(id) + ": " + lines.error().message);
      m_read_cache = std::move(*lines);
      m_read_cache_id = id;
    }
    return &m_read_cache;
  }

  Expected<StoredBatch> do_read_batch(const std::string& stream, std::uint64_t after_seq, std::size_t max_records,
                                      std::size_t max_bytes) {
    StoredBatch batch;
    batch.stream = stream;
    if (max_records == 0) max_records = 1;
    sqlite::Statement::Reset reset(m_select_batch);
    m_select_batch.bind(1, stream).bind(2, static_cast<std::int64_t>(after_seq + 1));
    for (;;) {
      XNODE_TRY(bool row, m_select_batch.step());
      if (!row) break;
      const std::int64_t id = m_select_batch.column_int64(0);
      const auto first = static_cast<std::uint64_t>(m_select_batch.column_int64(1));
      const auto count = static_cast<std::uint64_t>(m_select_batch.column_int64(2));
      const auto raw = static_cast<std::uint64_t>(m_select_batch.column_int64(3));
      if (first + count - 1 <= after_seq) continue;
      const std::uint64_t start = std::max(first, after_seq + 1);
      if (batch.count > 0 && start != batch.first_seq + batch.count) break;  // a hole: stop before it
      XNODE_TRY(const chunk::Lines* lines, chunk_lines(id, m_select_batch.column_blob(4), count, raw));
      if (batch.count == 0) {
        batch.first_seq = start;
        batch.body.reserve(std::min<std::size_t>(max_bytes, raw) + 512);
      }
      for (std::uint64_t seq = start; seq < first + count; ++seq) {
        const std::string_view tail = lines->tail(seq - first);
        const std::size_t size = chunk::wire_line_size(seq, tail.size());
        if (batch.count >= max_records || (batch.count > 0 && batch.body.size() + size > max_bytes)) return batch;
        chunk::append_wire_line(batch.body, seq, tail);
        ++batch.count;
      }
    }
    return batch;
  }

  Expected<void> do_acknowledge(const std::string& stream, std::uint64_t seq) {
    auto it = m_streams.find(stream);
    if (it == m_streams.end()) return Error("queue: acknowledge for unknown stream " + stream);
    StreamState& s = it->second;
    if (seq >= s.next_seq)
      return Error("queue: acknowledge through " + std::to_string(seq) + " of stream " + stream +
                   " is beyond its last seq " + std::to_string(s.next_seq - 1));
    if (seq <= s.acked_through) return {};
    // An acknowledgement is committed without its own fsync (synchronous=NORMAL for this one
    // transaction; the next submit's or checkpoint's fsync makes it durable, WAL order keeps the
    // file consistent). Losing one to a power cut only means resending records the platform then
    // counts as duplicates — never a loss — and it halves the cost of draining.
    const bool relaxed = m_options.durability == Durability::full;
    if (relaxed) XNODE_TRY_VOID(m_db.exec("PRAGMA synchronous=NORMAL"));
    auto r = [&]() -> Expected<void> {
      XNODE_TRY(auto tx, sqlite::Transaction::begin(m_db));
      XNODE_TRY_VOID(delete_acked(stream, s, seq));
      s.acked_through = seq;
      XNODE_TRY_VOID(save_stream(stream, s));
      return tx.commit();
    }();
    if (relaxed) {
      auto restored = m_db.exec("PRAGMA synchronous=FULL");
      if (!restored) {
        // Never go on with weaker durability than configured: refuse submits from now on.
        m_fatal = "queue " + m_options.path + ": cannot restore synchronous=FULL: " + restored.error().message;
        log::error(kLog, m_fatal);
      }
    }
    if (!r) reload_after_failure();
    return r;
  }

  Expected<void> delete_acked(const std::string& stream, StreamState& s, std::uint64_t seq) {
    sqlite::Statement::Reset reset(m_delete_acked);
    m_delete_acked.bind(1, stream).bind(2, static_cast<std::int64_t>(seq));
    for (;;) {
      XNODE_TRY(bool row, m_delete_acked.step());
      if (!row) break;
      const std::int64_t id = m_delete_acked.column_int64(0);
      m_stored_total -= std::min<std::uint64_t>(m_stored_total, static_cast<std::uint64_t>(m_delete_acked.column_int64(1)));
      m_raw_total -= std::min<std::uint64_t>(m_raw_total, static_cast<std::uint64_t>(m_delete_acked.column_int64(2)));
      if (id == m_read_cache_id) m_read_cache_id = 0;
      if (id == s.tail_id) s.tail_id = 0;
    }
    return {};
  }

  Expected<StreamStats> do_reconcile(const std::string& stream, std::uint64_t platform_acked) {
    StreamState& s = m_streams[stream];
    auto r = [&]() -> Expected<void> {
      XNODE_TRY(auto tx, sqlite::Transaction::begin(m_db));
      XNODE_TRY(auto first_pending, first_pending_seq(stream, s));
      if (!s.reconciled && s.acked_through == 0 && first_pending != 0 && first_pending <= platform_acked) {
        // Records taken in before this database ever met the platform (a node that lost its
        // state): none of them was sent, so they are renumbered after the platform's mark instead
        // of being mistaken for delivered ones.
        const std::uint64_t delta = platform_acked + 1 - first_pending;
        for (const char* sql : {"UPDATE chunks SET first_seq = -(first_seq + ?2) WHERE stream = ?1",
                                "UPDATE chunks SET first_seq = -first_seq WHERE stream = ?1 AND first_seq < 0",
                                "UPDATE gaps SET from_seq = -(from_seq + ?2), to_seq = to_seq + ?2 WHERE stream = ?1",
                                "UPDATE gaps SET from_seq = -from_seq WHERE stream = ?1 AND from_seq < 0"}) {
          XNODE_TRY(auto q, m_db.prepare(sql));
          q.bind(1, stream);
          if (std::string_view(sql).find("?2") != std::string_view::npos) q.bind(2, static_cast<std::int64_t>(delta));
          XNODE_TRY_VOID(q.run());
        }
        log::notice(kLog, "stream " + stream + ": records taken in before the first hello renumbered from seq " +
                              std::to_string(first_pending) + " to " + std::to_string(first_pending + delta) +
                              " (platform acked_through " + std::to_string(platform_acked) + ")");
        s.next_seq += delta;
        if (s.tail_id != 0) s.tail_first += delta;
        m_read_cache_id = 0;
      }
      if (platform_acked < s.acked_through)
        log::warning(kLog, "stream " + stream + ": the platform reports acked_through " + std::to_string(platform_acked) +
                               ", below the node's " + std::to_string(s.acked_through) + "; keeping the node's");
      if (platform_acked > s.acked_through) {
        if (platform_acked >= s.next_seq)
          log::warning(kLog, "stream " + stream + ": the platform has seq up to " + std::to_string(platform_acked) +
                                 " but this node assigned only up to " + std::to_string(s.next_seq - 1) +
                                 " (local state was lost?); continuing from " + std::to_string(platform_acked + 1));
        s.next_seq = std::max(s.next_seq, platform_acked + 1);
        XNODE_TRY_VOID(delete_acked(stream, s, platform_acked));
        s.acked_through = platform_acked;
        XNODE_TRY(auto q, m_db.prepare("DELETE FROM gaps WHERE stream = ?1 AND to_seq <= ?2"));
        q.bind(1, stream).bind(2, static_cast<std::int64_t>(platform_acked));
        XNODE_TRY_VOID(q.run());
      }
      s.reconciled = true;
      XNODE_TRY_VOID(save_stream(stream, s));
      return tx.commit();
    }();
    if (!r) {
      reload_after_failure();
      return r.error();
    }
    XNODE_TRY(auto all, queue_schema::read_stats(m_db));
    for (auto& st : all.streams)
      if (st.stream == stream) return std::move(st);
    return Error("queue: stream " + stream + " missing after reconcile");
  }

  Expected<std::uint64_t> first_pending_seq(const std::string& stream, const StreamState& s) {
    XNODE_TRY(auto q, m_db.prepare("SELECT min(first_seq) FROM chunks WHERE stream = ?1"));
    q.bind(1, stream);
    XNODE_TRY(bool row, q.step());
    if (!row || q.column_is_null(0)) return std::uint64_t{0};
    return std::max(static_cast<std::uint64_t>(q.column_int64(0)), s.acked_through + 1);
  }

  Expected<void> do_mark_gap_declared(const GapRange& gap) {
    auto r = [&]() -> Expected<void> {
      XNODE_TRY(auto tx, sqlite::Transaction::begin(m_db));
      XNODE_TRY(auto q, m_db.prepare("DELETE FROM gaps WHERE stream = ?1 AND from_seq = ?2 AND to_seq = ?3"));
      q.bind(1, gap.stream).bind(2, static_cast<std::int64_t>(gap.from_seq)).bind(3, static_cast<std::int64_t>(gap.to_seq));
      XNODE_TRY_VOID(q.run());
      if (m_db.changes() == 0)
        return Error("queue: no pending gap " + std::to_string(gap.from_seq) + "-" + std::to_string(gap.to_seq) +
                     " of stream " + gap.stream);
      // The platform answers a declared gap with acked_through = to_seq (platform-api.md §3.4).
      auto it = m_streams.find(gap.stream);
      if (it != m_streams.end() && gap.to_seq > it->second.acked_through && gap.to_seq < it->second.next_seq) {
        XNODE_TRY_VOID(delete_acked(gap.stream, it->second, gap.to_seq));
        it->second.acked_through = gap.to_seq;
        XNODE_TRY_VOID(save_stream(gap.stream, it->second));
      }
      return tx.commit();
    }();
    if (!r) reload_after_failure();
    return r;
  }

  std::vector<SourceMark> do_read_marks(const std::string& source) {
    std::vector<SourceMark> marks;
    sqlite::Statement::Reset reset(m_select_marks);
    m_select_marks.bind(1, source);
    for (;;) {
      auto row = m_select_marks.step();
      if (!row) {
        log::error(kLog, row.error().message);
        break;
      }
      if (!*row) break;
      marks.push_back(SourceMark{source, std::string(m_select_marks.column_text(0)), std::string(m_select_marks.column_text(1))});
    }
    return marks;
  }

  // --- members ---------------------------------------------------------------------------------

  QueueOptions m_options;
  LockFile m_lock;
  sqlite::Database m_db;
  sqlite::Statement m_upsert_stream, m_insert_chunk, m_select_chunk_data, m_update_chunk, m_insert_quarantine,
      m_upsert_mark, m_delete_mark, m_select_marks, m_select_mark, m_select_batch, m_delete_acked, m_select_oldest_chunk,
      m_delete_chunk, m_select_last_gap, m_insert_gap, m_extend_gap;

  // Store thread only.
  std::map<std::string, StreamState, std::less<>> m_streams;
  std::uint64_t m_stored_total = 0;  // compressed bytes of all chunks
  std::uint64_t m_raw_total = 0;     // their NDJSON size
  std::int64_t m_first_new_chunk_id = INT64_MAX;
  std::int64_t m_read_cache_id = 0;  // the chunk last decompressed for read_batch
  chunk::Lines m_read_cache;
  std::uint64_t m_transactions = 0;
  GroupLinger m_linger;
  std::string m_fatal;  // set when the store must refuse all further submits

  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<Task> m_tasks;
  std::size_t m_queued_submit_bytes = 0;
  std::size_t m_queued_submits = 0;
  std::size_t m_queued_other = 0;
  bool m_stopping = false;  // set by the compressor once it has handed on everything

  std::mutex m_in_mutex;  // the compression stage's queue
  std::condition_variable m_in_cv;
  std::deque<std::pair<std::uint64_t, Task>> m_in_tasks;  // (order, task)
  std::uint64_t m_in_next_order = 0;    // given to the next posted task
  std::uint64_t m_in_next_forward = 0;  // the order that may be handed on next
  std::atomic<std::size_t> m_in_submits{0};  // submits posted and not yet handed on (lowered under m_mutex)
  std::size_t m_compressors_done = 0;
  bool m_in_stopping = false;
  std::array<std::thread, 2> m_compressors;
  std::atomic<std::int64_t> m_alive{0};
  std::thread m_thread;
};

}  // namespace

std::unique_ptr<QueueStore> QueueStore::open(const QueueOptions& options) {
  return std::make_unique<SqliteQueueStore>(options);
}

}  // namespace xnode::io
