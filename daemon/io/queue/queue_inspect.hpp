// Read-only views of a queue database for xnodectl, safe while xnoded runs: the file is opened
// READ-ONLY and WAL lets a reader see the last committed state without blocking the writer.
// Nothing here takes the daemon's lock or writes to the queue.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/expected.hpp"
#include "core/base/time.hpp"
#include "io/queue/queue_store.hpp"
#include "io/sqlite/database.hpp"

namespace xnode::io {

struct QuarantineRecord {
  std::int64_t id = 0;
  TimePoint at{};
  std::string source;
  std::string stream;
  std::string origin;
  std::string reason;
  std::string content;       // verbatim (possibly truncated in lists, see content_bytes)
  std::uint64_t content_bytes = 0;
};

class QueueInspector {
 public:
  // Error when there is no queue at `path` or it cannot be read.
  static Expected<QueueInspector> open(const std::string& path);

  // Same figures as QueueStore::stats() (transactions stays 0).
  Expected<QueueStats> stats();
  Expected<std::vector<GapRange>> gaps();
  Expected<std::vector<SourceMark>> marks(const std::string& source);
  // Pending records of `stream` with from_seq <= seq <= to_seq, at most max_records, as NDJSON
  // wire lines (what would be sent). Acknowledged records are not shown.
  Expected<StoredBatch> records(const std::string& stream, std::uint64_t from_seq, std::uint64_t to_seq,
                                std::size_t max_records);
  // Newest first; ids below `before_id` when it is not 0; content cut to `content_limit` bytes.
  Expected<std::vector<QuarantineRecord>> quarantine_list(std::size_t limit, std::int64_t before_id = 0,
                                                          std::size_t content_limit = 200);
  // One entry in full; error when there is none with that id.
  Expected<QuarantineRecord> quarantine_show(std::int64_t id);

 private:
  explicit QueueInspector(sqlite::Database db) : m_db(std::move(db)) {}
  sqlite::Database m_db;
};

}  // namespace xnode::io
