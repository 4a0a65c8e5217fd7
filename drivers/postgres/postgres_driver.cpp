#include "drivers/postgres/postgres_driver.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>

#include "core/base/log.hpp"
#include "drivers/postgres/libpq_api.hpp"
#include "drivers/postgres/pg_values.hpp"
#include "io/sys/files.hpp"

namespace xnode::drivers::postgres {
namespace {

using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kBackoffMin = 1s;
constexpr std::chrono::milliseconds kBackoffMax = 60s;
constexpr std::chrono::milliseconds kPermanentBackoff = 10min;
constexpr std::chrono::milliseconds kFullBackoffMin = 100ms;
constexpr std::chrono::milliseconds kFullBackoffMax = 5s;
constexpr const char* kCursorMark = "cursor";
constexpr const char* kChangesMark = "changes";
constexpr const char* kCursorAlias = "xnode_cursor_";
constexpr const char* kDeletedAlias = "xnode_deleted";

// A failure with its kind: permanent ones (the query or the database is wrong for the driver)
// are retried rarely; the others (the database went away) with a short back-off.
struct Failure {
  std::string message;
  bool permanent = false;
};

// "schema.table" → "schema"."table".
std::string quote_qualified(std::string_view name) {
  std::string out;
  std::size_t start = 0;
  for (;;) {
    auto dot = name.find('.', start);
    if (!out.empty()) out += '.';
    out += quote_identifier(name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

std::string trim_message(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The password: the first line of password_file, which only the service user may read.
Expected<std::string> read_password(const std::string& path) {
  if (auto secret = io::check_private_file("password_file", path); !secret) return secret.error();
  std::ifstream in(path);
  if (!in) return make_error("password_file " + path + ": cannot open");
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// The position of an `xnode_cursor_<i>` column the driver added to the page query; nullopt for any
// other column (a user column may well be called xnode_cursor_x).
std::optional<std::size_t> cursor_alias_index(std::string_view name, std::size_t count) {
  const std::string_view prefix = kCursorAlias;
  if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
  const std::string_view digits = name.substr(prefix.size());
  std::size_t index = 0;
  if (digits.empty() || digits.size() > 3) return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + static_cast<std::size_t>(c - '0');
  }
  if (index >= count) return std::nullopt;
  return index;
}

}  // namespace

// One libpq connection, set up for the driver's text parsing: DateStyle ISO, TimeZone UTC, hex
// bytea, UTF-8 on both ends (anything else is refused: the records are UTF-8 JSON).
class PostgresDriver::Connection {
 public:
  ~Connection() {
    {
      std::lock_guard lock(m_cancel_mutex);
      if (m_cancel) m_pq.PQfreeCancel(m_cancel);
      m_cancel = nullptr;
    }
    if (m_conn) m_pq.PQfinish(m_conn);
  }

  static Expected<std::shared_ptr<Connection>> open(const PostgresSettings& settings) {
    // libpq is loaded here, by the first postgres source to connect, not linked (libpq_api.hpp).
    auto loaded = libpq();
    if (!loaded) return loaded.error();
    const LibpqApi& pq = **loaded;
    std::string password;
    if (!settings.password_file.empty()) {
      auto p = read_password(settings.password_file);
      if (!p) return p.error();
      password = std::move(p).value();
    }
    // Defaults first; the operator's conninfo (expanded from dbname) overrides them; the options
    // the driver's parsing depends on come last so nothing overrides them.
    std::vector<const char*> keys = {"connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
                                     "application_name", "dbname", "client_encoding"};
    std::vector<const char*> values = {"10", "30", "10", "3", "xnoded", settings.conninfo.c_str(), "UTF8"};
    if (!password.empty()) {
      keys.push_back("password");
      values.push_back(password.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    auto connection = std::shared_ptr<Connection>(new Connection(pq));
    connection->m_conn = pq.PQconnectdbParams(keys.data(), values.data(), 1);
    if (!connection->m_conn) return make_error("connect: out of memory");
    if (pq.PQstatus(connection->m_conn) != CONNECTION_OK)
      return make_error("connect: " + trim_message(pq.PQerrorMessage(connection->m_conn)));
    {
      std::lock_guard lock(connection->m_cancel_mutex);
      connection->m_cancel = pq.PQgetCancel(connection->m_conn);
    }
    return connection;
  }

  // Session set-up and the encoding check; a Failure says whether retrying can help.
  std::optional<Failure> prepare() {
    auto encoding = exec("SHOW server_encoding", {});
    if (!encoding) return encoding.error();
    const std::string server_encoding = m_pq.PQntuples(encoding->get()) == 1 ? m_pq.PQgetvalue(encoding->get(), 0, 0) : "";
    if (server_encoding != "UTF8")
      return Failure{"database encoding is " + server_encoding +
                         ", not UTF8: the driver takes UTF-8 databases only (records travel as UTF-8 JSON)",
                     true};
    const char* client = m_pq.PQparameterStatus(m_conn, "client_encoding");
    if (!client || std::string_view(client) != "UTF8")
      return Failure{std::string("client encoding is ") + (client ? client : "unknown") + ", not UTF8", true};
    for (const char* setting : {"SET DateStyle = ISO", "SET TimeZone = 'UTC'", "SET bytea_output = hex", "SET extra_float_digits = 1"}) {
      auto set = exec(setting, {});
      if (!set) return set.error();
    }
    return std::nullopt;
  }

  using Result = std::unique_ptr<PGresult, decltype(LibpqApi::PQclear)>;

  // Runs `sql` with text parameters; a result with rows or none, or the failure classified.
  struct Outcome {
    std::optional<Result> result;
    Failure failure;
    explicit operator bool() const { return result.has_value(); }
    Result& operator*() { return *result; }
    Result* operator->() { return &*result; }
    const Failure& error() const { return failure; }
  };

  Outcome exec(const std::string& sql, const std::vector<std::string>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p.c_str());
    Result result(m_pq.PQexecParams(m_conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.empty() ? nullptr : values.data(), nullptr, nullptr, 0),
                  m_pq.PQclear);
    Outcome out;
    const auto status = result ? m_pq.PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      out.result = std::move(result);
      return out;
    }
    const char* state = result ? m_pq.PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
    std::string message = trim_message(result ? m_pq.PQresultErrorMessage(result.get()) : m_pq.PQerrorMessage(m_conn));
    if (message.empty()) message = trim_message(m_pq.PQerrorMessage(m_conn));
    const std::string sqlstate = state ? state : "";
    // Class 42 (syntax error or access rule violation: 42703 undefined column, 42P01 undefined
    // table, 42601 syntax, 42501 privilege) and 22 (data exception: a cursor value the column
    // type cannot take) do not heal by retrying.
    out.failure.permanent = sqlstate.rfind("42", 0) == 0 || sqlstate.rfind("22", 0) == 0;
    out.failure.message = (sqlstate.empty() ? "" : "SQLSTATE " + sqlstate + ": ") + message;
    if (m_pq.PQstatus(m_conn) != CONNECTION_OK) out.failure.message = "connection lost: " + out.failure.message;
    return out;
  }

  bool healthy() const { return m_pq.PQstatus(m_conn) == CONNECTION_OK; }

  // The table the connection was opened with, for reading its results.
  const LibpqApi& pq() const { return m_pq; }

  void cancel() {
    std::lock_guard lock(m_cancel_mutex);
    if (!m_cancel) return;
    char error[256];
    m_pq.PQcancel(m_cancel, error, sizeof error);
  }

 private:
  explicit Connection(const LibpqApi& pq) : m_pq(pq) {}
  const LibpqApi& m_pq;
  PGconn* m_conn = nullptr;
  std::mutex m_cancel_mutex;
  PGcancel* m_cancel = nullptr;
};

PostgresDriver::PostgresDriver(std::string source, std::string stream, PostgresSettings settings, DriverContext& context)
    : m_source(std::move(source)),
      m_stream(std::move(stream)),
      m_settings(std::move(settings)),
      m_sink(context.sink),
      m_clock(context.clock ? context.clock : [] { return Clock::now(); }) {
  m_status.name = m_source;
  m_status.driver = "postgres";
  m_status.state = "stopped";
}

PostgresDriver::~PostgresDriver() { stop(); }

void PostgresDriver::start() {
  if (m_thread.joinable()) return;
  m_stop = false;
  set_state("starting");
  m_thread = std::thread([this] { run(); });
}

void PostgresDriver::stop() {
  {
    std::lock_guard lock(m_wait_mutex);
    m_stop = true;
  }
  m_wait_cv.notify_all();
  {
    std::lock_guard lock(m_connection_mutex);
    if (m_connection) m_connection->cancel();
  }
  if (m_thread.joinable()) m_thread.join();
  set_state("stopped");
}

SourceStatus PostgresDriver::status() const {
  std::lock_guard lock(m_status_mutex);
  return m_status;
}

void PostgresDriver::set_state(std::string state) {
  std::lock_guard lock(m_status_mutex);
  m_status.state = std::move(state);
}

bool PostgresDriver::pause(std::chrono::milliseconds how_long) {
  std::unique_lock lock(m_wait_mutex);
  m_wait_cv.wait_for(lock, how_long, [&] { return m_stop.load(); });
  return !m_stop;
}

void PostgresDriver::failure(const std::string& what, bool permanent) {
  m_full_backoff = 0ms;  // the next pause is this failure's back-off, not a full queue's
  if (m_stop) return;    // a query cancelled by stop() is no failure worth an alarm
  const std::string text = permanent ? "permanent: " + what + " (fix the settings or the database; next try in 10 min)" : what;
  log::warning("postgres", m_source + ": " + text);
  {
    std::lock_guard lock(m_status_mutex);
    m_status.state = "error";
    m_status.last_error = text;
  }
  if (permanent) {
    m_backoff = kPermanentBackoff;
  } else {
    m_backoff = m_backoff.count() == 0 ? kBackoffMin : std::min(m_backoff * 2, kBackoffMax);
  }
}

std::string PostgresDriver::page_sql(bool resume) const {
  std::string select, order, where;
  std::string from;
  std::vector<std::string> cursor_refs;
  if (!m_settings.table.empty()) {
    for (const auto& [item, column] : m_settings.columns) {
      if (!select.empty()) select += ", ";
      select += quote_identifier(column) + " AS " + quote_identifier(item);
    }
    for (const auto& c : m_settings.cursor) cursor_refs.push_back(quote_identifier(c));
    if (!m_settings.soft_delete_column.empty())
      select += ", " + quote_identifier(m_settings.soft_delete_column) + " AS " + kDeletedAlias;
    from = quote_qualified(m_settings.table);
  } else {
    select = "xnode_src.*";
    for (const auto& c : m_settings.cursor) cursor_refs.push_back("xnode_src." + quote_identifier(c));
    from = "(" + m_settings.query + ") AS xnode_src";
  }
  for (std::size_t i = 0; i < cursor_refs.size(); ++i) {
    select += ", " + cursor_refs[i] + " AS " + kCursorAlias + std::to_string(i);
    if (i) order += ", ";
    order += cursor_refs[i];
  }
  std::string sql = "SELECT " + select + " FROM " + from;
  if (resume) {
    std::string params;
    for (std::size_t i = 0; i < cursor_refs.size(); ++i) params += (i ? ", $" : "$") + std::to_string(i + 1);
    sql += " WHERE (" + order + ") > (" + params + ")";
  }
  sql += " ORDER BY " + order + " LIMIT " + std::to_string(m_settings.batch_size);
  return sql;
}

bool PostgresDriver::load_marks() {
  auto marks = wait_for_marks(m_sink, m_source, m_stop);
  if (!marks) return false;
  for (const auto& mark : *marks) {
    if (mark.source != m_source || mark.value.empty()) continue;
    if (mark.key == kChangesMark) {
      m_last_change = mark.value;
    } else if (mark.key == kCursorMark) {
      auto parsed = json::parse(mark.value);
      const json::Value* columns = parsed ? parsed->find("columns") : nullptr;
      const json::Value* values = parsed ? parsed->find("values") : nullptr;
      if (!columns || !values || !columns->is_array() || !values->is_array()) {
        log::warning("postgres", m_source + ": saved cursor unreadable (" + mark.value + "); reading from the start");
        continue;
      }
      std::vector<std::string> saved_columns, saved_values;
      for (const auto& c : columns->as_array()) saved_columns.push_back(c.as_string());
      for (const auto& v : values->as_array()) saved_values.push_back(v.as_string());
      if (saved_columns != m_settings.cursor || saved_values.size() != saved_columns.size()) {
        // A different cursor makes the old position meaningless. Reading from the start repeats
        // rows (upserts of the same keys) but loses none.
        log::warning("postgres", m_source + ": the cursor columns changed since the saved position (" + mark.value +
                                     "); reading from the start");
        continue;
      }
      m_cursor = std::move(saved_values);
    }
  }
  return true;
}

io::SubmitResult PostgresDriver::submit_and_wait(SourceBatch batch) {
  struct Shared {
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<io::SubmitResult> result;
  };
  auto shared = std::make_shared<Shared>();
  m_sink.submit(std::move(batch), [shared](io::SubmitResult result) {
    std::lock_guard lock(shared->mutex);
    shared->result = std::move(result);
    shared->cv.notify_all();
  });
  // No giving up on stop(): the batch is in the queue's hands; the driver's cursor must follow
  // what the queue decided, and the queue always answers.
  std::unique_lock lock(shared->mutex);
  shared->cv.wait(lock, [&] { return shared->result.has_value(); });
  return std::move(*shared->result);
}

PostgresDriver::Outcome PostgresDriver::after_submit(const io::SubmitResult& result, std::size_t records,
                                                     std::size_t quarantined) {
  if (result.status == io::SubmitStatus::queue_full) {
    m_full_backoff = m_full_backoff.count() == 0 ? kFullBackoffMin : std::min(m_full_backoff * 2, kFullBackoffMax);
    set_state("blocked");
    return Outcome::retry;
  }
  if (result.status == io::SubmitStatus::failed) {
    failure("queue: " + result.error, false);
    return Outcome::retry;
  }
  m_full_backoff = 0ms;
  std::lock_guard lock(m_status_mutex);
  m_status.records += records;
  m_status.quarantined += quarantined;
  m_status.files += 1;
  m_status.last_ok = m_clock();
  m_status.state = "ok";
  m_status.last_error.clear();
  return Outcome::progressed;
}

PostgresDriver::Outcome PostgresDriver::poll_rows() {
  const bool resume = m_cursor.has_value();
  auto page = m_connection->exec(page_sql(resume), resume ? *m_cursor : std::vector<std::string>{});
  if (!page) {
    failure("reading rows: " + page.error().message, page.error().permanent);
    return Outcome::retry;
  }
  PGresult* res = page->get();
  const LibpqApi& pq = m_connection->pq();
  const int rows = pq.PQntuples(res);
  if (rows == 0) return Outcome::nothing_new;
  const int fields = pq.PQnfields(res);

  // Which result columns are data, which the cursor, which the soft-delete flag.
  std::vector<int> cursor_fields(m_settings.cursor.size(), -1);
  int deleted_field = -1;
  std::vector<int> data_fields;
  const std::string deleted_name = m_settings.soft_delete_column.empty() ? ""
                                   : m_settings.table.empty()              ? m_settings.soft_delete_column
                                                                           : kDeletedAlias;
  for (int f = 0; f < fields; ++f) {
    std::string_view name = pq.PQfname(res, f);
    if (auto index = cursor_alias_index(name, cursor_fields.size())) {
      cursor_fields[*index] = f;
    } else if (!deleted_name.empty() && name == deleted_name) {
      deleted_field = f;
    } else {
      data_fields.push_back(f);
    }
  }
  if (std::find(cursor_fields.begin(), cursor_fields.end(), -1) != cursor_fields.end()) {
    failure("the page query lost its cursor columns (a driver defect)", true);
    return Outcome::retry;
  }
  if (!deleted_name.empty() && deleted_field < 0) {
    failure("soft_delete_column " + m_settings.soft_delete_column + " is not a column of the query", true);
    return Outcome::retry;
  }
  if (deleted_field >= 0 && pq.PQftype(res, deleted_field) != oid::boolean) {
    failure("soft_delete_column " + m_settings.soft_delete_column + " is not boolean", true);
    return Outcome::retry;
  }

  SourceBatch batch;
  batch.source = m_source;
  batch.records.reserve(static_cast<std::size_t>(rows));
  std::vector<std::string> last;
  const TimePoint now = m_clock();
  for (int r = 0; r < rows; ++r) {
    std::vector<std::string> cursor;
    std::string origin = (m_settings.table.empty() ? std::string("query") : m_settings.table) + "@(";
    for (std::size_t i = 0; i < cursor_fields.size(); ++i) {
      if (pq.PQgetisnull(res, r, cursor_fields[i])) {
        failure("cursor column " + m_settings.cursor[i] +
                    " is NULL in a row after " + origin + "): cursor columns must be NOT NULL",
                true);
        return Outcome::retry;
      }
      cursor.emplace_back(pq.PQgetvalue(res, r, cursor_fields[i]));
      origin += (i ? ", " : "") + cursor.back();
    }
    origin += ")";
    SourceRecord record;
    record.origin = origin;
    record.data = json::Value::object();
    std::string problem;
    for (int f : data_fields) {
      if (pq.PQgetisnull(res, r, f)) {
        record.data.set(pq.PQfname(res, f), json::Value());
        continue;
      }
      std::string_view text(pq.PQgetvalue(res, r, f), static_cast<std::size_t>(pq.PQgetlength(res, r, f)));
      auto value = to_json(pq.PQftype(res, f), text, m_settings.naive_timestamp_offset);
      if (value) {
        record.data.set(pq.PQfname(res, f), std::move(value).value());
      } else {
        if (!problem.empty()) problem += "; ";
        problem += std::string(pq.PQfname(res, f)) + ": " + value.error().message;
        record.data.set(pq.PQfname(res, f), json::Value(std::string(text)));
      }
    }
    record.is_delete = deleted_field >= 0 && !pq.PQgetisnull(res, r, deleted_field) &&
                       std::string_view(pq.PQgetvalue(res, r, deleted_field)) == "t";
    record.raw = json::serialize(record.data);
    if (problem.empty()) {
      batch.records.push_back(std::move(record));
    } else {
      batch.quarantine.push_back({m_source, m_stream, std::move(record.origin), std::move(problem), std::move(record.raw), now});
    }
    last = std::move(cursor);
  }

  json::Value mark = json::Value::object();
  json::Value columns = json::Value::array(), values = json::Value::array();
  for (const auto& c : m_settings.cursor) columns.push_back(json::Value(c));
  for (const auto& v : last) values.push_back(json::Value(v));
  mark.set("columns", std::move(columns));
  mark.set("values", std::move(values));
  batch.marks.push_back({m_source, kCursorMark, json::serialize(mark)});

  const std::size_t records = batch.records.size(), quarantined = batch.quarantine.size();
  page.result.reset();
  auto result = submit_and_wait(std::move(batch));
  auto outcome = after_submit(result, records, quarantined);
  if (outcome == Outcome::progressed) m_cursor = std::move(last);
  return outcome;
}

PostgresDriver::Outcome PostgresDriver::poll_changes() {
  if (m_settings.change_table.empty()) return Outcome::nothing_new;
  const std::string sql = "SELECT * FROM " + quote_qualified(m_settings.change_table) +
                          " WHERE change_id > $1 ORDER BY change_id LIMIT " + std::to_string(m_settings.batch_size);
  auto page = m_connection->exec(sql, {m_last_change});
  if (!page) {
    failure("reading " + m_settings.change_table + ": " + page.error().message, page.error().permanent);
    return Outcome::retry;
  }
  PGresult* res = page->get();
  const LibpqApi& pq = m_connection->pq();
  const int rows = pq.PQntuples(res);
  if (rows == 0) return Outcome::nothing_new;
  const int id_field = pq.PQfnumber(res, "change_id"), op_field = pq.PQfnumber(res, "op");
  if (id_field < 0 || op_field < 0) {
    failure("change_table " + m_settings.change_table + " lacks change_id or op", true);
    return Outcome::retry;
  }
  SourceBatch batch;
  batch.source = m_source;
  std::string last = m_last_change;
  const TimePoint now = m_clock();
  for (int r = 0; r < rows; ++r) {
    last = pq.PQgetvalue(res, r, id_field);
    // Only deletions travel from the change table; inserts and updates come with the rows
    // themselves through the cursor.
    std::string op = pq.PQgetisnull(res, r, op_field) ? "" : pq.PQgetvalue(res, r, op_field);
    std::transform(op.begin(), op.end(), op.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (op != "delete" && op != "d") continue;
    SourceRecord record;
    record.origin = m_settings.change_table + "@" + last;
    record.is_delete = true;
    record.data = json::Value::object();
    std::string problem;
    for (int f = 0; f < pq.PQnfields(res); ++f) {
      if (f == id_field || f == op_field) continue;
      if (pq.PQgetisnull(res, r, f)) {
        record.data.set(pq.PQfname(res, f), json::Value());
        continue;
      }
      std::string_view text(pq.PQgetvalue(res, r, f), static_cast<std::size_t>(pq.PQgetlength(res, r, f)));
      auto value = to_json(pq.PQftype(res, f), text, m_settings.naive_timestamp_offset);
      if (!value) {
        problem += std::string(pq.PQfname(res, f)) + ": " + value.error().message;
        record.data.set(pq.PQfname(res, f), json::Value(std::string(text)));
      } else {
        record.data.set(pq.PQfname(res, f), std::move(value).value());
      }
    }
    record.raw = json::serialize(record.data);
    if (problem.empty())
      batch.records.push_back(std::move(record));
    else
      batch.quarantine.push_back({m_source, m_stream, std::move(record.origin), std::move(problem), std::move(record.raw), now});
  }
  batch.marks.push_back({m_source, kChangesMark, last});
  const std::size_t records = batch.records.size(), quarantined = batch.quarantine.size();
  page.result.reset();
  auto result = submit_and_wait(std::move(batch));
  auto outcome = after_submit(result, records, quarantined);
  if (outcome == Outcome::progressed) m_last_change = last;
  return outcome;
}

void PostgresDriver::run() {
  if (!load_marks()) return;
  while (!m_stop) {
    if (!m_connection || !m_connection->healthy()) {
      std::shared_ptr<Connection> fresh;
      auto opened = Connection::open(m_settings);
      std::optional<Failure> problem;
      if (!opened)
        // Neither a readable password file nor a missing libpq heals by retrying soon: both
        // wait for the operator (chmod 600; apt install libpq5).
        problem = Failure{opened.error().message, opened.error().message.rfind("password_file", 0) == 0 ||
                                                      opened.error().message.rfind(kLibpqSoname, 0) == 0};
      else if (auto prepared = (*opened)->prepare())
        problem = prepared;
      if (problem) {
        {
          std::lock_guard lock(m_connection_mutex);
          m_connection.reset();
        }
        failure(problem->message, problem->permanent);
        if (!pause(m_backoff)) break;
        continue;
      }
      {
        std::lock_guard lock(m_connection_mutex);
        m_connection = std::move(opened).value();
      }
      log::info("postgres", m_source + ": connected" + (m_cursor ? " (resuming after the saved cursor)" : ""));
    }
    const auto rows = poll_rows();
    if (m_stop) break;
    if (rows == Outcome::retry) {
      if (!pause(m_full_backoff.count() ? m_full_backoff : m_backoff)) break;
      continue;
    }
    const auto changes = poll_changes();
    if (m_stop) break;
    if (changes == Outcome::retry) {
      if (!pause(m_full_backoff.count() ? m_full_backoff : m_backoff)) break;
      continue;
    }
    m_backoff = 0ms;
    if (rows == Outcome::nothing_new && changes == Outcome::nothing_new) {
      {
        std::lock_guard lock(m_status_mutex);
        m_status.state = "idle";
        m_status.last_ok = m_clock();
        m_status.last_error.clear();
      }
      if (!pause(m_settings.poll_interval)) break;
    }
  }
  std::lock_guard lock(m_connection_mutex);
  m_connection.reset();
}

Expected<std::unique_ptr<Driver>> make_driver(const config::SourceConfig& source, DriverContext& context) {
  auto settings = settings_from(source.settings);
  if (!settings) return make_error("source " + source.name + ": " + settings.error().message);
  return std::unique_ptr<Driver>(
      std::make_unique<PostgresDriver>(source.name, source.resource, std::move(settings).value(), context));
}

}  // namespace xnode::drivers::postgres
