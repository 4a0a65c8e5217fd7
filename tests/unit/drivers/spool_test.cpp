#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "core/config/validator.hpp"
#include "drivers/registry.hpp"
#include "drivers/spool/spool_driver.hpp"
#include "fake_sink.hpp"
#include "io/sys/files.hpp"

using namespace xnode;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using drivers::spool::SpoolDriver;
using drivers::spool::SpoolSettings;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "xnode-spool-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write_raw(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// The convention: write under a temporary name, then rename into place.
void drop_file(const std::string& dir, const std::string& name, const std::string& content) {
  write_raw(dir + "/." + name + ".tmp", content);
  fs::rename(dir + "/." + name + ".tmp", dir + "/" + name);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 20s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

SpoolSettings settings_for(const std::string& dir) {
  SpoolSettings s;
  s.dir = dir;
  s.done_dir = dir + "/done";
  s.failed_dir = dir + "/failed";
  s.rescan_interval = 3600s;  // tests see inotify at work, not the safety net
  return s;
}

std::string ndjson_lines(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) out += "{\"id\":\"" + std::to_string(i) + "\",\"name\":\"名" + std::to_string(i) + "\"}\n";
  return out;
}

std::vector<std::string> ids(test::FakeSink& sink) {
  std::lock_guard lock(sink.mutex());
  std::vector<std::string> out;
  for (const auto& r : sink.records) out.push_back(r.data.get_string("id"));
  return out;
}

std::size_t record_count(test::FakeSink& sink) {
  std::lock_guard lock(sink.mutex());
  return sink.records.size();
}

std::vector<std::string> seq_ids(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(std::to_string(i));
  return out;
}

}  // namespace

TEST_SUITE("drivers::SpoolDriver") {
  TEST_CASE("complete NDJSON and CSV files are taken and deleted; temporary names are left alone") {
    TempDir dir;
    drop_file(dir.path, "a.ndjson", ndjson_lines(1, 3));
    drop_file(dir.path, "b.csv", "id,name\r\n4,四\r\n5,\"五, five\"\r\n");
    write_raw(dir.path + "/.c.ndjson", ndjson_lines(90, 90));
    write_raw(dir.path + "/d.ndjson.tmp", ndjson_lines(91, 91));
    write_raw(dir.path + "/e.jsonl.part", ndjson_lines(92, 92));
    write_raw(dir.path + "/f.txt", ndjson_lines(93, 93));

    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    SpoolDriver driver("enterprise-spool", "101003/X-00001", settings_for(dir.path), context);
    driver.start();
    REQUIRE(eventually([&] { return record_count(sink) == 5 && !fs::exists(dir.path + "/b.csv"); }));
    CHECK(ids(sink) == seq_ids(1, 5));
    CHECK_FALSE(fs::exists(dir.path + "/a.ndjson"));
    CHECK(fs::exists(dir.path + "/.c.ndjson"));
    CHECK(fs::exists(dir.path + "/d.ndjson.tmp"));
    CHECK(fs::exists(dir.path + "/e.jsonl.part"));
    CHECK(fs::exists(dir.path + "/f.txt"));
    {
      std::lock_guard lock(sink.mutex());
      CHECK(sink.records[0].origin == "a.ndjson:1");
      CHECK(sink.records[0].raw == "{\"id\":\"1\",\"name\":\"名1\"}");
      CHECK(sink.records[4].origin == "b.csv:3");
      CHECK(sink.records[4].data.get_string("name") == "五, five");
    }
    REQUIRE(eventually([&] {
      std::lock_guard lock(sink.mutex());
      return sink.marks.empty();
    }));

    // A file renamed into place later is seen through inotify (the rescan is an hour away).
    fs::rename(dir.path + "/d.ndjson.tmp", dir.path + "/d.ndjson");
    REQUIRE(eventually([&] { return record_count(sink) == 6; }));
    CHECK(ids(sink).back() == "91");
    REQUIRE(eventually([&] { return driver.status().files == 3; }));
    auto status = driver.status();
    CHECK(status.name == "enterprise-spool");
    CHECK(status.driver == "spool");
    CHECK(status.records == 6);
    CHECK(status.last_ok.has_value());
    REQUIRE(eventually([&] { return driver.status().state == "idle"; }));
    driver.stop();
    CHECK(driver.status().state == "stopped");
  }

  TEST_CASE("malformed lines go to the quarantine with file and line; the rest goes on; deletions pass") {
    TempDir dir;
    drop_file(dir.path, "m.ndjson",
              "{\"id\":\"1\"}\nnot json\n{\"id\":\"3\",\"_op\":\"delete\"}\n[1]\n{\"id\":\"5\"}");
    drop_file(dir.path, "m.csv", "id,amount\n6,1.5\n7\n8,abc\n9,2\n");
    test::FakeSink sink;
    drivers::DriverContext context{sink, [](std::string_view f) -> char { return f == "amount" ? 'Y' : 'C'; }};
    auto settings = settings_for(dir.path);
    settings.chunk_records = 2;
    SpoolDriver driver("s", "101003/X-00001", settings, context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().files == 2; }));
    driver.stop();
    CHECK(ids(sink) == std::vector<std::string>{"6", "9", "1", "3", "5"});  // m.csv sorts before m.ndjson
    std::lock_guard lock(sink.mutex());
    CHECK(sink.records[1].data.find("amount")->number_text() == "2");
    CHECK(sink.records[3].is_delete);
    CHECK(sink.records[3].data.find("_op") == nullptr);
    REQUIRE(sink.quarantine.size() == 4);
    CHECK(sink.quarantine[0].origin == "m.csv:3");
    CHECK(sink.quarantine[0].reason == "row has 1 fields, the header has 2");
    CHECK(sink.quarantine[0].content == "7");
    CHECK(sink.quarantine[0].source == "s");
    CHECK(sink.quarantine[0].stream == "101003/X-00001");
    CHECK(sink.quarantine[1].origin == "m.csv:4");
    CHECK(sink.quarantine[1].reason == "column \"amount\": \"abc\" is not a number");
    CHECK(sink.quarantine[2].origin == "m.ndjson:2");
    CHECK(sink.quarantine[2].content == "not json");
    CHECK(sink.quarantine[3].origin == "m.ndjson:4");
    CHECK(sink.quarantine[3].reason == "not a JSON object");
    CHECK(driver.status().quarantined == 4);
  }

  TEST_CASE("unreadable files move to failed/ with a reason file") {
    TempDir dir;
    drop_file(dir.path, "bin.ndjson", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
    drop_file(dir.path, "header.csv", "id,\xFF\xFE\n1,2\n");
    drop_file(dir.path, "good.ndjson", ndjson_lines(1, 1));
    const bool root = ::geteuid() == 0;
    if (!root) {
      drop_file(dir.path, "locked.ndjson", ndjson_lines(2, 2));
      ::chmod((dir.path + "/locked.ndjson").c_str(), 0);
    }
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    SpoolDriver driver("s", "r", settings_for(dir.path), context);
    driver.start();
    REQUIRE(eventually([&] {
      return fs::exists(dir.path + "/failed/header.csv.reason") && fs::exists(dir.path + "/failed/bin.ndjson.reason") &&
             (root || fs::exists(dir.path + "/failed/locked.ndjson.reason")) && driver.status().files == 1;
    }));
    driver.stop();
    CHECK(ids(sink) == std::vector<std::string>{"1"});
    CHECK_FALSE(fs::exists(dir.path + "/bin.ndjson"));
    CHECK(fs::exists(dir.path + "/failed/bin.ndjson"));
    CHECK(read_all(dir.path + "/failed/bin.ndjson.reason").rfind("binary data (NUL byte at offset 8)\n", 0) == 0);
    CHECK(read_all(dir.path + "/failed/header.csv.reason").rfind("CSV header (line 1): not valid UTF-8\n", 0) == 0);
    CHECK(read_all(dir.path + "/failed/header.csv") == "id,\xFF\xFE\n1,2\n");
    if (!root) CHECK(read_all(dir.path + "/failed/locked.ndjson.reason").rfind("cannot open: Permission denied", 0) == 0);
    CHECK(driver.status().last_error.find("moved to") != std::string::npos);
  }

  TEST_CASE("resume from a mark: NDJSON and CSV files continue after the last durable record") {
    TempDir dir;
    const std::string nd = ndjson_lines(1, 5);
    drop_file(dir.path, "r.ndjson", nd);
    const std::string csv = "id,n\n1,\"a\nb\"\n2,x\n3,y\n4,z\n";
    drop_file(dir.path, "r.csv", csv);
    test::FakeSink sink;
    // Two lines of r.ndjson and the first two rows of r.csv (lines 1-4) were queued before a crash.
    const std::uint64_t nd_offset = ndjson_lines(1, 2).size();
    const std::uint64_t csv_offset = std::string("id,n\n1,\"a\nb\"\n2,x\n").size();
    sink.marks[{"s", io::identity_of_path(dir.path + "/r.ndjson")->key("r.ndjson")}] = std::to_string(nd_offset) + ":2";
    sink.marks[{"s", io::identity_of_path(dir.path + "/r.csv")->key("r.csv")}] = std::to_string(csv_offset) + ":4";
    drivers::DriverContext context{sink, [](std::string_view f) -> char { return f == "n" ? 'C' : 'I'; }};
    SpoolDriver driver("s", "r", settings_for(dir.path), context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().files == 2; }));
    driver.stop();
    CHECK(ids(sink) == std::vector<std::string>{"", "", "3", "4", "5"});  // CSV ids are integers here
    std::lock_guard lock(sink.mutex());
    CHECK(sink.records[0].origin == "r.csv:5");
    CHECK(json::serialize(sink.records[0].data) == R"({"id":3,"n":"y"})");
    CHECK(sink.records[1].origin == "r.csv:6");
    CHECK(sink.records[2].origin == "r.ndjson:3");
    CHECK(sink.marks.empty());
  }

  TEST_CASE("a file whose done mark is durable is only finished; stale marks are cleared") {
    TempDir dir;
    drop_file(dir.path, "x.ndjson", ndjson_lines(1, 3));
    test::FakeSink sink;
    sink.marks[{"s", io::identity_of_path(dir.path + "/x.ndjson")->key("x.ndjson")}] = "done";
    sink.marks[{"s", "gone.ndjson|1:2|3|4"}] = "10:1";
    sink.marks[{"other-source", "keep|1:2|3|4"}] = "10:1";
    drivers::DriverContext context{sink, {}};
    SpoolDriver driver("s", "r", settings_for(dir.path), context);
    driver.start();
    REQUIRE(eventually([&] { return !fs::exists(dir.path + "/x.ndjson"); }));
    REQUIRE(eventually([&] {
      std::lock_guard lock(sink.mutex());
      return sink.marks.size() == 1;
    }));
    driver.stop();
    CHECK(record_count(sink) == 0);
    CHECK(sink.marks.count({"other-source", "keep|1:2|3|4"}) == 1);
  }

  TEST_CASE("on_done: move keeps consumed files in done/ without overwriting") {
    TempDir dir;
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    auto settings = settings_for(dir.path);
    settings.on_done = drivers::spool::OnDone::move;
    SpoolDriver driver("s", "r", settings, context);
    driver.start();
    drop_file(dir.path, "same.ndjson", ndjson_lines(1, 2));
    REQUIRE(eventually([&] { return fs::exists(dir.path + "/done/same.ndjson"); }));
    drop_file(dir.path, "same.ndjson", ndjson_lines(3, 4));
    REQUIRE(eventually([&] { return fs::exists(dir.path + "/done/same.ndjson.1"); }));
    driver.stop();
    CHECK(ids(sink) == seq_ids(1, 4));
    CHECK(read_all(dir.path + "/done/same.ndjson") == ndjson_lines(1, 2));
    CHECK(read_all(dir.path + "/done/same.ndjson.1") == ndjson_lines(3, 4));
  }

  TEST_CASE("queue full: the file stays, the source is blocked, then every record is taken once, in order") {
    TempDir dir;
    drop_file(dir.path, "big.ndjson", ndjson_lines(1, 40));
    test::FakeSink sink;
    std::atomic<bool> full{true};
    sink.set_policy([&](std::size_t, const drivers::SourceBatch&) {
      return full ? io::SubmitStatus::queue_full : io::SubmitStatus::ok;
    });
    drivers::DriverContext context{sink, {}};
    auto settings = settings_for(dir.path);
    settings.chunk_records = 3;
    settings.max_in_flight = 4;
    SpoolDriver driver("s", "r", settings, context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().state == "blocked"; }));
    REQUIRE(eventually([&] {
      std::lock_guard lock(sink.mutex());
      return sink.refused >= 3;  // it retries, with back-off
    }));
    CHECK(fs::exists(dir.path + "/big.ndjson"));
    CHECK(record_count(sink) == 0);
    full = false;
    REQUIRE(eventually([&] { return driver.status().files == 1; }));
    driver.stop();
    CHECK(ids(sink) == seq_ids(1, 40));
  }

  TEST_CASE("a refused batch followed by an accepted one: nothing lost, nothing twice") {
    TempDir dir;
    drop_file(dir.path, "race.ndjson", ndjson_lines(1, 30));
    test::FakeSink sink;
    sink.hold_until(3);  // the three batches of the window reach the queue before it answers
    sink.set_policy([&](std::size_t index, const drivers::SourceBatch&) {
      return index == 1 || index == 4 ? io::SubmitStatus::queue_full : io::SubmitStatus::ok;
    });
    drivers::DriverContext context{sink, {}};
    auto settings = settings_for(dir.path);
    settings.chunk_records = 4;
    settings.max_in_flight = 3;
    SpoolDriver driver("s", "r", settings, context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().files == 1; }));
    driver.stop();
    auto got = ids(sink);
    CHECK(got.size() == 30);
    CHECK(std::set<std::string>(got.begin(), got.end()).size() == 30);
    std::lock_guard lock(sink.mutex());
    CHECK(sink.refused == 2);
    CHECK(sink.marks.empty());
  }

  TEST_CASE("a crash after any number of durable batches: the restart neither loses nor duplicates") {
    for (std::size_t survive = 0; survive <= 10; ++survive) {
      CAPTURE(survive);
      TempDir dir;
      drop_file(dir.path, "a.csv", "id,v\n1,a\n2,\"b\nb\"\n3,c\n4,d\n5,e\n");
      drop_file(dir.path, "b.ndjson", ndjson_lines(6, 12));
      test::FakeSink sink;
      // The "process" dies after `survive` commits: later submits never become durable.
      sink.set_policy([&](std::size_t index, const drivers::SourceBatch&) {
        return index < survive ? io::SubmitStatus::ok : io::SubmitStatus::failed;
      });
      drivers::DriverContext context{sink, {}};
      auto settings = settings_for(dir.path);
      settings.chunk_records = 2;
      settings.max_in_flight = 2;
      {
        SpoolDriver first("s", "r", settings, context);
        first.start();
        REQUIRE(eventually([&] {
          std::lock_guard lock(sink.mutex());
          return sink.failed > 0 || first.status().files == 2;
        }));
        first.stop();
      }
      sink.set_policy({});
      SpoolDriver second("s", "r", settings, context);
      second.start();
      REQUIRE(eventually([&] { return !fs::exists(dir.path + "/a.csv") && !fs::exists(dir.path + "/b.ndjson"); }));
      REQUIRE(eventually([&] {
        std::lock_guard lock(sink.mutex());
        return sink.marks.empty();
      }));
      second.stop();
      CHECK(ids(sink) == seq_ids(1, 12));
    }
  }

  TEST_CASE("a missing spool directory is an error state, and taken up once it appears") {
    TempDir dir;
    const std::string spool = dir.path + "/later";
    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    auto settings = settings_for(spool);
    settings.rescan_interval = 50ms;
    SpoolDriver driver("s", "r", settings, context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().state == "error"; }));
    CHECK(driver.status().last_error.find("cannot") != std::string::npos);
    fs::create_directory(spool);
    drop_file(spool, "x.ndjson", ndjson_lines(1, 2));
    REQUIRE(eventually([&] { return driver.status().files == 1; }));
    REQUIRE(eventually([&] { return driver.status().state == "idle"; }));
    driver.stop();
    CHECK(ids(sink) == seq_ids(1, 2));
  }
}

TEST_SUITE("drivers::registry") {
  TEST_CASE("the spool driver is known by name, with its settings schema") {
    const auto& schemas = drivers::driver_schemas();
    REQUIRE(schemas.count("spool") == 1);
    std::set<std::string> keys;
    for (const auto& key : schemas.at("spool").keys()) keys.insert(key.name);
    CHECK(keys == std::set<std::string>{"dir", "format", "on_done", "done_dir", "failed_dir", "rescan_interval",
                                        "chunk_records", "max_in_flight", "max_line_bytes"});
  }

  TEST_CASE("make_driver: settings checked by the schema, an unknown driver refused") {
    TempDir dir;
    config::Diagnostics diagnostics;
    config::Validator validator(dir.path, drivers::driver_schemas(), diagnostics);
    YAML::Node node = YAML::Load("dir: spool\non_done: move\nchunk_records: 50\n");
    config::SourceConfig source;
    source.name = "enterprise-spool";
    source.driver = "spool";
    source.resource = "101003/X-00001";
    source.settings = validator.mapping(node, drivers::driver_schemas().at("spool").keys(), "settings", {});
    REQUIRE(diagnostics.empty());
    auto settings = drivers::spool::settings_from(source.settings);
    REQUIRE(settings.ok());
    CHECK(settings->dir == dir.path + "/spool");
    CHECK(settings->done_dir == dir.path + "/spool/done");
    CHECK(settings->on_done == drivers::spool::OnDone::move);
    CHECK(settings->chunk_records == 50);
    CHECK(settings->rescan_interval == 30s);
    CHECK(settings->max_in_flight == 4);

    test::FakeSink sink;
    drivers::DriverContext context{sink, {}};
    auto driver = drivers::make_driver(source, context);
    REQUIRE(driver.ok());
    CHECK((*driver)->status().driver == "spool");

    YAML::Node bad = YAML::Load("dir: spool\nchunk_records: 0\nformat: xml\n");
    config::Diagnostics bad_diagnostics;
    config::Validator bad_validator(dir.path, drivers::driver_schemas(), bad_diagnostics);
    (void)bad_validator.mapping(bad, drivers::driver_schemas().at("spool").keys(), "settings", {});
    CHECK(bad_diagnostics.size() == 2);

    source.driver = "ftp";
    auto unknown = drivers::make_driver(source, context);
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().message == "source enterprise-spool: unknown driver \"ftp\"");
  }
}
