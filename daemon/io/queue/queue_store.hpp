// The durable queue: one stream of records per resource, in SQLite, on its own thread.
//
// Contract (platform-api.md §3.3/§3.4, issue #2):
// - seq numbers are assigned at enqueue, consecutive per stream, never reused (also after a
//   restart, a complete drain, or a platform that reports a higher acked_through);
// - submit() takes records, quarantine entries and source marks and commits them in ONE
//   transaction (group commit: submits waiting together share a transaction, see group_linger.hpp); the
//   completion runs only once that transaction is durable (durability: full → fsynced);
// - records are stored compactly: compressed chunks, many records a row (flash wear);
// - when max_bytes is reached: on_full=block refuses new submits (SubmitStatus::queue_full; the
//   source keeps its input and retries); on_full=drop_oldest evicts the oldest records and records
//   the evicted seq range as a pending gap to declare to the platform. max_bytes counts stored
//   (compressed) bytes; under block a submit is admitted on an estimate of its compressed size, so
//   the queue may pass max_bytes by about one submit; an empty queue admits any one submit;
// - records taken in before the first reconcile_stream of a stream (a node that lost its state
//   and meets the platform again) are renumbered after the platform's acked_through;
// - an exclusive lock file (<path>.lock) makes a second daemon on the same state fail at once;
//   an integrity check at open keeps a damaged file aside (<path>.damaged-<time>) and fails clearly.
//
// Every callback runs on the store's own thread: callers post back to their executor.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/expected.hpp"
#include "core/base/time.hpp"

namespace xnode::io {
namespace sqlite {
class Database;
}

enum class Durability { full, normal };
enum class OnFull { block, drop_oldest };

struct QueueOptions {
  std::string path;                      // SQLite file; <path>.lock beside it
  Durability durability = Durability::full;
  std::uint64_t max_bytes = 512ull << 20;  // stored (compressed) record bytes
  OnFull on_full = OnFull::block;
  std::chrono::milliseconds linger{5};   // upper bound of the adaptive group-commit linger
  std::size_t chunk_records = 1000;      // records a stored chunk at most
};

// One record for a stream. `tail` is the JSON text that follows `{"seq":N,` in the wire line,
// i.e. `"op":"upsert","key":"…","at":"…","data":{…}}` (no newline). The store prepends the seq.
struct QueuedRecord {
  std::string stream;
  std::string tail;
};

// A record kept aside with its reason (bad line, local check failure, platform rejection).
struct QuarantineEntry {
  std::string source;    // source name, or "platform"
  std::string stream;    // resource code; may be empty when unknown
  std::string origin;    // where it came from, e.g. "orders-2026.ndjson:17" or "seq 41880"
  std::string reason;
  std::string content;   // the original content, verbatim
  TimePoint at{};
};

// Progress of a source, saved in the same transaction as the records it produced
// (a spool file's byte offset, a database cursor). An empty value deletes the mark.
struct SourceMark {
  std::string source;
  std::string key;
  std::string value;
  // Compare-and-swap: when set, the submit is taken only if the mark's stored value is exactly
  // this ("" = no mark yet); otherwise it is refused as queue_full and nothing of it is stored.
  // A driver with several batches in flight sets it to the previous batch's value, so that once
  // the queue refuses batch k (full) it cannot accept k+1 ahead of k: a mark never runs ahead of
  // records that are not durable, and a crash can then lose nothing.
  std::optional<std::string> expect = std::nullopt;
};

struct IntakeBatch {
  std::vector<QueuedRecord> records;
  std::vector<QuarantineEntry> quarantine;
  std::vector<SourceMark> marks;
  // Quarantine entries this batch takes back (`xnodectl quarantine retry`), deleted in the same
  // transaction as its records. If one of them is gone already (retried or purged meanwhile)
  // nothing of the batch is stored (SubmitStatus::failed): a retried record is queued once only.
  std::vector<std::int64_t> quarantine_resolved;
};

enum class SubmitStatus { ok, queue_full, failed };
struct SubmitResult {
  SubmitStatus status = SubmitStatus::ok;
  std::string error;                 // when failed
  std::vector<std::uint64_t> first_seq;  // per record of the batch, in order (ok only)
};

// A run of consecutive records of one stream, ready to send: `body` is NDJSON, one line a record,
// each ending in '\n', seq first_seq … first_seq+count-1.
struct StoredBatch {
  std::string stream;
  std::uint64_t first_seq = 0;
  std::uint64_t count = 0;
  std::string body;
};

struct GapRange {
  std::string stream;
  std::uint64_t from_seq = 0;
  std::uint64_t to_seq = 0;
  std::string reason;
};

struct StreamStats {
  std::string stream;
  std::uint64_t pending = 0;        // records stored and not acknowledged
  std::uint64_t bytes = 0;          // their size as NDJSON (uncompressed)
  std::uint64_t stored_bytes = 0;   // their size on disk (compressed)
  std::optional<TimePoint> oldest;  // intake time of the oldest pending record
  std::uint64_t last_seq = 0;       // highest seq assigned (0: none)
  std::uint64_t acked_through = 0;
  std::uint64_t evicted = 0;        // records evicted by drop_oldest, all time
};

struct QueueStats {
  std::vector<StreamStats> streams;
  std::uint64_t quarantine_records = 0;
  std::uint64_t file_bytes = 0;  // database + WAL on disk
  std::uint64_t transactions = 0;  // write transactions of submits since open (group commit); store only
};

class QueueStore {
 public:
  // Opens (creating or migrating) the store and starts its thread. Throws std::runtime_error with
  // a clear message on a lock held by another process, a damaged file, or an unusable path.
  static std::unique_ptr<QueueStore> open(const QueueOptions& options);
  virtual ~QueueStore() = default;

  virtual void submit(IntakeBatch batch, std::function<void(SubmitResult)> done) = 0;
  // Records of `stream` with seq > after_seq, at most max_records / about max_bytes (at least one).
  // An empty batch (count 0) when there is none. If records after after_seq were evicted, the batch
  // starts at the first stored seq (the caller sees the jump and declares the gap).
  virtual void read_batch(std::string stream, std::uint64_t after_seq, std::size_t max_records,
                          std::size_t max_bytes, std::function<void(Expected<StoredBatch>)> done) = 0;
  // The platform acknowledged everything through `seq`: delete those records.
  virtual void acknowledge(std::string stream, std::uint64_t seq, std::function<void(Expected<void>)> done) = 0;
  // After hello: the platform's high-water mark. Raises acked_through (deleting what it covers)
  // and raises the next seq to at least acked_through + 1 so a seq is never reused.
  virtual void reconcile_stream(std::string stream, std::uint64_t platform_acked_through,
                                std::function<void(Expected<StreamStats>)> done) = 0;
  // Gaps recorded by eviction and not yet declared; mark_gap_declared removes one once the
  // platform accepted it.
  virtual void pending_gaps(std::function<void(std::vector<GapRange>)> done) = 0;
  virtual void mark_gap_declared(GapRange gap, std::function<void(Expected<void>)> done) = 0;
  virtual void stats(std::function<void(QueueStats)> done) = 0;
  // Source progress marks (read at start by drivers).
  virtual void read_marks(std::string source, std::function<void(std::vector<SourceMark>)> done) = 0;
  // Runs `work` on the store's thread with its connection (nullptr once closed), for the
  // quarantine table's own operations (quarantine_ops.hpp), which the store keeps no state about.
  virtual void quarantine_work(std::function<void(sqlite::Database*)> work) = 0;

  // Blocks until everything submitted so far is committed; then stops the thread. Idempotent.
  virtual void close() = 0;
  // Time of the store thread's last loop turn (for the watchdog: a stuck thread means a restart).
  virtual std::chrono::steady_clock::time_point last_alive() const = 0;
};

}  // namespace xnode::io
