// A thin RAII layer over SQLite: a connection, statements prepared once and reused, transactions,
// and schema migrations kept in `PRAGMA user_version`. Errors are values; every message carries
// SQLite's own text (sqlite3_errmsg) and the database path, so an operator knows what and where.
//
// Not thread-safe: a Database and its statements belong to one thread (the store's own thread).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/base/expected.hpp"

struct sqlite3;
struct sqlite3_stmt;

// Propagates the error of an Expected<void>-returning call: `XNODE_TRY_VOID(stmt.run());`
#ifndef XNODE_TRY_VOID
#define XNODE_TRY_VOID(expr)                                                  \
  do {                                                                        \
    if (auto xnode_try_void_ = (expr); !xnode_try_void_) return xnode_try_void_.error(); \
  } while (false)
#endif

namespace xnode::io::sqlite {

enum class OpenMode {
  read_write_create,  // the daemon's own stores
  read_write,         // must already exist
  read_only,          // inspection while the daemon runs (WAL allows concurrent readers)
};

// Routes SQLite's error log (SQLITE_CONFIG_LOG) into xnode::log, once per process. Called by
// Database::open; must run before SQLite initialises, so call it early if the process uses SQLite
// through other means too.
void install_error_log();

class Statement;

class Database {
 public:
  Database() = default;
  ~Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  static Expected<Database> open(const std::string& path, OpenMode mode);

  bool is_open() const { return m_db != nullptr; }
  const std::string& path() const { return m_path; }
  sqlite3* handle() const { return m_db; }
  void close();

  // Runs one or more statements that return no rows of interest.
  Expected<void> exec(std::string_view sql);
  Expected<Statement> prepare(std::string_view sql);
  // A single integer from a one-row query (e.g. a PRAGMA); error when no row.
  Expected<std::int64_t> query_int(std::string_view sql);
  Expected<std::string> query_text(std::string_view sql);

  std::int64_t last_insert_rowid() const;
  int changes() const;

  Expected<std::int64_t> user_version();
  // Brings the schema to steps.size(): step i (0-based) moves version i to i+1, each in its own
  // transaction together with the new user_version. A database newer than this build is an error.
  Expected<void> migrate(std::span<const std::string_view> steps);

  // "sqlite: <what> on <path>: <errmsg> (code N)"
  Error error(std::string_view what) const;
  Error error(std::string_view what, int code) const;

 private:
  sqlite3* m_db = nullptr;
  std::string m_path;
};

// A prepared statement. Bind, step, read columns, then reset() (or let a Statement::Reset guard do
// it): a statement left stepped keeps a read transaction open, which stalls WAL checkpoints.
class Statement {
 public:
  Statement() = default;
  Statement(const Database& db, sqlite3_stmt* stmt) : m_db(&db), m_stmt(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite. Text and blobs are copied (SQLITE_TRANSIENT) unless
  // bound with the *_static variants, whose memory must outlive the step.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_blob_static(int index, std::string_view bytes);
  Statement& bind_null(int index);

  // true: a row is ready; false: done. Bind errors surface here.
  Expected<bool> step();
  // Steps to completion, for statements that return no rows.
  Expected<void> run();
  void reset();

  std::int64_t column_int64(int index) const;
  bool column_is_null(int index) const;
  // Valid until the next step/reset.
  std::string_view column_text(int index) const;
  std::string_view column_blob(int index) const;

  bool valid() const { return m_stmt != nullptr; }

  // Resets the statement when leaving a scope, whatever the path.
  class Reset {
   public:
    explicit Reset(Statement& s) : m_s(s) {}
    ~Reset() { m_s.reset(); }
    Reset(const Reset&) = delete;
    Reset& operator=(const Reset&) = delete;

   private:
    Statement& m_s;
  };

 private:
  void note_bind(int rc, int index);
  const Database* m_db = nullptr;
  sqlite3_stmt* m_stmt = nullptr;
  int m_bind_error = 0;  // first bind failure, reported by step()
  int m_bind_error_index = 0;
};

// BEGIN IMMEDIATE … COMMIT; rolls back when destroyed uncommitted (an error path).
// IMMEDIATE takes the write lock at the start, so a commit never fails with SQLITE_BUSY half-way.
class Transaction {
 public:
  static Expected<Transaction> begin(Database& db);
  Transaction(Transaction&& other) noexcept : m_db(other.m_db) { other.m_db = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();
  Expected<void> commit();
  void rollback();

 private:
  explicit Transaction(Database& db) : m_db(&db) {}
  Database* m_db;
};

}  // namespace xnode::io::sqlite
