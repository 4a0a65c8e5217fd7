// Read access to an audit store file: what `xnodectl audit verify|export` uses while the daemon
// runs (a read-only SQLite connection; WAL lets it read while the daemon writes), and what the
// store itself uses for shipping (events_after) and verification.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/audit/audit_chain.hpp"
#include "core/audit/audit_event.hpp"
#include "core/base/expected.hpp"
#include "core/base/time.hpp"
#include "io/sqlite/database.hpp"

namespace xnode::io {

// What is stored, at a glance.
struct AuditStoreSummary {
  std::int64_t events = 0;            // rows stored
  std::int64_t first_seq = 0;         // 0 when empty
  std::int64_t last_seq = 0;
  std::string last_hash;              // genesis_prev when empty
  std::int64_t shipped_through = 0;   // the platform acknowledged events up to here
  std::optional<audit::ChainHead> pruned;  // the last event removed by retention, if any
  std::uint64_t used_bytes = 0;       // pages in use (free pages left by pruning excluded)
};

class AuditReader {
 public:
  // Opens read-only. Errors: the file is missing, not an audit store, or newer than this build.
  static Expected<std::unique_ptr<AuditReader>> open(const std::string& path);

  Expected<AuditStoreSummary> summary();
  // Up to `max` events with seq > `after`, in order (what the uplink ships next, §3.6).
  Expected<std::vector<audit::AuditEvent>> events_after(std::int64_t after, std::size_t max);
  // Walks the whole table in seq order (bounded memory) and names every edited, deleted or
  // reordered event. The chain is checked from the pruning anchor when events were pruned.
  Expected<audit::VerifyReport> verify_all();
  // Writes the events with since <= at < until (either bound optional) as NDJSON lines (no
  // newline) to `sink`, in seq order; a sink returning false stops. Returns the number written.
  Expected<std::int64_t> export_ndjson(std::optional<TimePoint> since, std::optional<TimePoint> until,
                                       const std::function<bool(std::string_view line)>& sink);

 private:
  explicit AuditReader(sqlite::Database db) : m_db(std::move(db)) {}
  sqlite::Database m_db;
};

}  // namespace xnode::io
