// The audit store's SQLite schema, shared by the writer (AuditStore) and readers (AuditReader).
#pragma once
#include <array>
#include <string_view>

namespace xnode::io::audit_schema {

// Migrations: step i moves `PRAGMA user_version` from i to i+1.
inline constexpr std::array<std::string_view, 1> migrations = {
    // Version 1. seq is the key: the chain order is the table order. at_ms (unix ms) serves
    // retention and export ranges; `at` keeps the exact text that was hashed. detail is JSON text.
    "CREATE TABLE audit_event ("
    " seq INTEGER PRIMARY KEY,"
    " at_ms INTEGER NOT NULL,"
    " at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL,"
    " result TEXT NOT NULL, detail TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL);"
    // shipped_through: the platform's acknowledged high-water mark (§3.6);
    // pruned_seq / pruned_hash: the last event removed by retention — the anchor verify starts from.
    "CREATE TABLE audit_meta (key TEXT PRIMARY KEY, value_int INTEGER, value_text TEXT) WITHOUT ROWID;",
};

inline constexpr std::string_view select_columns = "seq, at, actor, action, object, result, detail, prev, hash";

}  // namespace xnode::io::audit_schema
