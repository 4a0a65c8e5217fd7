#include "io/queue/queue_schema.hpp"

#include <sys/stat.h>

#include <array>

namespace xnode::io::queue_schema {

namespace {

constexpr std::string_view kVersion1 = R"sql(
CREATE TABLE streams(
  stream TEXT PRIMARY KEY,
  next_seq INTEGER NOT NULL,               -- seq of the next record; never goes down
  acked_through INTEGER NOT NULL DEFAULT 0,
  evicted INTEGER NOT NULL DEFAULT 0,      -- records lost to drop_oldest, all time
  reconciled INTEGER NOT NULL DEFAULT 0    -- 1 once a hello told us the platform's acked_through
) WITHOUT ROWID;
CREATE TABLE chunks(
  id INTEGER PRIMARY KEY,                  -- insertion order: drop_oldest evicts the smallest
  stream TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  record_count INTEGER NOT NULL,
  raw_bytes INTEGER NOT NULL,              -- the records' size as NDJSON wire lines
  oldest_ms INTEGER NOT NULL,              -- intake time of the chunk's first record, Unix ms
  data BLOB NOT NULL                       -- zlib of the record tails, one a line (chunk_codec.hpp)
);
CREATE UNIQUE INDEX chunks_by_stream ON chunks(stream, first_seq);
CREATE TABLE quarantine(
  id INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  source TEXT NOT NULL,
  stream TEXT NOT NULL,
  origin TEXT NOT NULL,
  reason TEXT NOT NULL,
  content BLOB NOT NULL                    -- verbatim, possibly not UTF-8
);
CREATE TABLE source_marks(
  source TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY(source, key)
) WITHOUT ROWID;
CREATE TABLE gaps(                          -- evicted ranges not yet declared to the platform
  stream TEXT NOT NULL,
  from_seq INTEGER NOT NULL,
  to_seq INTEGER NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY(stream, from_seq)
) WITHOUT ROWID;
)sql";

constexpr std::array<std::string_view, 1> kMigrations{kVersion1};

}  // namespace

std::span<const std::string_view> migrations() { return kMigrations; }

Expected<QueueStats> read_stats(sqlite::Database& db) {
  QueueStats stats;
  {
    XNODE_TRY(auto q, db.prepare("SELECT stream, next_seq, acked_through, evicted FROM streams ORDER BY stream"));
    for (;;) {
      XNODE_TRY(bool row, q.step());
      if (!row) break;
      StreamStats s;
      s.stream = std::string(q.column_text(0));
      s.last_seq = static_cast<std::uint64_t>(q.column_int64(1) - 1);
      s.acked_through = static_cast<std::uint64_t>(q.column_int64(2));
      s.evicted = static_cast<std::uint64_t>(q.column_int64(3));
      stats.streams.push_back(std::move(s));
    }
  }
  {
    // A partly acknowledged chunk counts only its unacknowledged records; its bytes count whole
    // (the chunk is deleted only once fully acknowledged). length() of a blob reads no content.
    XNODE_TRY(auto q, db.prepare(R"sql(
      SELECT c.stream,
             sum(c.first_seq + c.record_count - max(c.first_seq, s.acked_through + 1)),
             sum(c.raw_bytes), sum(length(c.data)), min(c.oldest_ms)
      FROM chunks c JOIN streams s ON s.stream = c.stream
      GROUP BY c.stream ORDER BY c.stream)sql"));
    std::size_t i = 0;
    for (;;) {
      XNODE_TRY(bool row, q.step());
      if (!row) break;
      const std::string_view name = q.column_text(0);
      while (i < stats.streams.size() && stats.streams[i].stream < name) ++i;
      if (i == stats.streams.size() || stats.streams[i].stream != name) continue;
      StreamStats& s = stats.streams[i];
      s.pending = static_cast<std::uint64_t>(q.column_int64(1));
      s.bytes = static_cast<std::uint64_t>(q.column_int64(2));
      s.stored_bytes = static_cast<std::uint64_t>(q.column_int64(3));
      s.oldest = from_unix_ms(q.column_int64(4));
    }
  }
  XNODE_TRY(auto quarantined, db.query_int("SELECT count(*) FROM quarantine"));
  stats.quarantine_records = static_cast<std::uint64_t>(quarantined);
  stats.file_bytes = file_bytes(db.path());
  return stats;
}

Expected<std::vector<GapRange>> read_gaps(sqlite::Database& db) {
  std::vector<GapRange> gaps;
  XNODE_TRY(auto q, db.prepare("SELECT stream, from_seq, to_seq, reason FROM gaps ORDER BY stream, from_seq"));
  for (;;) {
    XNODE_TRY(bool row, q.step());
    if (!row) break;
    gaps.push_back(GapRange{std::string(q.column_text(0)), static_cast<std::uint64_t>(q.column_int64(1)),
                            static_cast<std::uint64_t>(q.column_int64(2)), std::string(q.column_text(3))});
  }
  return gaps;
}

std::uint64_t file_bytes(const std::string& path) {
  std::uint64_t total = 0;
  for (const std::string& p : {path, path + "-wal"}) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) total += static_cast<std::uint64_t>(st.st_size);
  }
  return total;
}

}  // namespace xnode::io::queue_schema
