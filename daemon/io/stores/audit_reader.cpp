#include "io/stores/audit_reader.hpp"

#include "io/stores/audit_schema.hpp"

namespace xnode::io {

namespace {

// Reads the current row of a statement selecting audit_schema::select_columns.
Expected<audit::AuditEvent> row_event(const sqlite::Statement& st) {
  audit::AuditEvent e;
  e.seq = st.column_int64(0);
  e.at = std::string(st.column_text(1));
  e.actor = std::string(st.column_text(2));
  e.action = std::string(st.column_text(3));
  e.object = std::string(st.column_text(4));
  e.result = std::string(st.column_text(5));
  auto detail = json::parse(st.column_text(6));
  if (!detail) return make_error("detail is not JSON: " + detail.error().message);
  e.detail = std::move(*detail);
  e.prev = std::string(st.column_text(7));
  e.hash = std::string(st.column_text(8));
  return e;
}

std::string select_sql(std::string_view where_and_order) {
  std::string sql = "SELECT ";
  sql += audit_schema::select_columns;
  sql += " FROM audit_event ";
  sql += where_and_order;
  return sql;
}

}  // namespace

Expected<std::unique_ptr<AuditReader>> AuditReader::open(const std::string& path) {
  XNODE_TRY(sqlite::Database db, sqlite::Database::open(path, sqlite::OpenMode::read_only));
  XNODE_TRY(std::int64_t version, db.user_version());
  if (version == 0) return make_error(path + ": not an audit store (no schema); is this the audit.db path?");
  if (version > static_cast<std::int64_t>(audit_schema::migrations.size()))
    return make_error(path + ": audit store schema version " + std::to_string(version) +
                      " is newer than this build knows; use the xnodectl of the running daemon");
  return std::unique_ptr<AuditReader>(new AuditReader(std::move(db)));
}

Expected<AuditStoreSummary> AuditReader::summary() {
  AuditStoreSummary s;
  XNODE_TRY(auto st, m_db.prepare("SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM audit_event"));
  XNODE_TRY(bool row, st.step());
  if (row) {
    s.events = st.column_int64(0);
    s.first_seq = st.column_int64(1);
    s.last_seq = st.column_int64(2);
  }
  st.reset();
  s.last_hash = audit::genesis_prev;
  if (s.last_seq > 0) {
    XNODE_TRY(s.last_hash, m_db.query_text("SELECT hash FROM audit_event ORDER BY seq DESC LIMIT 1"));
  }
  XNODE_TRY(auto meta, m_db.prepare("SELECT key, value_int, value_text FROM audit_meta"));
  std::optional<std::int64_t> pruned_seq;
  std::string pruned_hash;
  for (;;) {
    XNODE_TRY(bool more, meta.step());
    if (!more) break;
    std::string_view key = meta.column_text(0);
    if (key == "shipped_through") s.shipped_through = meta.column_int64(1);
    if (key == "pruned") {
      pruned_seq = meta.column_int64(1);
      pruned_hash = std::string(meta.column_text(2));
    }
  }
  meta.reset();
  if (pruned_seq) s.pruned = audit::ChainHead{*pruned_seq, pruned_hash};
  XNODE_TRY(std::int64_t pages, m_db.query_int("PRAGMA page_count"));
  XNODE_TRY(std::int64_t free_pages, m_db.query_int("PRAGMA freelist_count"));
  XNODE_TRY(std::int64_t page_size, m_db.query_int("PRAGMA page_size"));
  s.used_bytes = static_cast<std::uint64_t>((pages - free_pages) * page_size);
  return s;
}

Expected<std::vector<audit::AuditEvent>> AuditReader::events_after(std::int64_t after, std::size_t max) {
  XNODE_TRY(auto st, m_db.prepare(select_sql("WHERE seq > ?1 ORDER BY seq LIMIT ?2")));
  st.bind(1, after).bind(2, static_cast<std::int64_t>(max));
  std::vector<audit::AuditEvent> out;
  for (;;) {
    XNODE_TRY(bool row, st.step());
    if (!row) break;
    auto e = row_event(st);
    if (!e) {
      return make_error(m_db.path() + ": audit event " + std::to_string(st.column_int64(0)) +
                        " cannot be read (" + e.error().message + "); run `xnodectl audit verify`");
    }
    out.push_back(std::move(*e));
  }
  return out;
}

Expected<audit::VerifyReport> AuditReader::verify_all() {
  XNODE_TRY(AuditStoreSummary s, summary());
  audit::ChainVerifier verifier(s.pruned);
  XNODE_TRY(auto st, m_db.prepare(select_sql("ORDER BY seq")));
  for (;;) {
    XNODE_TRY(bool row, st.step());
    if (!row) break;
    auto e = row_event(st);
    if (e) {
      verifier.feed(*e);
    } else {
      verifier.unreadable(st.column_int64(0), e.error().message);
    }
  }
  return verifier.take();
}

Expected<std::int64_t> AuditReader::export_ndjson(std::optional<TimePoint> since, std::optional<TimePoint> until,
                                                  const std::function<bool(std::string_view line)>& sink) {
  XNODE_TRY(auto st, m_db.prepare(select_sql("WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY seq")));
  st.bind(1, since ? to_unix_ms(*since) : INT64_MIN).bind(2, until ? to_unix_ms(*until) : INT64_MAX);
  std::int64_t written = 0;
  for (;;) {
    XNODE_TRY(bool row, st.step());
    if (!row) break;
    auto e = row_event(st);
    if (!e) {
      return make_error(m_db.path() + ": audit event " + std::to_string(st.column_int64(0)) +
                        " cannot be read (" + e.error().message + "); run `xnodectl audit verify`");
    }
    ++written;
    if (!sink(audit::to_line(*e))) break;
  }
  return written;
}

}  // namespace xnode::io
