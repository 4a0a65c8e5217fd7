#include "io/sqlite/database.hpp"

#include <sqlite3.h>

#include <chrono>
#include <mutex>
#include <utility>

#include "core/base/log.hpp"

namespace xnode::io::sqlite {

namespace {

// SQLite reports recoverable trouble here too (e.g. "recovered N frames from WAL"): keep the
// level, and rate-limit so that a failing disk cannot flood the journal.
void log_callback(void*, int code, const char* message) {
  static log::RateLimit limit(20, std::chrono::minutes(1));
  const int primary = code & 0xff;
  log::Level level = log::Level::error;
  if (primary == SQLITE_NOTICE) level = log::Level::notice;
  else if (primary == SQLITE_WARNING) level = log::Level::warning;
  else if (primary == SQLITE_SCHEMA || primary == SQLITE_CONSTRAINT) level = log::Level::debug;
  if (!log::enabled(level)) return;
  limit.write(level, "sqlite", std::string(message ? message : "") + " (code " + std::to_string(code) + ")");
}

}  // namespace

void install_error_log() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Fails with SQLITE_MISUSE when SQLite was initialised already; the log is then SQLite's default
    // (none), which is not worth stopping for.
    if (sqlite3_config(SQLITE_CONFIG_LOG, &log_callback, nullptr) != SQLITE_OK)
      log::warning("sqlite", "could not route the SQLite error log (SQLite already initialised)");
  });
}

// --- Database ----------------------------------------------------------------------------------

Database::~Database() { close(); }

Database::Database(Database&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)), m_path(std::move(other.m_path)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    close();
    m_db = std::exchange(other.m_db, nullptr);
    m_path = std::move(other.m_path);
  }
  return *this;
}

void Database::close() {
  if (m_db) {
    // v2 defers the close until unfinalised statements are gone instead of failing.
    sqlite3_close_v2(m_db);
    m_db = nullptr;
  }
}

Expected<Database> Database::open(const std::string& path, OpenMode mode) {
  install_error_log();
  int flags = SQLITE_OPEN_NOMUTEX;  // one thread a connection: no need for SQLite's own mutex
  switch (mode) {
    case OpenMode::read_write_create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
    case OpenMode::read_write: flags |= SQLITE_OPEN_READWRITE; break;
    case OpenMode::read_only: flags |= SQLITE_OPEN_READONLY; break;
  }
  Database db;
  db.m_path = path;
  const int rc = sqlite3_open_v2(path.c_str(), &db.m_db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error e = db.m_db ? db.error("open", rc)
                      : Error("sqlite: open on " + path + ": " + sqlite3_errstr(rc) + " (code " + std::to_string(rc) + ")");
    return e;
  }
  sqlite3_extended_result_codes(db.m_db, 1);
  // A reader (xnodectl) meeting a checkpoint, or the daemon meeting a reader's lock, waits a little
  // instead of failing at once.
  sqlite3_busy_timeout(db.m_db, 5000);
  return db;
}

Error Database::error(std::string_view what) const {
  return error(what, m_db ? sqlite3_extended_errcode(m_db) : SQLITE_MISUSE);
}

Error Database::error(std::string_view what, int code) const {
  std::string m = "sqlite: ";
  m += what;
  m += " on ";
  m += m_path;
  m += ": ";
  m += m_db ? sqlite3_errmsg(m_db) : sqlite3_errstr(code);
  m += " (code " + std::to_string(code) + ")";
  return Error(std::move(m));
}

Expected<void> Database::exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string m = "sqlite: exec on " + m_path + ": " + (message ? message : sqlite3_errstr(rc)) +
                    " (code " + std::to_string(rc) + ") in: " + text.substr(0, 80);
    sqlite3_free(message);
    return Error(std::move(m));
  }
  return {};
}

Expected<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(m_db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                    &stmt, nullptr);
  if (rc != SQLITE_OK) {
    Error e = error("prepare", rc);
    e.message += " in: " + std::string(sql.substr(0, 80));
    return e;
  }
  return Statement(*this, stmt);
}

Expected<std::int64_t> Database::query_int(std::string_view sql) {
  XNODE_TRY(auto stmt, prepare(sql));
  XNODE_TRY(bool row, stmt.step());
  if (!row) return Error("sqlite: no row from '" + std::string(sql) + "' on " + m_path);
  return stmt.column_int64(0);
}

Expected<std::string> Database::query_text(std::string_view sql) {
  XNODE_TRY(auto stmt, prepare(sql));
  XNODE_TRY(bool row, stmt.step());
  if (!row) return Error("sqlite: no row from '" + std::string(sql) + "' on " + m_path);
  return std::string(stmt.column_text(0));
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(m_db); }
int Database::changes() const { return sqlite3_changes(m_db); }

Expected<std::int64_t> Database::user_version() { return query_int("PRAGMA user_version"); }

Expected<void> Database::migrate(std::span<const std::string_view> steps) {
  XNODE_TRY(std::int64_t version, user_version());
  const auto target = static_cast<std::int64_t>(steps.size());
  if (version > target)
    return Error("sqlite: " + m_path + " has schema version " + std::to_string(version) +
                 ", newer than this build knows (" + std::to_string(target) +
                 "): it was written by a newer xnode; run that version or restore a backup");
  for (; version < target; ++version) {
    XNODE_TRY(auto tx, Transaction::begin(*this));
    auto r = exec(steps[static_cast<std::size_t>(version)]);
    if (!r) {
      return Error("migrating " + m_path + " from schema version " + std::to_string(version) + ": " +
                   r.error().message);
    }
    auto v = exec("PRAGMA user_version = " + std::to_string(version + 1));
    if (!v) return v.error();
    auto c = tx.commit();
    if (!c) return c.error();
  }
  return {};
}

// --- Statement ---------------------------------------------------------------------------------

Statement::~Statement() {
  if (m_stmt) sqlite3_finalize(m_stmt);
}

Statement::Statement(Statement&& other) noexcept
    : m_db(other.m_db),
      m_stmt(std::exchange(other.m_stmt, nullptr)),
      m_bind_error(other.m_bind_error),
      m_bind_error_index(other.m_bind_error_index) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (m_stmt) sqlite3_finalize(m_stmt);
    m_db = other.m_db;
    m_stmt = std::exchange(other.m_stmt, nullptr);
    m_bind_error = other.m_bind_error;
    m_bind_error_index = other.m_bind_error_index;
  }
  return *this;
}

void Statement::note_bind(int rc, int index) {
  if (rc != SQLITE_OK && m_bind_error == 0) {
    m_bind_error = rc;
    m_bind_error_index = index;
  }
}

Statement& Statement::bind(int index, std::int64_t value) {
  note_bind(sqlite3_bind_int64(m_stmt, index, value), index);
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  note_bind(sqlite3_bind_text64(m_stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  note_bind(sqlite3_bind_blob64(m_stmt, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT), index);
  return *this;
}

Statement& Statement::bind_blob_static(int index, std::string_view bytes) {
  note_bind(sqlite3_bind_blob64(m_stmt, index, bytes.data(), bytes.size(), SQLITE_STATIC), index);
  return *this;
}

Statement& Statement::bind_null(int index) {
  note_bind(sqlite3_bind_null(m_stmt, index), index);
  return *this;
}

Expected<bool> Statement::step() {
  if (m_bind_error != 0) {
    const int rc = std::exchange(m_bind_error, 0);
    return m_db->error("bind parameter " + std::to_string(m_bind_error_index), rc);
  }
  const int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error e = m_db->error("step", rc);
  if (const char* sql = sqlite3_sql(m_stmt)) e.message += " in: " + std::string(sql).substr(0, 80);
  return e;
}

Expected<void> Statement::run() {
  for (;;) {
    XNODE_TRY(bool row, step());
    if (!row) return {};
  }
}

void Statement::reset() {
  if (!m_stmt) return;
  sqlite3_reset(m_stmt);
  sqlite3_clear_bindings(m_stmt);
  m_bind_error = 0;
}

std::int64_t Statement::column_int64(int index) const { return sqlite3_column_int64(m_stmt, index); }

bool Statement::column_is_null(int index) const { return sqlite3_column_type(m_stmt, index) == SQLITE_NULL; }

std::string_view Statement::column_text(int index) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, index));
  const int n = sqlite3_column_bytes(m_stmt, index);
  return p ? std::string_view(p, static_cast<std::size_t>(n)) : std::string_view();
}

std::string_view Statement::column_blob(int index) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(m_stmt, index));
  const int n = sqlite3_column_bytes(m_stmt, index);
  return p ? std::string_view(p, static_cast<std::size_t>(n)) : std::string_view();
}

// --- Transaction -------------------------------------------------------------------------------

Expected<Transaction> Transaction::begin(Database& db) {
  auto r = db.exec("BEGIN IMMEDIATE");
  if (!r) return r.error();
  return Transaction(db);
}

Transaction::~Transaction() { rollback(); }

Expected<void> Transaction::commit() {
  if (!m_db) return Error("sqlite: commit without a transaction");
  Database* db = std::exchange(m_db, nullptr);
  auto r = db->exec("COMMIT");
  if (!r) {
    // A failed COMMIT (I/O error, disk full) may leave the transaction open: end it.
    if (!sqlite3_get_autocommit(db->handle())) (void)db->exec("ROLLBACK");
    return r.error();
  }
  return {};
}

void Transaction::rollback() {
  if (!m_db) return;
  Database* db = std::exchange(m_db, nullptr);
  if (!sqlite3_get_autocommit(db->handle())) (void)db->exec("ROLLBACK");
}

}  // namespace xnode::io::sqlite
