#include "io/queue/quarantine_ops.hpp"

#include <algorithm>

namespace xnode::io::quarantine_ops {

namespace {

// One WHERE clause for every selection: ?1 id (0: any), ?2 source ("": any), ?3 before (0: any).
constexpr std::string_view kWhere =
    "(?1 = 0 OR id = ?1) AND (?2 = '' OR source = ?2) AND (?3 = 0 OR at_ms < ?3)";

void bind_selection(sqlite::Statement& q, const Selection& s) {
  q.bind(1, s.id.value_or(0)).bind(2, s.source).bind(3, s.before ? to_unix_ms(*s.before) : std::int64_t{0});
}

std::int64_t as_limit(std::size_t n) { return static_cast<std::int64_t>(std::min<std::size_t>(n, INT64_MAX)); }

}  // namespace

QuarantineRecord record_from_row(const sqlite::Statement& q, std::size_t content_limit) {
  QuarantineRecord r;
  r.id = q.column_int64(0);
  r.at = from_unix_ms(q.column_int64(1));
  r.source = std::string(q.column_text(2));
  r.stream = std::string(q.column_text(3));
  r.origin = std::string(q.column_text(4));
  r.reason = std::string(q.column_text(5));
  const std::string_view content = q.column_blob(6);
  r.content_bytes = content.size();
  r.content = std::string(content.substr(0, content_limit));
  return r;
}

Expected<std::vector<QuarantineRecord>> select(sqlite::Database& db, const Selection& s, std::int64_t after_id,
                                               std::size_t limit) {
  XNODE_TRY(auto q, db.prepare(std::string(kRowColumns) + "WHERE " + std::string(kWhere) + " AND id > ?4 ORDER BY id LIMIT ?5"));
  bind_selection(q, s);
  q.bind(4, after_id).bind(5, as_limit(limit));
  std::vector<QuarantineRecord> out;
  for (;;) {
    XNODE_TRY(bool row, q.step());
    if (!row) break;
    out.push_back(record_from_row(q));
  }
  return out;
}

Expected<void> set_reason(sqlite::Database& db, std::int64_t id, const std::string& reason) {
  XNODE_TRY(auto q, db.prepare("UPDATE quarantine SET reason = ?2 WHERE id = ?1"));
  q.bind(1, id).bind(2, reason);
  return q.run();
}

Expected<std::int64_t> purge(sqlite::Database& db, const Selection& s, std::size_t limit) {
  XNODE_TRY(auto q, db.prepare("DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine WHERE " +
                               std::string(kWhere) + " ORDER BY id LIMIT ?4)"));
  bind_selection(q, s);
  q.bind(4, as_limit(limit));
  XNODE_TRY_VOID(q.run());
  return static_cast<std::int64_t>(db.changes());
}

Expected<std::int64_t> sweep(sqlite::Database& db, TimePoint cutoff, std::size_t limit) {
  Selection s;
  s.before = cutoff;
  if (to_unix_ms(cutoff) <= 0) return std::int64_t{0};
  return purge(db, s, limit);
}

Expected<bool> all_present(sqlite::Database& db, const std::vector<std::int64_t>& ids) {
  XNODE_TRY(auto q, db.prepare("SELECT 1 FROM quarantine WHERE id = ?1"));
  for (std::int64_t id : ids) {
    sqlite::Statement::Reset reset(q);
    q.bind(1, id);
    XNODE_TRY(bool row, q.step());
    if (!row) return false;
  }
  return true;
}

Expected<void> remove(sqlite::Database& db, const std::vector<std::int64_t>& ids) {
  XNODE_TRY(auto q, db.prepare("DELETE FROM quarantine WHERE id = ?1"));
  for (std::int64_t id : ids) {
    sqlite::Statement::Reset reset(q);
    q.bind(1, id);
    XNODE_TRY_VOID(q.run());
  }
  return {};
}

}  // namespace xnode::io::quarantine_ops
