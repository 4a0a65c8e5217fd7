// The postgres driver: reads a table (or a query) of a PostgreSQL-wire database (PostgreSQL,
// KingbaseES, openGauss, GaussDB) incrementally and takes every row into the queue exactly once.
//
// - Paging by a cursor: a monotonic column and a unique tie-breaker, `WHERE (c1, c2) > ($1, $2)
//   ORDER BY c1, c2 LIMIT batch_size`, so rows sharing a timestamp are never skipped. An update
//   that moves a row's cursor forward makes the row come again (an upsert of its key).
// - Each page goes to the sink with the mark {source, "cursor", {columns, values of the last row}}
//   in the SAME queue transaction as its records: after a SIGKILL the driver resumes at the last
//   durable page — no row skipped, none repeated.
// - Deletions: a boolean soft_delete_column (true → a delete by key), or a change_table of
//   (change_id, op, key columns named as the items) read by change_id with its own mark "changes".
// - Values are mapped to the catalog item types (pg_values.hpp); a row whose value has no JSON
//   form goes to the quarantine with the reason, in the same transaction, and the cursor moves on.
// - The database going away: state `error` with the reason, retries with back-off (1 s doubling
//   to 60 s), resumes from the saved cursor. A permanent failure (SQLSTATE class 42: missing
//   column or table, syntax, privilege; a non-UTF-8 database; a readable password file) says so
//   and retries only every 10 minutes.
// Threading: libpq runs blocking on the driver's own thread; stop() cancels a running query.
// libpq is not linked: the first connect loads libpq.so.5 (libpq_api.hpp). Without it the source
// is in state `error`, "libpq.so.5 not found: install libpq5", retried every 10 minutes.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/config/config.hpp"
#include "drivers/driver.hpp"
#include "drivers/postgres/pg_settings.hpp"

namespace xnode::drivers::postgres {

class PostgresDriver final : public Driver {
 public:
  // `stream` is the resource code (for quarantine entries).
  PostgresDriver(std::string source, std::string stream, PostgresSettings settings, DriverContext& context);
  ~PostgresDriver() override;

  void start() override;
  void stop() override;
  SourceStatus status() const override;

  // The SQL of one page, for the logs and the tests ($1… are the cursor values when `resume`).
  std::string page_sql(bool resume) const;

 private:
  class Connection;
  enum class Outcome { progressed, nothing_new, retry };

  void run();
  bool load_marks();
  Outcome poll_rows();
  Outcome poll_changes();
  // Submits and waits for the answer (the sink always answers, so this waits through stop()).
  io::SubmitResult submit_and_wait(SourceBatch batch);
  Outcome after_submit(const io::SubmitResult& result, std::size_t records, std::size_t quarantined);
  void failure(const std::string& what, bool permanent);
  // Sleeps `how_long` or until stop(); false when stopping.
  bool pause(std::chrono::milliseconds how_long);
  void set_state(std::string state);

  const std::string m_source;
  const std::string m_stream;
  const PostgresSettings m_settings;
  IntakeSink& m_sink;
  std::function<TimePoint()> m_clock;

  std::thread m_thread;
  std::atomic<bool> m_stop{false};
  std::mutex m_wait_mutex;
  std::condition_variable m_wait_cv;

  mutable std::mutex m_status_mutex;
  SourceStatus m_status;

  // Driver thread only (the connection's cancel handle is guarded inside Connection).
  std::shared_ptr<Connection> m_connection;
  std::mutex m_connection_mutex;  // guards the pointer against stop()'s cancel
  std::optional<std::vector<std::string>> m_cursor;  // values of the last durable row
  std::string m_last_change = "0";
  std::chrono::milliseconds m_backoff{0};
  std::chrono::milliseconds m_full_backoff{0};
};

Expected<std::unique_ptr<Driver>> make_driver(const config::SourceConfig& source, DriverContext& context);

}  // namespace xnode::drivers::postgres
