#include <doctest/doctest.h>

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "io/sys/files.hpp"
#include "io/sys/inotify_watcher.hpp"
#include "io/sys/wake_event.hpp"

using namespace xnode;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "xnode-sys-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Reads events until `want` complete names were seen, waiting at most ~5 s in poll.
std::vector<io::InotifyEvent> collect(io::InotifyWatcher& watcher, std::size_t want) {
  std::vector<io::InotifyEvent> events;
  for (int round = 0; round < 50; ++round) {
    std::size_t complete = 0;
    for (const auto& e : events) complete += e.file_complete();
    if (complete >= want) break;
    pollfd fd{watcher.fd(), POLLIN, 0};
    if (::poll(&fd, 1, 100) > 0) {
      std::error_code error;
      REQUIRE(watcher.read_events(events, error));
    }
  }
  return events;
}

}  // namespace

TEST_SUITE("io::InotifyWatcher") {
  TEST_CASE("a name renamed into the directory and a file closed after writing are reported") {
    TempDir dir;
    io::InotifyWatcher watcher;
    auto wd = watcher.add_watch(dir.path, IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_ONLYDIR);
    REQUIRE(wd.ok());
    write_file(dir.path + "/.a.tmp", "x");
    fs::rename(dir.path + "/.a.tmp", dir.path + "/a.ndjson");
    auto events = collect(watcher, 2);
    std::vector<std::string> complete;
    for (const auto& e : events)
      if (e.file_complete()) complete.push_back(e.name);
    REQUIRE(complete.size() == 2);
    CHECK(complete[0] == ".a.tmp");  // closed after writing (a temporary name: callers skip it)
    CHECK(complete[1] == "a.ndjson");
    CHECK(events[0].watch == *wd);
  }

  TEST_CASE("the watched directory going away is reported; a missing one is a clear error") {
    TempDir dir;
    const std::string sub = dir.path + "/spool";
    fs::create_directory(sub);
    io::InotifyWatcher watcher;
    REQUIRE(watcher.add_watch(sub, IN_MOVED_TO | IN_DELETE_SELF | IN_ONLYDIR).ok());
    fs::remove(sub);
    std::vector<io::InotifyEvent> events;
    for (int round = 0; round < 50 && events.empty(); ++round) {
      pollfd fd{watcher.fd(), POLLIN, 0};
      if (::poll(&fd, 1, 100) > 0) {
        std::error_code error;
        REQUIRE(watcher.read_events(events, error));
      }
    }
    REQUIRE_FALSE(events.empty());
    CHECK(events[0].watch_gone());
    auto missing = watcher.add_watch(sub, IN_MOVED_TO);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message == "cannot watch " + sub + ": No such file or directory");
  }

  TEST_CASE("read_events never blocks when nothing happened") {
    TempDir dir;
    io::InotifyWatcher watcher;
    REQUIRE(watcher.add_watch(dir.path, IN_MOVED_TO).ok());
    std::vector<io::InotifyEvent> events;
    std::error_code error;
    CHECK(watcher.read_events(events, error));
    CHECK(events.empty());
  }
}

TEST_SUITE("io::WakeEvent") {
  TEST_CASE("a notify from another thread wakes a poll; drain clears it") {
    io::WakeEvent wake;
    CHECK_FALSE(wake.drain());
    std::thread other([&] { wake.notify(); });
    pollfd fd{wake.fd(), POLLIN, 0};
    CHECK(::poll(&fd, 1, 5000) == 1);
    other.join();
    wake.notify();
    CHECK(wake.drain());
    CHECK_FALSE(wake.drain());
    fd.revents = 0;
    CHECK(::poll(&fd, 1, 0) == 0);
  }
}

TEST_SUITE("io::files") {
  TEST_CASE("identity: same file same key; a rewrite changes it") {
    TempDir dir;
    const std::string path = dir.path + "/a.csv";
    write_file(path, "id\n1\n");
    auto first = io::identity_of_path(path);
    REQUIRE(first.ok());
    CHECK(first->regular);
    CHECK(first->size == 5);
    CHECK(first->key("a.csv").rfind("a.csv|", 0) == 0);
    CHECK(io::identity_of_path(path)->key("a.csv") == first->key("a.csv"));
    write_file(path, "id\n1\n2\n");
    CHECK(io::identity_of_path(path)->key("a.csv") != first->key("a.csv"));
    CHECK_FALSE(io::identity_of_path(dir.path + "/none").ok());
    CHECK_FALSE(io::identity_of_path(dir.path)->regular);
  }

  TEST_CASE("move_into_directory never overwrites; it creates the directory") {
    TempDir dir;
    write_file(dir.path + "/x.ndjson", "one");
    auto moved = io::move_into_directory(dir.path + "/x.ndjson", dir.path + "/done/sub");
    REQUIRE(moved.ok());
    CHECK(*moved == dir.path + "/done/sub/x.ndjson");
    write_file(dir.path + "/x.ndjson", "two");
    auto again = io::move_into_directory(dir.path + "/x.ndjson", dir.path + "/done/sub");
    REQUIRE(again.ok());
    CHECK(*again == dir.path + "/done/sub/x.ndjson.1");
    CHECK(read_file(dir.path + "/done/sub/x.ndjson") == "one");
    CHECK(read_file(dir.path + "/done/sub/x.ndjson.1") == "two");
    CHECK_FALSE(fs::exists(dir.path + "/x.ndjson"));
    auto missing = io::move_into_directory(dir.path + "/nothing", dir.path + "/done");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("No such file or directory") != std::string::npos);
  }

  TEST_CASE("write_file_atomically, remove_file and list_directory") {
    TempDir dir;
    REQUIRE(io::write_file_atomically(dir.path + "/r.reason", "why\n").ok());
    REQUIRE(io::write_file_atomically(dir.path + "/r.reason", "because\n").ok());
    CHECK(read_file(dir.path + "/r.reason") == "because\n");
    CHECK_FALSE(fs::exists(dir.path + "/r.reason.tmp"));
    write_file(dir.path + "/b", "");
    auto names = io::list_directory(dir.path);
    REQUIRE(names.ok());
    CHECK(*names == std::vector<std::string>{"b", "r.reason"});
    REQUIRE(io::remove_file(dir.path + "/b").ok());
    REQUIRE(io::remove_file(dir.path + "/b").ok());  // already gone is fine
    CHECK_FALSE(io::list_directory(dir.path + "/none").ok());
    CHECK_FALSE(io::write_file_atomically(dir.path + "/none/x", "").ok());
  }
}
