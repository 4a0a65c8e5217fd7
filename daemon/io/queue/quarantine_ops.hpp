// The quarantine table's own operations for `xnodectl quarantine retry|purge` and the retention
// sweep (issue #4). They run on the queue store's thread (QueueStore::quarantine_work) with the
// store's connection; the store keeps no state about the quarantine, so nothing else changes.
// Deletions are bounded per call (a long delete must not hold up intake on a slow flash disk).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/expected.hpp"
#include "core/base/time.hpp"
#include "io/queue/queue_inspect.hpp"
#include "io/sqlite/database.hpp"

namespace xnode::io::quarantine_ops {

// Which entries: one id, or all (of one source when `source` is set), or those quarantined
// before a time.
struct Selection {
  std::optional<std::int64_t> id;
  bool all = false;
  std::string source;
  std::optional<TimePoint> before;
};

// The columns every quarantine read selects, in the order record_from_row() reads them.
inline constexpr std::string_view kRowColumns =
    "SELECT id, at_ms, source, stream, origin, reason, content FROM quarantine ";
// One row of kRowColumns as a record, its content cut at `content_limit` bytes (content_bytes
// keeps the full size).
QuarantineRecord record_from_row(const sqlite::Statement& q, std::size_t content_limit = SIZE_MAX);

// Entries of the selection with id > after_id, oldest first, at most `limit`, content in full.
Expected<std::vector<QuarantineRecord>> select(sqlite::Database& db, const Selection& s, std::int64_t after_id,
                                               std::size_t limit);
// A retried entry that still fails keeps its place with the new reason.
Expected<void> set_reason(sqlite::Database& db, std::int64_t id, const std::string& reason);
// Deletes up to `limit` entries of the selection; returns how many.
Expected<std::int64_t> purge(sqlite::Database& db, const Selection& s, std::size_t limit);
// Retention: deletes up to `limit` entries quarantined before `cutoff`; returns how many.
Expected<std::int64_t> sweep(sqlite::Database& db, TimePoint cutoff, std::size_t limit);
// True when every id is still in the quarantine (checked before a retry's records are queued).
Expected<bool> all_present(sqlite::Database& db, const std::vector<std::int64_t>& ids);
// Deletes these entries (in the caller's transaction).
Expected<void> remove(sqlite::Database& db, const std::vector<std::int64_t>& ids);

}  // namespace xnode::io::quarantine_ops
