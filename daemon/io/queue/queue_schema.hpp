// The queue's SQLite schema (one migration a schema version) and the read queries shared by the
// store and the read-only inspector (xnodectl).
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/expected.hpp"
#include "io/queue/queue_store.hpp"
#include "io/sqlite/database.hpp"

namespace xnode::io::queue_schema {

// Step i moves user_version i to i+1. Append new steps; never edit a released one.
std::span<const std::string_view> migrations();

// Per-stream figures straight from the tables (streams that never held a record are listed too).
Expected<QueueStats> read_stats(sqlite::Database& db);
Expected<std::vector<GapRange>> read_gaps(sqlite::Database& db);
// Database file plus its WAL, as on disk now.
std::uint64_t file_bytes(const std::string& path);

}  // namespace xnode::io::queue_schema
