#include "tests/platform/platform_store.hpp"

#include "tests/platform/gzip.hpp"

namespace xnode::platform {

namespace {
constexpr std::int64_t kSchemaVersion = 1;
const char* const kZeroHash = "0000000000000000000000000000000000000000000000000000000000000000";

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS nodes (
  node_id TEXT PRIMARY KEY,
  disabled INTEGER NOT NULL DEFAULT 0,
  first_seen TEXT NOT NULL,
  changed_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS catalog_versions (
  node_id TEXT NOT NULL REFERENCES nodes(node_id),
  version INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  resources TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  PRIMARY KEY (node_id, version));
CREATE TABLE IF NOT EXISTS streams (
  id INTEGER PRIMARY KEY,
  node_id TEXT NOT NULL REFERENCES nodes(node_id),
  code TEXT NOT NULL,
  acked_through INTEGER NOT NULL DEFAULT 0,
  stored INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0,
  mismatches INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  gap_records INTEGER NOT NULL DEFAULT 0,
  batches INTEGER NOT NULL DEFAULT 0,
  UNIQUE (node_id, code));
CREATE TABLE IF NOT EXISTS batches (
  stream_id INTEGER NOT NULL REFERENCES streams(id),
  first_seq INTEGER NOT NULL,
  count INTEGER NOT NULL,
  body_first_seq INTEGER NOT NULL,
  body BLOB NOT NULL,
  digests BLOB NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (stream_id, first_seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rejections (
  stream_id INTEGER NOT NULL REFERENCES streams(id),
  seq INTEGER NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (stream_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gaps (
  id INTEGER PRIMARY KEY,
  stream_id INTEGER NOT NULL REFERENCES streams(id),
  from_seq INTEGER NOT NULL,
  to_seq INTEGER NOT NULL,
  lost_from INTEGER NOT NULL,
  reason TEXT NOT NULL,
  declared_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS health_reports (
  id INTEGER PRIMARY KEY,
  node_id TEXT NOT NULL REFERENCES nodes(node_id),
  received_at TEXT NOT NULL,
  report TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS health_by_node ON health_reports(node_id, id);
CREATE TABLE IF NOT EXISTS audit_events (
  node_id TEXT NOT NULL REFERENCES nodes(node_id),
  seq INTEGER NOT NULL,
  prev TEXT NOT NULL,
  hash TEXT NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (node_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS configs (
  node_id TEXT PRIMARY KEY REFERENCES nodes(node_id),
  version INTEGER NOT NULL,
  yaml TEXT NOT NULL,
  signature TEXT NOT NULL,
  placed_at TEXT NOT NULL);
)sql";

StreamCounters read_counters(const sql::Statement& st, int first) {
  StreamCounters c;
  c.acked_through = st.column_int(first);
  c.stored = st.column_int(first + 1);
  c.duplicates = st.column_int(first + 2);
  c.mismatches = st.column_int(first + 3);
  c.rejected = st.column_int(first + 4);
  c.gap_records = st.column_int(first + 5);
  c.batches = st.column_int(first + 6);
  return c;
}
}  // namespace

PlatformStore::PlatformStore(const std::string& path) : m_db(path) {
  migrate();
  m_insert_batch = m_db.prepare(
      "INSERT INTO batches(stream_id, first_seq, count, body_first_seq, body, digests, received_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  m_update_counters = m_db.prepare(
      "UPDATE streams SET acked_through=?2, stored=?3, duplicates=?4, mismatches=?5, rejected=?6, "
      "gap_records=?7, batches=?8 WHERE id=?1");
  m_insert_rejection = m_db.prepare("INSERT OR REPLACE INTO rejections(stream_id, seq, reason) VALUES (?1, ?2, ?3)");
  m_insert_audit = m_db.prepare(
      "INSERT INTO audit_events(node_id, seq, prev, hash, event) VALUES (?1, ?2, ?3, ?4, ?5)");
}

void PlatformStore::migrate() {
  std::int64_t version = m_db.user_version();
  if (version > kSchemaVersion)
    throw sql::StoreError("platform database schema version " + std::to_string(version) +
                          " is newer than this program's (" + std::to_string(kSchemaVersion) + ")");
  if (version == kSchemaVersion) return;
  sql::Transaction tx(m_db);
  m_db.exec(kSchema);
  m_db.exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
  tx.commit();
}

std::map<std::string, NodeState> PlatformStore::load_nodes() {
  std::map<std::string, NodeState> nodes;
  auto st = m_db.prepare("SELECT node_id, disabled FROM nodes");
  while (st.step()) {
    NodeState n;
    n.disabled = st.column_int(1) != 0;
    n.audit.last_hash = kZeroHash;
    nodes.emplace(st.column_text(0), std::move(n));
  }
  auto cat = m_db.prepare(
      "SELECT c.node_id, c.version, c.sha256, c.resources FROM catalog_versions c "
      "WHERE c.version = (SELECT MAX(version) FROM catalog_versions d WHERE d.node_id = c.node_id)");
  while (cat.step()) {
    auto it = nodes.find(cat.column_text(0));
    if (it == nodes.end()) continue;
    it->second.catalog = CatalogVersion{cat.column_int(1), cat.column_text(2), cat.column_text(3)};
  }
  auto audit = m_db.prepare(
      "SELECT a.node_id, a.seq, a.hash FROM audit_events a "
      "WHERE a.seq = (SELECT MAX(seq) FROM audit_events b WHERE b.node_id = a.node_id)");
  while (audit.step()) {
    auto it = nodes.find(audit.column_text(0));
    if (it == nodes.end()) continue;
    it->second.audit = AuditHead{audit.column_int(1), audit.column_text(2)};
  }
  auto cfg = m_db.prepare("SELECT node_id, version, yaml, signature FROM configs");
  while (cfg.step()) {
    auto it = nodes.find(cfg.column_text(0));
    if (it == nodes.end()) continue;
    it->second.config = WaitingConfig{cfg.column_int(1), cfg.column_text(2), cfg.column_text(3)};
  }
  return nodes;
}

std::vector<StreamRow> PlatformStore::load_streams() {
  std::vector<StreamRow> rows;
  auto st = m_db.prepare(
      "SELECT id, node_id, code, acked_through, stored, duplicates, mismatches, rejected, gap_records, "
      "batches FROM streams ORDER BY id");
  while (st.step()) rows.push_back(StreamRow{st.column_int(0), st.column_text(1), st.column_text(2), read_counters(st, 3)});
  return rows;
}

void PlatformStore::ensure_node(const std::string& node_id, std::string_view now) {
  auto st = m_db.prepare("INSERT OR IGNORE INTO nodes(node_id, first_seen, changed_at) VALUES (?1, ?2, ?2)");
  st.bind(1, node_id).bind(2, now).run();
}

void PlatformStore::set_disabled(const std::string& node_id, bool disabled, std::string_view now) {
  sql::Transaction tx(m_db);
  ensure_node(node_id, now);
  auto st = m_db.prepare("UPDATE nodes SET disabled=?2, changed_at=?3 WHERE node_id=?1");
  st.bind(1, node_id).bind(2, std::int64_t{disabled ? 1 : 0}).bind(3, now).run();
  tx.commit();
}

void PlatformStore::put_config(const std::string& node_id, const WaitingConfig& config, std::string_view now) {
  sql::Transaction tx(m_db);
  ensure_node(node_id, now);
  auto st = m_db.prepare(
      "INSERT OR REPLACE INTO configs(node_id, version, yaml, signature, placed_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  st.bind(1, node_id).bind(2, config.version).bind(3, config.yaml).bind(4, config.signature).bind(5, now).run();
  tx.commit();
}

void PlatformStore::put_catalog(const std::string& node_id, const CatalogVersion& catalog, std::string_view now) {
  sql::Transaction tx(m_db);
  ensure_node(node_id, now);
  auto st = m_db.prepare(
      "INSERT INTO catalog_versions(node_id, version, sha256, resources, stored_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  st.bind(1, node_id).bind(2, catalog.version).bind(3, catalog.sha256).bind(4, catalog.resources_json).bind(5, now).run();
  tx.commit();
}

std::int64_t PlatformStore::create_stream(const std::string& node_id, const std::string& code) {
  auto st = m_db.prepare("INSERT INTO streams(node_id, code) VALUES (?1, ?2)");
  st.bind(1, node_id).bind(2, code).run();
  return m_db.last_insert_rowid();
}

void PlatformStore::save_counters(std::int64_t stream_id, const StreamCounters& c) {
  m_update_counters.bind(1, stream_id).bind(2, c.acked_through).bind(3, c.stored).bind(4, c.duplicates)
      .bind(5, c.mismatches).bind(6, c.rejected).bind(7, c.gap_records).bind(8, c.batches).run();
}

void PlatformStore::store_batch(const BatchWrite& b) {
  sql::Transaction tx(m_db);
  if (b.new_count > 0) {
    m_insert_batch.bind(1, b.stream_id).bind(2, b.first_new_seq).bind(3, b.new_count).bind(4, b.body_first_seq)
        .bind_blob(5, b.gzip_body).bind_blob(6, b.digests).bind(7, b.received_at).run();
  }
  for (const auto& r : b.rejections) m_insert_rejection.bind(1, b.stream_id).bind(2, r.seq).bind(3, r.reason).run();
  save_counters(b.stream_id, b.counters_after);
  tx.commit();
}

std::map<std::int64_t, std::string> PlatformStore::digests(std::int64_t stream_id, std::int64_t from, std::int64_t to) {
  std::map<std::int64_t, std::string> out;
  auto st = m_db.prepare(
      "SELECT first_seq, count, digests FROM batches WHERE stream_id=?1 AND first_seq <= ?3 "
      "AND first_seq + count > ?2 ORDER BY first_seq");
  st.bind(1, stream_id).bind(2, from).bind(3, to);
  while (st.step()) {
    std::int64_t first = st.column_int(0), count = st.column_int(1);
    std::string blob = st.column_blob(2);
    for (std::int64_t seq = std::max(first, from); seq <= std::min(to, first + count - 1); ++seq) {
      auto offset = static_cast<std::size_t>(seq - first) * kDigestSize;
      if (offset + kDigestSize <= blob.size()) out.emplace(seq, blob.substr(offset, kDigestSize));
    }
  }
  return out;
}

void PlatformStore::store_gap(std::int64_t stream_id, const GapRow& gap, const StreamCounters& counters_after) {
  sql::Transaction tx(m_db);
  auto st = m_db.prepare(
      "INSERT INTO gaps(stream_id, from_seq, to_seq, lost_from, reason, declared_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  st.bind(1, stream_id).bind(2, gap.from_seq).bind(3, gap.to_seq).bind(4, gap.lost_from).bind(5, gap.reason)
      .bind(6, gap.declared_at).run();
  save_counters(stream_id, counters_after);
  tx.commit();
}

std::vector<GapRow> PlatformStore::gaps(std::int64_t stream_id) {
  std::vector<GapRow> out;
  auto st = m_db.prepare(
      "SELECT s.node_id, s.code, g.from_seq, g.to_seq, g.lost_from, g.reason, g.declared_at FROM gaps g "
      "JOIN streams s ON s.id = g.stream_id WHERE g.stream_id=?1 ORDER BY g.id");
  st.bind(1, stream_id);
  while (st.step())
    out.push_back(GapRow{st.column_text(0), st.column_text(1), st.column_int(2), st.column_int(3), st.column_int(4),
                         st.column_text(5), st.column_text(6)});
  return out;
}

std::vector<Rejection> PlatformStore::rejections(std::int64_t stream_id) {
  std::vector<Rejection> out;
  auto st = m_db.prepare("SELECT seq, reason FROM rejections WHERE stream_id=?1 ORDER BY seq");
  st.bind(1, stream_id);
  while (st.step()) out.push_back(Rejection{st.column_int(0), st.column_text(1)});
  return out;
}

std::vector<std::string> PlatformStore::records(std::int64_t stream_id) {
  std::map<std::int64_t, bool> rejected;
  for (const auto& r : rejections(stream_id)) rejected[r.seq] = true;
  std::vector<std::string> out;
  auto st = m_db.prepare(
      "SELECT first_seq, count, body_first_seq, body FROM batches WHERE stream_id=?1 ORDER BY first_seq");
  st.bind(1, stream_id);
  std::string body;
  while (st.step()) {
    std::int64_t first = st.column_int(0), count = st.column_int(1), seq = st.column_int(2);
    if (gunzip(st.column_blob(3), std::size_t{1} << 31, body) != InflateResult::ok)
      throw sql::StoreError("stored batch at seq " + std::to_string(first) + " does not inflate");
    std::size_t pos = 0;
    while (pos < body.size()) {
      std::size_t end = body.find('\n', pos);
      if (end == std::string::npos) end = body.size();
      if (seq >= first && seq < first + count && !rejected.count(seq)) out.emplace_back(body.substr(pos, end - pos));
      ++seq;
      pos = end + 1;
    }
  }
  return out;
}

void PlatformStore::store_health(const std::string& node_id, std::string_view received_at, std::string_view report) {
  auto st = m_db.prepare("INSERT INTO health_reports(node_id, received_at, report) VALUES (?1, ?2, ?3)");
  st.bind(1, node_id).bind(2, received_at).bind(3, report).run();
}

std::optional<std::string> PlatformStore::latest_health(const std::string& node_id) {
  auto st = m_db.prepare("SELECT report FROM health_reports WHERE node_id=?1 ORDER BY id DESC LIMIT 1");
  st.bind(1, node_id);
  if (!st.step()) return std::nullopt;
  std::string report = st.column_text(0);
  st.reset();
  return report;
}

std::int64_t PlatformStore::health_count(const std::string& node_id) {
  auto st = m_db.prepare("SELECT COUNT(*) FROM health_reports WHERE node_id=?1");
  st.bind(1, node_id);
  std::int64_t n = st.step() ? st.column_int(0) : 0;
  st.reset();
  return n;
}

void PlatformStore::store_audit(const std::string& node_id, const std::vector<AuditEventRow>& events) {
  sql::Transaction tx(m_db);
  for (const auto& e : events)
    m_insert_audit.bind(1, node_id).bind(2, e.seq).bind(3, e.prev).bind(4, e.hash).bind(5, e.event_json).run();
  tx.commit();
}

std::optional<AuditEventRow> PlatformStore::audit_event(const std::string& node_id, std::int64_t seq) {
  auto st = m_db.prepare("SELECT seq, prev, hash, event FROM audit_events WHERE node_id=?1 AND seq=?2");
  st.bind(1, node_id).bind(2, seq);
  if (!st.step()) return std::nullopt;
  AuditEventRow row{st.column_int(0), st.column_text(1), st.column_text(2), st.column_text(3)};
  st.reset();
  return row;
}

std::vector<AuditEventRow> PlatformStore::audit_events(const std::string& node_id) {
  std::vector<AuditEventRow> out;
  auto st = m_db.prepare("SELECT seq, prev, hash, event FROM audit_events WHERE node_id=?1 ORDER BY seq");
  st.bind(1, node_id);
  while (st.step()) out.push_back(AuditEventRow{st.column_int(0), st.column_text(1), st.column_text(2), st.column_text(3)});
  return out;
}

}  // namespace xnode::platform
