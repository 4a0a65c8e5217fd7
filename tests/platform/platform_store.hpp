// The platform's durable state in SQLite (WAL, synchronous=FULL): nodes, catalog versions,
// streams with their high-water marks and counters, accepted batches, rejections, declared gaps,
// health reports, audit events and waiting signed configurations. Restart-safe: the service loads
// what it needs at start and writes through on every accepted request, one transaction each.
//
// Records are stored compactly: one row per accepted batch holding the body as a gzip stream (the
// node's own gzip when it sent one) and a 16-byte content digest per new record, so that a
// duplicate can be compared with what is stored (mismatches) without keeping records row by row.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/platform/sqlite_db.hpp"

namespace xnode::platform {

inline constexpr std::size_t kDigestSize = 16;

struct StreamCounters {
  std::int64_t acked_through = 0;  // high-water mark: every seq at or below is acknowledged
  std::int64_t stored = 0;         // records accepted and stored
  std::int64_t duplicates = 0;
  std::int64_t mismatches = 0;
  std::int64_t rejected = 0;
  std::int64_t gap_records = 0;  // seqs declared lost (3.4)
  std::int64_t batches = 0;
};

struct StreamRow {
  std::int64_t id = 0;
  std::string node_id;
  std::string code;
  StreamCounters counters;
};

struct CatalogVersion {
  std::int64_t version = 0;
  std::string sha256;
  std::string resources_json;  // the `resources` array as canonical JSON
};

struct AuditHead {
  std::int64_t acked_through = 0;
  std::string last_hash;  // 64 zeros when no event is stored
};

struct WaitingConfig {
  std::int64_t version = 0;
  std::string yaml;
  std::string signature;
};

struct NodeState {
  bool disabled = false;
  std::optional<CatalogVersion> catalog;
  AuditHead audit;
  std::optional<WaitingConfig> config;
};

struct Rejection {
  std::int64_t seq;
  std::string reason;
};

// One accepted batch: the records from `first_new_seq` on are new (earlier ones were duplicates).
struct BatchWrite {
  std::int64_t stream_id = 0;
  std::int64_t body_first_seq = 0;   // seq of the body's first line
  std::int64_t first_new_seq = 0;
  std::int64_t new_count = 0;
  std::string gzip_body;             // the whole uncompressed body, gzip-framed
  std::string digests;               // new_count × kDigestSize bytes
  std::vector<Rejection> rejections;
  StreamCounters counters_after;
  std::string received_at;
};

struct GapRow {
  std::string node_id, code;
  std::int64_t from_seq = 0, to_seq = 0, lost_from = 0;
  std::string reason, declared_at;
};

struct AuditEventRow {
  std::int64_t seq = 0;
  std::string prev, hash, event_json;  // event_json: the event as canonical JSON (with hash)
};

class PlatformStore {
 public:
  explicit PlatformStore(const std::string& path);

  // --- loading at start
  std::map<std::string, NodeState> load_nodes();
  std::vector<StreamRow> load_streams();

  // --- nodes
  void ensure_node(const std::string& node_id, std::string_view now);
  void set_disabled(const std::string& node_id, bool disabled, std::string_view now);
  void put_config(const std::string& node_id, const WaitingConfig& config, std::string_view now);

  // --- catalog
  void put_catalog(const std::string& node_id, const CatalogVersion& catalog, std::string_view now);

  // --- streams
  std::int64_t create_stream(const std::string& node_id, const std::string& code);
  void save_counters(std::int64_t stream_id, const StreamCounters& counters);
  void store_batch(const BatchWrite& batch);
  // Stored digests for the seqs [from, to] that were stored in batches (gap seqs are absent).
  std::map<std::int64_t, std::string> digests(std::int64_t stream_id, std::int64_t from, std::int64_t to);
  void store_gap(std::int64_t stream_id, const GapRow& gap, const StreamCounters& counters_after);
  std::vector<GapRow> gaps(std::int64_t stream_id);
  std::vector<Rejection> rejections(std::int64_t stream_id);
  // Accepted records of a stream in seq order, each line as received (rejected ones left out).
  std::vector<std::string> records(std::int64_t stream_id);

  // --- health
  void store_health(const std::string& node_id, std::string_view received_at, std::string_view report);
  std::optional<std::string> latest_health(const std::string& node_id);
  std::int64_t health_count(const std::string& node_id);

  // --- audit
  void store_audit(const std::string& node_id, const std::vector<AuditEventRow>& events);
  std::optional<AuditEventRow> audit_event(const std::string& node_id, std::int64_t seq);
  std::vector<AuditEventRow> audit_events(const std::string& node_id);

  sql::Database& database() { return m_db; }

 private:
  void migrate();
  sql::Database m_db;
  sql::Statement m_insert_batch, m_update_counters, m_insert_rejection, m_insert_audit;
};

}  // namespace xnode::platform
