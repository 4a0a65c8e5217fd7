// The postgres driver against a REAL PostgreSQL 15 server this test starts itself (initdb in a
// temporary directory as an unprivileged user, a Unix socket in that directory, no TCP port):
// initial load, increments, rows sharing a timestamp, updates, soft deletions, a change table,
// type mapping, a server restart mid-way, a driver restart from the saved marks, permanent
// failures that do not spin, and a non-UTF-8 database refused.
#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include "core/base/json.hpp"
#include "drivers/postgres/postgres_driver.hpp"
#include "fake_sink.hpp"
#include "io/queue/queue_store.hpp"

using namespace xnode;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin";
constexpr const char* kStream = "201005/11540100MB00000081-00004";

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

// One PostgreSQL server for the whole binary, started at first use, stopped at exit.
class PgServer {
 public:
  static PgServer& instance() {
    static PgServer server;
    return server;
  }
  bool ok() const { return m_ok; }
  const std::string& socket_dir() const { return m_dir; }
  std::string conninfo(const std::string& db = "postgres") const {
    return "host=" + m_dir + " port=5432 user=postgres dbname=" + db;
  }
  bool stop() { return run("pg_ctl -D " + shell_quote(m_dir + "/data") + " -m fast -w stop >/dev/null"); }
  bool start() {
    return run("pg_ctl -D " + shell_quote(m_dir + "/data") + " -l " + shell_quote(m_dir + "/log") + " -w -o " +
               shell_quote("-k " + m_dir + " -p 5432 -c listen_addresses= -c fsync=off") + " start >/dev/null");
  }
  // Local connections of `user` need a password (SCRAM); everyone else stays trusted.
  bool require_password_for(const std::string& user) {
    const std::string hba = m_dir + "/data/pg_hba.conf";
    std::string rest;
    {
      std::ifstream in(hba);
      rest.assign(std::istreambuf_iterator<char>(in), {});
    }
    if (rest.find(" " + user + " ") == std::string::npos) {
      std::ofstream out(hba, std::ios::trunc);
      out << "local all " << user << " scram-sha-256\n" << rest;
    }
    return run("pg_ctl -D " + shell_quote(m_dir + "/data") + " reload >/dev/null");
  }
  ~PgServer() {
    if (m_ok) stop();
    std::error_code ec;
    if (!m_dir.empty()) fs::remove_all(m_dir, ec);
  }

 private:
  PgServer() {
    // initdb refuses root: run the server as an unprivileged user that exists on Debian.
    if (::geteuid() == 0) {
      for (const char* name : {"postgres", "nobody"}) {
        if (auto* pw = ::getpwnam(name)) {
          m_user = name;
          m_uid = pw->pw_uid;
          m_gid = pw->pw_gid;
          break;
        }
      }
    }
    std::string pattern = (fs::temp_directory_path() / "xnode-pg-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) return;
    m_dir = pattern;
    if (!m_user.empty() && ::chown(m_dir.c_str(), m_uid, m_gid) != 0) return;
    if (!run("initdb -D " + shell_quote(m_dir + "/data") + " -U postgres -A trust -E UTF8 --no-locale >/dev/null"))
      return;
    m_ok = start();
  }
  bool run(const std::string& command) const {
    std::string full = std::string(kBin) + "/" + command;
    if (!m_user.empty()) full = "runuser -u " + m_user + " -- " + full;
    return std::system(full.c_str()) == 0;
  }

  std::string m_dir, m_user;
  uid_t m_uid = 0;
  gid_t m_gid = 0;
  bool m_ok = false;
};

// Runs SQL on the test's own connection (fails the test on an error).
void sql(const std::string& text, const std::string& db = "postgres") {
  PGconn* conn = PQconnectdb(PgServer::instance().conninfo(db).c_str());
  REQUIRE_MESSAGE(PQstatus(conn) == CONNECTION_OK, PQerrorMessage(conn));
  PGresult* res = PQexec(conn, text.c_str());
  const auto status = PQresultStatus(res);
  const std::string message = PQresultErrorMessage(res);
  PQclear(res);
  PQfinish(conn);
  REQUIRE_MESSAGE((status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK), message);
}

// A fresh database a test case owns.
std::string fresh_database() {
  static int n = 0;
  const std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(++n);
  sql("CREATE DATABASE " + name + " TEMPLATE template0 ENCODING 'UTF8'");
  return name;
}

config::SettingValue text_value(std::string t) {
  config::SettingValue v;
  v.type = config::ValueType::string;
  v.is_set = true;
  v.text = std::move(t);
  return v;
}

drivers::postgres::PostgresSettings table_settings(const std::string& db) {
  drivers::postgres::PostgresSettings s;
  s.conninfo = PgServer::instance().conninfo(db);
  s.table = "orders";
  s.columns = {{"id", "id"}, {"name", "name"}, {"amount", "amount"}, {"updated", "updated_at"}};
  s.cursor = {"updated_at", "id"};
  s.batch_size = 100;
  s.poll_interval = 100ms;
  return s;
}

void create_orders(const std::string& db, bool soft_delete = false) {
  sql("CREATE TABLE orders (id bigint PRIMARY KEY, name text NOT NULL, amount numeric(12,2), "
      "updated_at timestamptz NOT NULL" +
          std::string(soft_delete ? ", deleted boolean NOT NULL DEFAULT false" : "") + ")",
      db);
}

// Rows [from, to) with `distinct` timestamps between them: many rows share each timestamp.
void insert_orders(const std::string& db, int from, int to, int distinct, const std::string& base = "2026-03-23 08:00:00+08") {
  sql("INSERT INTO orders (id, name, amount, updated_at) SELECT g, '订单' || g, g * 1.5, timestamptz '" + base +
          "' + ((g % " + std::to_string(distinct) + ") * interval '1 second') FROM generate_series(" +
          std::to_string(from) + ", " + std::to_string(to - 1) + ") g",
      db);
}

struct Counts {
  std::map<std::string, int> upserts, deletes;
};

Counts counts(test::FakeSink& sink) {
  std::lock_guard lock(sink.mutex());
  Counts c;
  for (const auto& r : sink.records) {
    const json::Value* id = r.data.find("id");
    (r.is_delete ? c.deletes : c.upserts)[id ? id->as_string() : ""]++;  // a number's text or a string
  }
  return c;
}

std::size_t record_count(test::FakeSink& sink) {
  std::lock_guard lock(sink.mutex());
  return sink.records.size();
}

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 30s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

// The daemon's part reduced to what the test needs: each row becomes a queued upsert/delete keyed
// by its serial, records and marks in one queue transaction (the real SQLite store).
class QueueSink final : public drivers::IntakeSink {
 public:
  explicit QueueSink(io::QueueStore& store) : m_store(store) {}
  void submit(drivers::SourceBatch batch, std::function<void(io::SubmitResult)> done) override {
    io::IntakeBatch out;
    out.records.reserve(batch.records.size());
    const std::string at = format_rfc3339(Clock::now());
    for (auto& r : batch.records) {
      std::string tail = r.is_delete ? "\"op\":\"delete\",\"key\":" : "\"op\":\"upsert\",\"key\":";
      json::quote_to(tail, r.data.get_string("serial"));
      tail += ",\"at\":\"" + at + "\",\"data\":";
      json::serialize_to(tail, r.data);
      tail += "}";
      out.records.push_back({kStream, std::move(tail)});
    }
    out.quarantine = std::move(batch.quarantine);
    out.marks = std::move(batch.marks);
    m_store.submit(std::move(out), std::move(done));
  }
  void read_marks(const std::string& source, std::function<void(std::vector<io::SourceMark>)> done) override {
    m_store.read_marks(source, std::move(done));
  }

 private:
  io::QueueStore& m_store;
};

// Realistic service cases (the example catalog's resource -00004): ~300 bytes a row as JSON.
void create_cases(const std::string& db, long long rows) {
  sql("CREATE TABLE cases (id bigint PRIMARY KEY, name text, citizen_id text, uscc text, amount numeric(12,2), "
      "ts timestamptz, region_code varchar(6), region_name text, department text, service_item text, status text, "
      "serial text NOT NULL, updated_at timestamptz NOT NULL)",
      db);
  sql("INSERT INTO cases SELECT g, (ARRAY['张伟','王芳','李娜','刘洋','陈静','杨磊'])[1 + g % 6], "
      "'540102199' || (g % 10) || lpad((1 + g % 12)::text, 2, '0') || lpad((1 + g % 28)::text, 2, '0') || "
      "lpad((g % 1000)::text, 3, '0'), '91540100MA6T' || lpad((g % 100000)::text, 5, '0') || 'X', "
      "(g % 100000) / 100.0, timestamptz '2026-03-23 08:00:00+08' + g * interval '1 second', "
      "'5401' || lpad((g % 30)::text, 2, '0'), (ARRAY['城关区','堆龙德庆区','达孜区','林周县'])[1 + g % 4], "
      "'市场监督管理局', '企业设立登记', '办结', 'SN' || lpad(g::text, 10, '0'), "
      "timestamptz '2026-03-23 08:00:00+08' + (g / 1000) * interval '1 second' "
      "FROM generate_series(1, " + std::to_string(rows) + ") g",
      db);
  sql("CREATE INDEX ON cases (updated_at, id)", db);
}

struct TempDir {
  std::string path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "xnode-pgq-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

io::QueueOptions queue_options(const std::string& dir) {
  io::QueueOptions options;
  options.path = dir + "/queue.db";
  options.durability = io::Durability::full;
  options.max_bytes = 1ull << 30;
  return options;
}

// The serials of the whole stream, in seq order, checking the seqs are consecutive from 1.
std::vector<std::string> stream_serials(io::QueueStore& store) {
  std::vector<std::string> serials;
  std::uint64_t after = 0;
  for (;;) {
    std::promise<Expected<io::StoredBatch>> promise;
    auto future = promise.get_future();
    store.read_batch(kStream, after, 5000, 4 << 20, [&](Expected<io::StoredBatch> b) { promise.set_value(std::move(b)); });
    auto batch = future.get();
    REQUIRE(batch.ok());
    if (batch->count == 0) break;
    CHECK(batch->first_seq == after + 1);
    std::string_view body = batch->body;
    while (!body.empty()) {
      auto nl = body.find('\n');
      auto line = json::parse(body.substr(0, nl));
      REQUIRE(line.ok());
      serials.push_back(line->find("data")->get_string("serial"));
      body.remove_prefix(nl + 1);
    }
    after = batch->first_seq + batch->count - 1;
  }
  return serials;
}

#define REQUIRE_SERVER() \
  if (!PgServer::instance().ok()) FAIL("could not start a PostgreSQL server under /usr/lib/postgresql/15/bin")

}  // namespace

TEST_SUITE("drivers::PostgresDriver") {
  TEST_CASE("initial load, increments and rows sharing a timestamp: each row exactly once, in cursor order") {
    REQUIRE_SERVER();
    const auto db = fresh_database();
    create_orders(db);
    insert_orders(db, 1, 2501, 7);  // ~357 rows per timestamp, pages of 100 cut through them
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    drivers::postgres::PostgresDriver driver("orders-db", kStream, table_settings(db), context);
    driver.start();
    REQUIRE_MESSAGE(eventually([&] { return record_count(sink) == 2500; }), record_count(sink), " ", driver.status().state, " ", driver.status().last_error);
    // Increments: more rows with the SAME timestamp as the last rows read (higher ids), and later.
    insert_orders(db, 2501, 2701, 1, "2026-03-23 08:00:06+08");
    insert_orders(db, 2701, 2801, 3, "2026-03-24 08:00:00+08");
    REQUIRE(eventually([&] { return record_count(sink) == 2800; }));
    REQUIRE(eventually([&] { return driver.status().state == "idle"; }));
    driver.stop();
    auto c = counts(sink);
    CHECK(c.upserts.size() == 2800);
    CHECK(std::all_of(c.upserts.begin(), c.upserts.end(), [](auto& kv) { return kv.second == 1; }));
    std::lock_guard lock(sink.mutex());
    const auto& first = sink.records.front().data;
    CHECK(first.find("id")->is_number());
    CHECK(first.get_string("name").rfind("订单", 0) == 0);
    CHECK(first.find("amount")->is_number());
    CHECK(first.get_string("updated") == "2026-03-23T00:00:00Z");
    CHECK(sink.marks.count({"orders-db", "cursor"}) == 1);
    CHECK(driver.status().records == 2800);
  }

  TEST_CASE("updates come again, soft deletions become deletes by key, a restart resumes from the mark") {
    REQUIRE_SERVER();
    const auto db = fresh_database();
    create_orders(db, true);
    insert_orders(db, 1, 301, 5);
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    auto settings = table_settings(db);
    settings.soft_delete_column = "deleted";
    {
      drivers::postgres::PostgresDriver driver("orders-db", kStream, settings, context);
      driver.start();
      REQUIRE(eventually([&] { return record_count(sink) == 300; }));
      driver.stop();
    }
    sql("UPDATE orders SET name = 'changed', updated_at = '2026-04-01 00:00:00+00' WHERE id = 7", db);
    sql("UPDATE orders SET deleted = true, updated_at = '2026-04-01 00:00:01+00' WHERE id = 9", db);
    insert_orders(db, 301, 311, 1, "2026-04-02 00:00:00+00");
    // A new driver instance (a daemon restart): resumes from the queue's mark, repeats nothing.
    drivers::postgres::PostgresDriver driver("orders-db", kStream, settings, context);
    driver.start();
    REQUIRE(eventually([&] { return record_count(sink) == 312; }));
    REQUIRE(eventually([&] { return driver.status().state == "idle"; }));
    driver.stop();
    auto c = counts(sink);
    CHECK(c.upserts.size() == 310);
    CHECK(c.upserts["7"] == 2);
    CHECK(c.upserts["9"] == 1);
    CHECK(c.deletes["9"] == 1);
    CHECK(c.deletes.size() == 1);
    std::lock_guard lock(sink.mutex());
    CHECK(sink.records[300].data.get_string("name") == "changed");
    CHECK(sink.records[301].is_delete);
    CHECK(sink.records[301].data.find("deleted") == nullptr);  // the flag itself does not travel
  }

  TEST_CASE("a change table carries deletions by key, read by change_id") {
    REQUIRE_SERVER();
    const auto db = fresh_database();
    create_orders(db);
    insert_orders(db, 1, 51, 1);
    sql("CREATE TABLE order_changes (change_id bigserial PRIMARY KEY, op text NOT NULL, id bigint NOT NULL)", db);
    sql("INSERT INTO order_changes (op, id) VALUES ('insert', 5), ('delete', 5), ('delete', 6)", db);
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    auto settings = table_settings(db);
    settings.change_table = "order_changes";
    drivers::postgres::PostgresDriver driver("orders-db", kStream, settings, context);
    driver.start();
    REQUIRE(eventually([&] { return record_count(sink) == 52; }));
    sql("INSERT INTO order_changes (op, id) VALUES ('delete', 7)", db);
    REQUIRE(eventually([&] { return record_count(sink) == 53; }));
    REQUIRE(eventually([&] { return driver.status().state == "idle"; }));
    driver.stop();
    auto c = counts(sink);
    CHECK(c.deletes.size() == 3);
    CHECK(c.deletes["5"] == 1);
    CHECK(c.deletes["7"] == 1);
    std::lock_guard lock(sink.mutex());
    CHECK(sink.marks[{"orders-db", "changes"}] == "4");
  }

  TEST_CASE("a query source: type mapping, NULL, and a row without a JSON form quarantined in the same transaction") {
    REQUIRE_SERVER();
    const auto db = fresh_database();
    sql("CREATE TABLE kinds (id int PRIMARY KEY, t text, v varchar(10), i2 smallint, i8 bigint, n numeric, f float8, "
        "b boolean, d date, ts timestamp, tz timestamptz, g bytea)",
        db);
    sql("INSERT INTO kinds VALUES (1, '藏A', 'x', 7, 9007199254740993, 12.500, 0.25, true, '2026-03-23', "
        "'2026-03-23 08:00:00', '2026-03-23 08:00:00.5+08', '\\x00ff'), "
        "(2, NULL, NULL, NULL, NULL, 'NaN', NULL, NULL, NULL, NULL, NULL, NULL), "
        "(3, 'ok', NULL, NULL, NULL, NULL, NULL, false, NULL, NULL, NULL, NULL)",
        db);
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    drivers::postgres::PostgresSettings settings;
    settings.conninfo = PgServer::instance().conninfo(db);
    settings.query = "SELECT * FROM kinds";
    settings.cursor = {"id"};
    settings.poll_interval = 100ms;
    drivers::postgres::PostgresDriver driver("kinds", kStream, settings, context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().state == "idle"; }));
    driver.stop();
    std::lock_guard lock(sink.mutex());
    REQUIRE(sink.records.size() == 2);
    const auto& r = sink.records[0].data;
    CHECK(json::serialize(r) ==
          "{\"id\":1,\"t\":\"藏A\",\"v\":\"x\",\"i2\":7,\"i8\":9007199254740993,\"n\":12.500,\"f\":0.25,\"b\":true,"
          "\"d\":\"2026-03-23\",\"ts\":\"2026-03-23T08:00:00+08:00\",\"tz\":\"2026-03-23T00:00:00.5Z\",\"g\":\"AP8=\"}");
    CHECK(sink.records[1].data.find("v")->is_null());  // id 3; id 2 went to the quarantine
    REQUIRE(sink.quarantine.size() == 1);
    CHECK(sink.quarantine[0].reason.find("NaN") != std::string::npos);
    CHECK(sink.quarantine[0].origin == "query@(2)");
    CHECK(sink.quarantine[0].stream == kStream);
    CHECK(sink.marks[{"kinds", "cursor"}] == "{\"columns\":[\"id\"],\"values\":[\"3\"]}");
  }

  TEST_CASE("the server going away: state error with the reason, then resumes where it stopped") {
    REQUIRE_SERVER();
    auto& server = PgServer::instance();
    const auto db = fresh_database();
    create_orders(db);
    insert_orders(db, 1, 1001, 10);
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    auto settings = table_settings(db);
    drivers::postgres::PostgresDriver driver("orders-db", kStream, settings, context);
    driver.start();
    REQUIRE(eventually([&] { return record_count(sink) == 1000; }));
    REQUIRE(server.stop());
    REQUIRE(eventually([&] { return driver.status().state == "error"; }));
    CHECK_FALSE(driver.status().last_error.empty());
    CHECK(driver.status().last_error.find("permanent") == std::string::npos);
    REQUIRE(server.start());
    insert_orders(db, 1001, 1501, 10, "2026-03-25 08:00:00+08");
    // Back-off starts at 1 s and doubles; the bound leaves room for a few rounds.
    REQUIRE(eventually([&] { return record_count(sink) == 1500; }, 60s));
    REQUIRE(eventually([&] { return driver.status().state == "idle"; }));
    CHECK(driver.status().last_error.empty());
    driver.stop();
    auto c = counts(sink);
    CHECK(c.upserts.size() == 1500);
    CHECK(std::all_of(c.upserts.begin(), c.upserts.end(), [](auto& kv) { return kv.second == 1; }));
  }

  TEST_CASE("a full queue blocks the source; the refused page comes again, nothing twice") {
    REQUIRE_SERVER();
    const auto db = fresh_database();
    create_orders(db);
    insert_orders(db, 1, 501, 3);
    test::FakeSink sink;
    std::atomic<bool> full{true};
    // Pages 0 and 1 are taken, then the queue is full until the test frees it.
    sink.set_policy([&](std::size_t index, const drivers::SourceBatch&) {
      return index >= 2 && full ? io::SubmitStatus::queue_full : io::SubmitStatus::ok;
    });
    drivers::DriverContext context{sink, {}};
    drivers::postgres::PostgresDriver driver("orders-db", kStream, table_settings(db), context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().state == "blocked"; }));
    CHECK(record_count(sink) == 200);
    REQUIRE(eventually([&] {
      std::lock_guard lock(sink.mutex());
      return sink.refused >= 3;
    }));
    full = false;
    REQUIRE(eventually([&] { return driver.status().state == "idle"; }));
    driver.stop();
    auto c = counts(sink);
    CHECK(c.upserts.size() == 500);
    CHECK(std::all_of(c.upserts.begin(), c.upserts.end(), [](auto& kv) { return kv.second == 1; }));
  }

  TEST_CASE("a missing column is permanent: said so, and no spinning") {
    REQUIRE_SERVER();
    const auto db = fresh_database();
    create_orders(db);
    insert_orders(db, 1, 11, 1);
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    auto settings = table_settings(db);
    settings.columns["status"] = "no_such_column";
    drivers::postgres::PostgresDriver driver("orders-db", kStream, settings, context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().state == "error"; }));
    const auto error = driver.status().last_error;
    CHECK(error.find("42703") != std::string::npos);
    CHECK(error.find("permanent") != std::string::npos);
    std::this_thread::sleep_for(300ms);  // a spinning driver would log and retry here
    CHECK(driver.status().last_error == error);
    driver.stop();  // cancels the long back-off at once
    CHECK(record_count(sink) == 0);
    CHECK(driver.status().state == "stopped");
  }

  TEST_CASE("a non-UTF-8 database is refused with a clear error") {
    REQUIRE_SERVER();
    sql("CREATE DATABASE latin_" + std::to_string(::getpid()) + " TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'");
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    auto settings = table_settings("latin_" + std::to_string(::getpid()));
    drivers::postgres::PostgresDriver driver("orders-db", kStream, settings, context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().state == "error"; }));
    CHECK(driver.status().last_error.find("LATIN1") != std::string::npos);
    CHECK(driver.status().last_error.find("UTF") != std::string::npos);
    driver.stop();
  }

  TEST_CASE("a password file open to others is refused") {
    REQUIRE_SERVER();
    const std::string path = PgServer::instance().socket_dir() + "/pw";
    { std::ofstream(path) << "secret\n"; }
    ::chmod(path.c_str(), 0644);
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    auto settings = table_settings("postgres");
    settings.password_file = path;
    drivers::postgres::PostgresDriver driver("orders-db", kStream, settings, context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().state == "error"; }));
    CHECK(driver.status().last_error.find("0644") != std::string::npos);
    driver.stop();
  }

  TEST_CASE("the password comes from password_file (SCRAM authentication)") {
    REQUIRE_SERVER();
    auto& server = PgServer::instance();
    const auto db = fresh_database();
    create_orders(db);
    insert_orders(db, 1, 21, 1);
    sql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'xnode_reader') THEN "
        "CREATE ROLE xnode_reader LOGIN PASSWORD 'Lhasa-3650'; END IF; END $$");
    sql("GRANT SELECT ON orders TO xnode_reader", db);
    REQUIRE(server.require_password_for("xnode_reader"));
    const std::string path = server.socket_dir() + "/reader.password";
    auto settings = table_settings(db);
    settings.conninfo = "host=" + server.socket_dir() + " port=5432 user=xnode_reader dbname=" + db;
    settings.password_file = path;
    {
      std::ofstream(path) << "wrong\n";
      ::chmod(path.c_str(), 0600);
      test::FakeSink sink;
      drivers::DriverContext context{sink, {}};
      drivers::postgres::PostgresDriver driver("orders-db", kStream, settings, context);
      driver.start();
      REQUIRE(eventually([&] { return driver.status().state == "error"; }));
      CHECK(driver.status().last_error.find("password authentication failed") != std::string::npos);
      CHECK(driver.status().last_error.find("wrong") == std::string::npos);  // the secret is not echoed
      driver.stop();
    }
    std::ofstream(path, std::ios::trunc) << "Lhasa-3650\n";
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    drivers::postgres::PostgresDriver driver("orders-db", kStream, settings, context);
    driver.start();
    REQUIRE(eventually([&] { return record_count(sink) == 20; }));
    driver.stop();
  }

  TEST_CASE("the registry makes the driver from checked settings") {
    config::SourceConfig source;
    source.name = "orders-db";
    source.driver = "postgres";
    source.resource = kStream;
    source.settings.set("conninfo", text_value("host=/tmp dbname=x password=oops"));
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    auto made = drivers::postgres::make_driver(source, context);
    REQUIRE_FALSE(made.ok());
    CHECK(made.error().message.find("orders-db") != std::string::npos);
  }

  TEST_CASE("against the real queue: stopped mid-load and restarted, every row once, in order") {
    REQUIRE_SERVER();
    const auto db = fresh_database();
    create_cases(db, 20000);
    TempDir state;
    auto settings = table_settings(db);
    settings.table.clear();
    settings.columns.clear();
    settings.query = "SELECT * FROM cases";
    settings.batch_size = 500;
    {
      auto store = io::QueueStore::open(queue_options(state.path));
      QueueSink sink(*store);
      drivers::DriverContext context{sink, {}};
      drivers::postgres::PostgresDriver driver("cases-db", kStream, settings, context);
      driver.start();
      REQUIRE(eventually([&] { return driver.status().records >= 3000; }));
      driver.stop();
      store->close();
    }
    auto store = io::QueueStore::open(queue_options(state.path));
    QueueSink sink(*store);
    drivers::DriverContext context{sink, {}};
    drivers::postgres::PostgresDriver driver("cases-db", kStream, settings, context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().state == "idle"; }));
    driver.stop();
    auto serials = stream_serials(*store);
    REQUIRE(serials.size() == 20000);
    for (std::size_t i = 0; i < serials.size(); ++i) {
      char expected[32];
      std::snprintf(expected, sizeof expected, "SN%010zu", i + 1);
      if (serials[i] != expected) FAIL("row " << i << " is " << serials[i]);
    }
    store->close();
  }

  // Run explicitly: test_drivers -tc="*postgres throughput*" --no-skip
  TEST_CASE("postgres throughput: initial load of 1,000,000 rows into the queue, durability full" * doctest::skip()) {
    REQUIRE_SERVER();
    const auto db = fresh_database();
    const long long total = 1000000;
    create_cases(db, total);
    TempDir state;
    auto settings = table_settings(db);
    settings.table.clear();
    settings.columns.clear();
    settings.query = "SELECT * FROM cases";
    settings.batch_size = 1000;
    if (const char* b = std::getenv("XNODE_PG_BATCH")) settings.batch_size = std::strtoul(b, nullptr, 10);
    auto store = io::QueueStore::open(queue_options(state.path));
    QueueSink sink(*store);
    drivers::DriverContext context{sink, {}};
    drivers::postgres::PostgresDriver driver("cases-db", kStream, settings, context);
    const auto start = std::chrono::steady_clock::now();
    driver.start();
    REQUIRE(eventually([&] { return driver.status().records == static_cast<std::uint64_t>(total); }, 900s));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    driver.stop();
    std::printf("postgres_rows_per_s: %.0f\n", static_cast<double>(total) / seconds);
    store->close();
  }
}
