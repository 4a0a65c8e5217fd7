#include "tests/platform/sqlite_db.hpp"

#include <sqlite3.h>

#include <utility>

namespace xnode::platform::sql {

namespace {
[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string message = "sqlite: ";
  message += what;
  message += ": ";
  message += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw StoreError(message);
}
}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) : m_db(db) {
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                              &m_stmt, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, std::string("prepare `") + std::string(sql.substr(0, 60)) + "`");
}

Statement::Statement(Statement&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)), m_stmt(std::exchange(other.m_stmt, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (m_stmt) sqlite3_finalize(m_stmt);
    m_db = std::exchange(other.m_db, nullptr);
    m_stmt = std::exchange(other.m_stmt, nullptr);
  }
  return *this;
}

Statement::~Statement() {
  if (m_stmt) sqlite3_finalize(m_stmt);
}

void Statement::check(int rc, const char* what) const {
  if (rc != SQLITE_OK) fail(m_db, rc, what);
}

Statement& Statement::bind(int index, std::int64_t value) {
  check(sqlite3_bind_int64(m_stmt, index, value), "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  check(sqlite3_bind_text64(m_stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        "bind");
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  // A zero-length blob is bound as an empty blob, not NULL.
  static const char empty = 0;
  check(sqlite3_bind_blob64(m_stmt, index, bytes.empty() ? &empty : bytes.data(), bytes.size(),
                            SQLITE_TRANSIENT),
        "bind");
  return *this;
}

Statement& Statement::bind_null(int index) {
  check(sqlite3_bind_null(m_stmt, index), "bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    sqlite3_reset(m_stmt);
    return false;
  }
  sqlite3_reset(m_stmt);
  fail(m_db, rc, "step");
}

void Statement::run() {
  while (step()) {
  }
  sqlite3_clear_bindings(m_stmt);
}

void Statement::reset() {
  sqlite3_reset(m_stmt);
  sqlite3_clear_bindings(m_stmt);
}

std::int64_t Statement::column_int(int index) const { return sqlite3_column_int64(m_stmt, index); }

std::string Statement::column_text(int index) const {
  const auto* p = sqlite3_column_text(m_stmt, index);
  int n = sqlite3_column_bytes(m_stmt, index);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

std::string Statement::column_blob(int index) const {
  const void* p = sqlite3_column_blob(m_stmt, index);
  int n = sqlite3_column_bytes(m_stmt, index);
  return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(m_stmt, index) == SQLITE_NULL;
}

Database::Database(const std::string& path) {
  int rc = sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "sqlite: cannot open " + path + ": " +
                          (m_db ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc));
    if (m_db) sqlite3_close(m_db);
    m_db = nullptr;
    throw StoreError(message);
  }
  sqlite3_busy_timeout(m_db, 5000);
  sqlite3_extended_result_codes(m_db, 1);
  // WAL + FULL: every acknowledged batch is on disk before the 200 leaves (nothing lost).
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
}

Database::~Database() {
  if (m_db) sqlite3_close_v2(m_db);
}

void Database::exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string m = "sqlite: exec: ";
    m += message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw StoreError(m);
  }
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(m_db); }

std::int64_t Database::user_version() {
  Statement st(m_db, "PRAGMA user_version");
  std::int64_t v = st.step() ? st.column_int(0) : 0;
  st.reset();
  return v;
}

Transaction::Transaction(Database& db) : m_db(db) { m_db.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!m_done) {
    try {
      m_db.exec("ROLLBACK");
    } catch (const StoreError&) {
      // Nothing more to do: SQLite already rolled back on the failure that brought us here.
    }
  }
}

void Transaction::commit() {
  m_db.exec("COMMIT");
  m_done = true;
}

}  // namespace xnode::platform::sql
