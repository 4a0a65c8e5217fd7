// A small SQLite wrapper for the reference platform: prepared statements, explicit transactions,
// WAL with synchronous=FULL. Failures throw StoreError: every write path of the platform must roll
// back and answer 500 in the same way, so they are caught at one boundary (PlatformService::handle)
// instead of being threaded through each statement.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace xnode::platform::sql {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, std::string_view sql);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_null(int index);
  // Steps once: true when a row is available, false when done. Resets on done.
  bool step();
  // Runs to completion (for writes) and resets.
  void run();
  void reset();

  std::int64_t column_int(int index) const;
  std::string column_text(int index) const;
  std::string column_blob(int index) const;
  bool column_is_null(int index) const;

 private:
  void check(int rc, const char* what) const;
  sqlite3* m_db = nullptr;
  sqlite3_stmt* m_stmt = nullptr;
};

class Database {
 public:
  // Opens (creating) the file with WAL and synchronous=FULL; ":memory:" for a private database.
  explicit Database(const std::string& path);
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  void exec(std::string_view sql);
  Statement prepare(std::string_view sql) { return Statement(m_db, sql); }
  std::int64_t last_insert_rowid() const;
  std::int64_t user_version();
  sqlite3* handle() { return m_db; }

 private:
  sqlite3* m_db = nullptr;
};

// Rolls back unless committed: a throw between begin and commit leaves nothing behind.
class Transaction {
 public:
  explicit Transaction(Database& db);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

 private:
  Database& m_db;
  bool m_done = false;
};

}  // namespace xnode::platform::sql
