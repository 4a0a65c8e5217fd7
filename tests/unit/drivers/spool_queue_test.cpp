// The spool driver against the real durable queue (SQLite files in a temporary directory):
// records and marks in one transaction, a restart in the middle of a file, and the throughput.
#include <doctest/doctest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "core/base/json.hpp"
#include "drivers/spool/spool_driver.hpp"
#include "io/queue/queue_store.hpp"

using namespace xnode;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr const char* kStream = "201005/11540100MB00000081-00004";

// The daemon's part, reduced to what the test needs: each record becomes a queued upsert or
// delete keyed by its "id" (the real intake pipeline checks it against the catalog first).
class QueueSink final : public drivers::IntakeSink {
 public:
  explicit QueueSink(io::QueueStore& store) : m_store(store) {}
  void submit(drivers::SourceBatch batch, std::function<void(io::SubmitResult)> done) override {
    io::IntakeBatch out;
    out.records.reserve(batch.records.size());
    const std::string at = format_rfc3339(Clock::now());
    for (auto& r : batch.records) {
      std::string tail = r.is_delete ? "\"op\":\"delete\",\"key\":" : "\"op\":\"upsert\",\"key\":";
      json::quote_to(tail, r.data.get_string("id"));
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

struct TempDir {
  std::string path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "xnode-spoolq-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 60s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

// A realistic record (~316 bytes as NDJSON): ids, Chinese names, a citizen id and credit code
// shaped like real ones, an amount, a time, a region, a department, a service item, a status.
std::string record_line(std::uint64_t i) {
  static const char* names[] = {"张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强"};
  static const char* regions[] = {"城关区", "堆龙德庆区", "达孜区", "林周县", "当雄县", "尼木县"};
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"id\":\"%llu\",\"name\":\"%s\",\"citizen_id\":\"540102199%01llu%02llu%02llu%03llu\",\"uscc\":"
                "\"91540100MA6T%05lluX\",\"amount\":%llu.%02llu,\"at\":\"2026-03-23T08:%02llu:%02llu+08:00\","
                "\"region_code\":\"5401%02llu\",\"region\":\"%s\",\"department\":\"市场监督管理局\","
                "\"item\":\"企业设立登记\",\"status\":\"办结\",\"serial\":\"SN%010llu\"}\n",
                static_cast<unsigned long long>(i), names[i % 8], static_cast<unsigned long long>(i % 10),
                static_cast<unsigned long long>(1 + i % 12), static_cast<unsigned long long>(1 + i % 28),
                static_cast<unsigned long long>(i % 1000), static_cast<unsigned long long>(i % 100000),
                static_cast<unsigned long long>(i % 100000), static_cast<unsigned long long>(i % 100),
                static_cast<unsigned long long>(i / 60 % 60), static_cast<unsigned long long>(i % 60),
                static_cast<unsigned long long>(i % 30), regions[i % 6], static_cast<unsigned long long>(i));
  return buf;
}

void write_spool_file(const std::string& dir, const std::string& name, std::uint64_t from, std::uint64_t count) {
  const std::string temporary = dir + "/." + name + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary);
    for (std::uint64_t i = from; i < from + count; ++i) out << record_line(i);
  }
  fs::rename(temporary, dir + "/" + name);
}

template <typename T, typename Call>
T wait_result(Call call) {
  std::promise<T> promise;
  auto future = promise.get_future();
  call([&promise](T value) { promise.set_value(std::move(value)); });
  return future.get();
}

// Reads the whole stream back: the ids in seq order, checking seqs are consecutive from 1.
std::vector<std::uint64_t> stream_ids(io::QueueStore& store) {
  std::vector<std::uint64_t> ids;
  std::uint64_t after = 0;
  for (;;) {
    auto batch = wait_result<Expected<io::StoredBatch>>([&](auto done) { store.read_batch(kStream, after, 5000, 4 << 20, done); });
    REQUIRE(batch.ok());
    if (batch->count == 0) break;
    CHECK(batch->first_seq == after + 1);
    std::string_view body = batch->body;
    while (!body.empty()) {
      auto nl = body.find('\n');
      auto line = json::parse(body.substr(0, nl));
      REQUIRE(line.ok());
      ids.push_back(std::stoull(line->find("data")->get_string("id")));
      body.remove_prefix(nl + 1);
    }
    after = batch->first_seq + batch->count - 1;
  }
  return ids;
}

io::QueueOptions queue_options(const std::string& dir) {
  io::QueueOptions options;
  options.path = dir + "/queue.db";
  options.durability = io::Durability::full;
  options.max_bytes = 1ull << 30;
  return options;
}

drivers::spool::SpoolSettings spool_settings(const std::string& dir) {
  drivers::spool::SpoolSettings s;
  s.dir = dir;
  s.done_dir = dir + "/done";
  s.failed_dir = dir + "/failed";
  s.rescan_interval = 3600s;
  if (const char* w = std::getenv("XNODE_SPOOL_IN_FLIGHT")) s.max_in_flight = std::strtoul(w, nullptr, 10);
  if (const char* c = std::getenv("XNODE_SPOOL_CHUNK")) s.chunk_records = std::strtoul(c, nullptr, 10);
  return s;
}

}  // namespace

TEST_SUITE("drivers::SpoolDriver with the queue") {
  TEST_CASE("stopped in the middle of a file and restarted: every record once, in order") {
    TempDir state, spool;
    write_spool_file(spool.path, "a.ndjson", 1, 20000);
    write_spool_file(spool.path, "b.ndjson", 20001, 5000);
    {
      auto store = io::QueueStore::open(queue_options(state.path));
      QueueSink sink(*store);
      drivers::DriverContext context{sink, {}};
      drivers::spool::SpoolDriver driver("spool", kStream, spool_settings(spool.path), context);
      driver.start();
      // Stop as soon as part of the first file is durable.
      REQUIRE(eventually([&] { return driver.status().records >= 3000; }));
      driver.stop();
      CHECK(driver.status().records < 25000);
      store->close();
    }
    CHECK(fs::exists(spool.path + "/a.ndjson"));
    auto store = io::QueueStore::open(queue_options(state.path));
    {
      auto marks = wait_result<std::vector<io::SourceMark>>([&](auto done) { store->read_marks("spool", done); });
      REQUIRE(marks.size() >= 1);
      CHECK(marks[0].key.rfind("a.ndjson|", 0) == 0);
    }
    QueueSink sink(*store);
    drivers::DriverContext context{sink, {}};
    drivers::spool::SpoolDriver driver("spool", kStream, spool_settings(spool.path), context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().files == 2; }));
    driver.stop();
    auto ids = stream_ids(*store);
    REQUIRE(ids.size() == 25000);
    for (std::uint64_t i = 0; i < ids.size(); ++i) REQUIRE(ids[i] == i + 1);
    auto marks = wait_result<std::vector<io::SourceMark>>([&](auto done) { store->read_marks("spool", done); });
    CHECK(marks.empty());
    CHECK_FALSE(fs::exists(spool.path + "/a.ndjson"));
    CHECK_FALSE(fs::exists(spool.path + "/b.ndjson"));
    store->close();
  }

  TEST_CASE("a full queue blocks the source; acknowledging lets it finish" ) {
    TempDir state, spool;
    write_spool_file(spool.path, "a.ndjson", 1, 30000);
    auto options = queue_options(state.path);
    options.max_bytes = 256 << 10;  // about 4000 compressed records
    auto store = io::QueueStore::open(options);
    QueueSink sink(*store);
    drivers::DriverContext context{sink, {}};
    drivers::spool::SpoolDriver driver("spool", kStream, spool_settings(spool.path), context);
    driver.start();
    REQUIRE(eventually([&] { return driver.status().state == "blocked"; }));
    CHECK(fs::exists(spool.path + "/a.ndjson"));
    // Drain like the uplink would: read, "send", acknowledge — until the file is done.
    std::vector<std::uint64_t> ids;
    std::uint64_t after = 0;
    REQUIRE(eventually([&] {
      auto batch = wait_result<Expected<io::StoredBatch>>([&](auto done) { store->read_batch(kStream, after, 2000, 4 << 20, done); });
      REQUIRE(batch.ok());
      if (batch->count > 0) {
        std::string_view body = batch->body;
        while (!body.empty()) {
          auto nl = body.find('\n');
          ids.push_back(std::stoull(json::parse(body.substr(0, nl))->find("data")->get_string("id")));
          body.remove_prefix(nl + 1);
        }
        after = batch->first_seq + batch->count - 1;
        auto acked = wait_result<Expected<void>>([&](auto done) { store->acknowledge(kStream, after, done); });
        REQUIRE(acked.ok());
      }
      return driver.status().files == 1 && ids.size() == 30000;
    }, 120s));
    driver.stop();
    // Every record exactly once. (Order: see the known limit in spool_driver.hpp — at the onset
    // of back-pressure one batch may be queued after the next.)
    std::vector<std::uint64_t> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    for (std::uint64_t i = 0; i < sorted.size(); ++i) REQUIRE(sorted[i] == i + 1);
    std::size_t out_of_order = 0;
    for (std::uint64_t i = 0; i < ids.size(); ++i) out_of_order += ids[i] != i + 1;
    MESSAGE("records queued out of file order: " << out_of_order);
    CHECK(out_of_order <= 4 * 1000);  // at most one window, once
    store->close();
  }

  // Run explicitly: test_drivers -tc="*throughput*" --no-skip
  TEST_CASE("throughput: 1,000,000 records from spool files into the queue" * doctest::skip()) {
    TempDir state, spool;
    const std::uint64_t total = 1000000, per_file = 100000;
    std::uint64_t bytes = 0;
    for (std::uint64_t f = 0; f < total / per_file; ++f) {
      char name[32];
      std::snprintf(name, sizeof name, "part-%02llu.ndjson", static_cast<unsigned long long>(f));
      write_spool_file(spool.path, name, 1 + f * per_file, per_file);
      bytes += fs::file_size(spool.path + "/" + name);
    }
    auto store = io::QueueStore::open(queue_options(state.path));
    QueueSink sink(*store);
    drivers::DriverContext context{sink, {}};
    drivers::spool::SpoolDriver driver("spool", kStream, spool_settings(spool.path), context);
    const auto start = std::chrono::steady_clock::now();
    driver.start();
    REQUIRE(eventually([&] { return driver.status().files == total / per_file; }, 600s));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    driver.stop();
    struct rusage usage;
    ::getrusage(RUSAGE_SELF, &usage);
    std::printf("spool_intake_records_per_s: %.0f\n", static_cast<double>(total) / seconds);
    std::printf("spool_intake_mib_per_s: %.1f\n", static_cast<double>(bytes) / seconds / (1 << 20));
    std::printf("spool_intake_bytes_per_record: %.0f\n", static_cast<double>(bytes) / static_cast<double>(total));
    std::printf("test_peak_rss_mib: %.1f\n", static_cast<double>(usage.ru_maxrss) / 1024.0);
    CHECK(driver.status().records == total);
    store->close();
  }
}
