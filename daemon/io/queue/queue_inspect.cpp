#include "io/queue/queue_inspect.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "io/queue/chunk_codec.hpp"
#include "io/queue/quarantine_ops.hpp"
#include "io/queue/queue_schema.hpp"

namespace xnode::io {

Expected<QueueInspector> QueueInspector::open(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error("no queue at " + path + " (has xnoded run with this configuration?)");
  XNODE_TRY(auto db, sqlite::Database::open(path, sqlite::OpenMode::read_only));
  XNODE_TRY(auto version, db.user_version());
  if (version == 0) return Error(path + " holds no queue (schema version 0)");
  if (version > static_cast<std::int64_t>(queue_schema::migrations().size()))
    return Error(path + " has queue schema version " + std::to_string(version) + ", newer than this xnodectl knows");
  return QueueInspector(std::move(db));
}

Expected<QueueStats> QueueInspector::stats() { return queue_schema::read_stats(m_db); }

Expected<std::vector<GapRange>> QueueInspector::gaps() { return queue_schema::read_gaps(m_db); }

Expected<std::vector<SourceMark>> QueueInspector::marks(const std::string& source) {
  std::vector<SourceMark> out;
  XNODE_TRY(auto q, m_db.prepare("SELECT key, value FROM source_marks WHERE source = ?1 ORDER BY key"));
  q.bind(1, source);
  for (;;) {
    XNODE_TRY(bool row, q.step());
    if (!row) break;
    out.push_back(SourceMark{source, std::string(q.column_text(0)), std::string(q.column_text(1))});
  }
  return out;
}

Expected<StoredBatch> QueueInspector::records(const std::string& stream, std::uint64_t from_seq,
                                              std::uint64_t to_seq, std::size_t max_records) {
  StoredBatch batch;
  batch.stream = stream;
  std::uint64_t acked = 0;
  {
    XNODE_TRY(auto q, m_db.prepare("SELECT acked_through FROM streams WHERE stream = ?1"));
    q.bind(1, stream);
    XNODE_TRY(bool row, q.step());
    if (!row) return Error("no stream " + stream + " in the queue");
    acked = static_cast<std::uint64_t>(q.column_int64(0));
  }
  from_seq = std::max({from_seq, acked + 1, std::uint64_t{1}});
  XNODE_TRY(auto q, m_db.prepare(
      "SELECT first_seq, record_count, raw_bytes, data FROM chunks WHERE stream = ?1 AND first_seq <= ?3 AND "
      "first_seq >= coalesce((SELECT max(first_seq) FROM chunks WHERE stream = ?1 AND first_seq <= ?2), 0) "
      "ORDER BY first_seq"));
  q.bind(1, stream).bind(2, static_cast<std::int64_t>(from_seq)).bind(3, static_cast<std::int64_t>(std::min<std::uint64_t>(to_seq, INT64_MAX)));
  for (;;) {
    XNODE_TRY(bool row, q.step());
    if (!row) break;
    const auto first = static_cast<std::uint64_t>(q.column_int64(0));
    const auto count = static_cast<std::uint64_t>(q.column_int64(1));
    const auto raw = static_cast<std::uint64_t>(q.column_int64(2));
    if (first + count - 1 < from_seq) continue;
    XNODE_TRY(auto text, chunk::decompress(q.column_blob(3), raw));
    XNODE_TRY(auto lines, chunk::split(std::move(text), count));
    for (std::uint64_t seq = std::max(first, from_seq); seq < first + count && seq <= to_seq; ++seq) {
      if (batch.count >= max_records) return batch;
      if (batch.count == 0) batch.first_seq = seq;
      else if (seq != batch.first_seq + batch.count) return batch;  // a hole (evicted records)
      chunk::append_wire_line(batch.body, seq, lines.tail(seq - first));
      ++batch.count;
    }
  }
  return batch;
}

Expected<std::vector<QuarantineRecord>> QueueInspector::quarantine_list(std::size_t limit, std::int64_t before_id,
                                                                        std::size_t content_limit) {
  std::vector<QuarantineRecord> out;
  XNODE_TRY(auto q, m_db.prepare(std::string(quarantine_ops::kRowColumns) + "WHERE ?1 = 0 OR id < ?1 ORDER BY id DESC LIMIT ?2"));
  q.bind(1, before_id).bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  for (;;) {
    XNODE_TRY(bool row, q.step());
    if (!row) break;
    out.push_back(quarantine_ops::record_from_row(q, content_limit));
  }
  return out;
}

Expected<QuarantineRecord> QueueInspector::quarantine_show(std::int64_t id) {
  XNODE_TRY(auto q, m_db.prepare(std::string(quarantine_ops::kRowColumns) + "WHERE id = ?1"));
  q.bind(1, id);
  XNODE_TRY(bool row, q.step());
  if (!row) return Error("no quarantine entry " + std::to_string(id));
  return quarantine_ops::record_from_row(q);
}

}  // namespace xnode::io
