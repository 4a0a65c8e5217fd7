#include <doctest/doctest.h>
#include <stdlib.h>

#include <array>
#include <filesystem>
#include <string>

#include "io/sqlite/database.hpp"

using namespace xnode;
using namespace xnode::io::sqlite;

namespace {
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string p = (std::filesystem::temp_directory_path() / "xnode-sqlite-test-XXXXXX").string();
    REQUIRE(mkdtemp(p.data()));
    path = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const char* name) const { return (path / name).string(); }
};
}  // namespace

TEST_SUITE("io::sqlite") {
  TEST_CASE("statements are prepared once and reused with fresh bindings") {
    TempDir dir;
    auto db = Database::open(dir.file("a.db"), OpenMode::read_write_create);
    REQUIRE(db.ok());
    REQUIRE(db->exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT, b BLOB)").ok());
    auto insert = db->prepare("INSERT INTO t(k, v, b) VALUES(?1, ?2, ?3)");
    REQUIRE(insert.ok());
    for (std::int64_t i = 1; i <= 3; ++i) {
      Statement::Reset reset(*insert);
      insert->bind(1, i).bind(2, std::string_view("值" + std::to_string(i))).bind_blob(3, std::string("\0\xff", 2));
      REQUIRE(insert->run().ok());
      CHECK(db->last_insert_rowid() == i);
      CHECK(db->changes() == 1);
    }
    auto select = db->prepare("SELECT v, b FROM t WHERE k = ?1");
    REQUIRE(select.ok());
    select->bind(1, std::int64_t{2});
    auto row = select->step();
    REQUIRE(row.ok());
    REQUIRE(*row);
    CHECK(select->column_text(0) == "值2");
    CHECK(select->column_blob(1) == std::string_view("\0\xff", 2));
    select->reset();
    select->bind(1, std::int64_t{9});
    row = select->step();
    REQUIRE(row.ok());
    CHECK_FALSE(*row);
    select->reset();
    auto n = db->query_int("SELECT count(*) FROM t");
    REQUIRE(n.ok());
    CHECK(*n == 3);
  }

  TEST_CASE("errors carry SQLite's message and the path") {
    TempDir dir;
    const std::string path = dir.file("b.db");
    auto db = Database::open(path, OpenMode::read_write_create);
    REQUIRE(db.ok());
    auto bad = db->prepare("SELEKT 1");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("sqlite: prepare on " + path + ": near \"SELEKT\": syntax error") == 0);
    REQUIRE(db->exec("CREATE TABLE u(k INTEGER PRIMARY KEY)").ok());
    auto ins = db->prepare("INSERT INTO u(k) VALUES(1)");
    REQUIRE(ins.ok());
    REQUIRE(ins->run().ok());
    ins->reset();
    auto dup = ins->run();
    REQUIRE_FALSE(dup.ok());
    CHECK(dup.error().message.find("UNIQUE constraint failed: u.k") != std::string::npos);
    CHECK(dup.error().message.find(path) != std::string::npos);

    auto missing = Database::open(dir.file("nope/c.db"), OpenMode::read_write_create);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find(dir.file("nope/c.db")) != std::string::npos);
    auto ro = Database::open(dir.file("d.db"), OpenMode::read_only);
    CHECK_FALSE(ro.ok());
  }

  TEST_CASE("a transaction rolls back unless committed") {
    TempDir dir;
    auto db = Database::open(dir.file("t.db"), OpenMode::read_write_create);
    REQUIRE(db.ok());
    REQUIRE(db->exec("CREATE TABLE t(x)").ok());
    {
      auto tx = Transaction::begin(*db);
      REQUIRE(tx.ok());
      REQUIRE(db->exec("INSERT INTO t VALUES(1)").ok());
    }
    CHECK(*db->query_int("SELECT count(*) FROM t") == 0);
    {
      auto tx = Transaction::begin(*db);
      REQUIRE(tx.ok());
      REQUIRE(db->exec("INSERT INTO t VALUES(1)").ok());
      REQUIRE(tx->commit().ok());
    }
    CHECK(*db->query_int("SELECT count(*) FROM t") == 1);
  }

  TEST_CASE("migrations run once each and record user_version") {
    TempDir dir;
    const std::string path = dir.file("m.db");
    constexpr std::array<std::string_view, 2> v2{"CREATE TABLE a(x)", "CREATE TABLE b(y); INSERT INTO b VALUES(7)"};
    {
      auto db = Database::open(path, OpenMode::read_write_create);
      REQUIRE(db.ok());
      REQUIRE(db->migrate(std::span<const std::string_view>(v2.data(), 1)).ok());
      CHECK(*db->user_version() == 1);
      REQUIRE(db->migrate(v2).ok());
      CHECK(*db->user_version() == 2);
      REQUIRE(db->migrate(v2).ok());  // nothing to do
      CHECK(*db->query_int("SELECT count(*) FROM b") == 1);
    }
    auto db = Database::open(path, OpenMode::read_write);
    REQUIRE(db.ok());
    auto older = db->migrate(std::span<const std::string_view>(v2.data(), 1));
    REQUIRE_FALSE(older.ok());
    CHECK(older.error().message.find("newer than this build knows") != std::string::npos);
    constexpr std::array<std::string_view, 3> broken{v2[0], v2[1], "CREATE TABLE a(x)"};
    auto failed = db->migrate(broken);
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().message.find("migrating " + path + " from schema version 2") == 0);
    CHECK(*db->user_version() == 2);
  }
}

#include "io/sqlite/write_counter.hpp"

TEST_SUITE("io::sqlite") {
  TEST_CASE("the write counter sees every byte written through SQLite, WAL included") {
    REQUIRE(install_write_counter());
    TempDir dir;
    auto db = Database::open(dir.file("w.db"), OpenMode::read_write_create);
    REQUIRE(db.ok());
    REQUIRE(db->exec("PRAGMA journal_mode=WAL").ok());
    REQUIRE(db->exec("CREATE TABLE t(b BLOB)").ok());
    const std::uint64_t before = bytes_written();
    auto insert = db->prepare("INSERT INTO t VALUES(randomblob(100000))");
    REQUIRE(insert.ok());
    REQUIRE(insert->run().ok());
    const std::uint64_t after_insert = bytes_written();
    CHECK(after_insert - before >= 100000);  // the WAL frames
    CHECK(after_insert - before < 130000);
    REQUIRE(db->exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
    CHECK(bytes_written() - after_insert >= 100000);  // copied into the database file
    auto n = db->query_int("SELECT length(b) FROM t");
    REQUIRE(n.ok());
    CHECK(*n == 100000);
  }
}
