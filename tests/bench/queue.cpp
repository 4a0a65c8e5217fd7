// bench_queue — the durable queue's figures (issue #2), run by scripts/bench.d/queue:
//
//   bench_queue --records FILE.ndjson --dir DIR [--durability full|normal] [--in-flight N]
//
// Enqueues every line of FILE as a record (submits of 1000 records, N in flight, as the spool
// driver does), then drains the stream (read a batch of up to 4 MiB, acknowledge it, repeat until
// empty), in a fresh queue under DIR. Prints:
//   enqueue_records_per_s, drain_records_per_s,
//   disk_bytes_per_record_ratio = bytes written to disk during enqueue + drain (and the final
//   checkpoint at close) ÷ the input's NDJSON bytes.
// Disk bytes come from /proc/self/io write_bytes (what this process made the kernel write to
// the block device, all threads); where that reads 0 (a filesystem without block accounting) the
// bytes SQLite wrote to its files are used instead (counted by a VFS shim) and a comment says so.
#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "core/base/time.hpp"
#include "io/queue/queue_store.hpp"
#include "io/sqlite/write_counter.hpp"

namespace {

using SteadyClock = std::chrono::steady_clock;

std::uint64_t proc_write_bytes() {
  std::ifstream io("/proc/self/io");
  std::string key;
  std::uint64_t value = 0;
  while (io >> key >> value)
    if (key == "write_bytes:") return value;
  return 0;
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "bench_queue: %s\n", message.c_str());
  std::exit(1);
}

// The record envelope tail the intake builds for a data line: key = the record's serial.
std::string tail_for(const std::string& line, const std::string& at) {
  std::string key;
  const auto p = line.find("\"serial\":\"");
  if (p != std::string::npos) {
    const auto b = p + 10;
    key = line.substr(b, line.find('"', b) - b);
  }
  std::string tail;
  tail.reserve(line.size() + 80);
  tail += "\"op\":\"upsert\",\"key\":\"";
  tail += key;
  tail += "\",\"at\":\"";
  tail += at;
  tail += "\",\"data\":";
  tail += line;
  tail += '}';
  return tail;
}

}  // namespace

int main(int argc, char** argv) {
  std::string records_path, dir;
  xnode::io::Durability durability = xnode::io::Durability::full;
  int in_flight = 4;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--records") records_path = value();
    else if (a == "--dir") dir = value();
    else if (a == "--in-flight") in_flight = std::max(1, std::atoi(value().c_str()));
    else if (a == "--durability") {
      const std::string d = value();
      if (d == "full") durability = xnode::io::Durability::full;
      else if (d == "normal") durability = xnode::io::Durability::normal;
      else die("--durability is full or normal");
    } else die("unknown argument " + a);
  }
  if (records_path.empty() || dir.empty()) die("usage: bench_queue --records FILE.ndjson --dir DIR");
  const bool counting = xnode::io::sqlite::install_write_counter();

  // Build the submits first: the figure is the store's, not the file reader's.
  const std::string stream = "101003/11540100MB00000008-00001";
  const std::string at = "2026-03-23T08:00:00.000+08:00";
  std::vector<xnode::io::IntakeBatch> batches;
  std::uint64_t ndjson_bytes = 0, records = 0;
  {
    std::ifstream in(records_path);
    if (!in) die("cannot read " + records_path);
    std::string line;
    xnode::io::IntakeBatch batch;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      ndjson_bytes += line.size() + 1;
      ++records;
      batch.records.push_back({stream, tail_for(line, at)});
      if (batch.records.size() == 1000) batches.push_back(std::move(batch)), batch = {};
    }
    if (!batch.records.empty()) batches.push_back(std::move(batch));
  }
  if (records == 0) die(records_path + " holds no records");

  xnode::io::QueueOptions options;
  options.path = dir + "/bench-queue.db";
  options.durability = durability;
  options.max_bytes = 4ull << 30;
  options.chunk_records = 1000;

  const std::uint64_t write_before = proc_write_bytes();
  const std::uint64_t sqlite_before = xnode::io::sqlite::bytes_written();
  auto store = xnode::io::QueueStore::open(options);

  // --- enqueue: N submits in flight --------------------------------------------------------------
  std::mutex mutex;
  std::condition_variable cv;
  int outstanding = 0;
  std::uint64_t failures = 0;
  std::string first_error;
  const auto enqueue_start = SteadyClock::now();
  for (auto& b : batches) {
    {
      std::unique_lock lk(mutex);
      cv.wait(lk, [&] { return outstanding < in_flight; });
      ++outstanding;
    }
    store->submit(std::move(b), [&](xnode::io::SubmitResult r) {
      std::lock_guard lk(mutex);
      if (r.status != xnode::io::SubmitStatus::ok) {
        ++failures;
        if (first_error.empty()) first_error = r.error.empty() ? "queue full" : r.error;
      }
      --outstanding;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lk(mutex);
    cv.wait(lk, [&] { return outstanding == 0; });
  }
  const double enqueue_s = std::chrono::duration<double>(SteadyClock::now() - enqueue_start).count();
  batches.clear();
  batches.shrink_to_fit();
  if (failures) die(std::to_string(failures) + " submits failed: " + first_error);

  std::uint64_t transactions = 0, stored_bytes = 0, file_bytes_full = 0;
  {
    std::promise<xnode::io::QueueStats> p;
    auto f = p.get_future();
    store->stats([&](xnode::io::QueueStats s) { p.set_value(std::move(s)); });
    auto s = f.get();
    transactions = s.transactions;
    file_bytes_full = s.file_bytes;
    for (const auto& st : s.streams) stored_bytes += st.stored_bytes;
  }

  // --- drain: read up to 4 MiB, acknowledge, until empty ----------------------------------------
  const auto drain_start = SteadyClock::now();
  std::uint64_t acked = 0, drained = 0;
  for (;;) {
    std::promise<xnode::Expected<xnode::io::StoredBatch>> p;
    auto f = p.get_future();
    store->read_batch(stream, acked, 20000, 4u << 20, [&](xnode::Expected<xnode::io::StoredBatch> b) { p.set_value(std::move(b)); });
    auto batch = f.get();
    if (!batch) die("read_batch: " + batch.error().message);
    if (batch->count == 0) break;
    if (batch->first_seq != acked + 1) die("read_batch skipped from " + std::to_string(acked) + " to " + std::to_string(batch->first_seq));
    const std::uint64_t last = batch->first_seq + batch->count - 1;
    std::promise<xnode::Expected<void>> pa;
    auto fa = pa.get_future();
    store->acknowledge(stream, last, [&](xnode::Expected<void> r) { pa.set_value(std::move(r)); });
    auto r = fa.get();
    if (!r) die("acknowledge: " + r.error().message);
    drained += batch->count;
    acked = last;
  }
  const double drain_s = std::chrono::duration<double>(SteadyClock::now() - drain_start).count();
  store->close();
  store.reset();
  const std::uint64_t written = proc_write_bytes() - write_before;
  const std::uint64_t sqlite_written = xnode::io::sqlite::bytes_written() - sqlite_before;
  if (drained != records) die("drained " + std::to_string(drained) + " of " + std::to_string(records) + " records");

  std::printf("# %llu records, %llu NDJSON bytes (%.1f a record), durability %s, %d submits of 1000 in flight\n",
              static_cast<unsigned long long>(records), static_cast<unsigned long long>(ndjson_bytes),
              static_cast<double>(ndjson_bytes) / static_cast<double>(records),
              durability == xnode::io::Durability::full ? "full" : "normal", in_flight);
  std::printf("# enqueue %.2f s in %llu transactions; stored %llu compressed bytes (%.2fx smaller than the NDJSON); "
              "file %llu bytes; drain %.2f s\n",
              enqueue_s, static_cast<unsigned long long>(transactions), static_cast<unsigned long long>(stored_bytes),
              static_cast<double>(ndjson_bytes) / static_cast<double>(std::max<std::uint64_t>(stored_bytes, 1)),
              static_cast<unsigned long long>(file_bytes_full), drain_s);
  double ratio = 0;
  if (written > 0) {
    std::printf("# disk bytes: /proc/self/io write_bytes = %llu (SQLite itself wrote %llu)\n",
                static_cast<unsigned long long>(written), static_cast<unsigned long long>(sqlite_written));
    ratio = static_cast<double>(written) / static_cast<double>(ndjson_bytes);
  } else if (counting) {
    std::printf("# disk bytes: /proc/self/io write_bytes reads 0 here; using the bytes SQLite wrote to its files "
                "= %llu (no filesystem overhead counted)\n", static_cast<unsigned long long>(sqlite_written));
    ratio = static_cast<double>(sqlite_written) / static_cast<double>(ndjson_bytes);
  } else {
    std::printf("# disk bytes: neither /proc/self/io nor the SQLite write counter is available; using the queue "
                "file size at its fullest (a lower bound)\n");
    ratio = static_cast<double>(file_bytes_full) / static_cast<double>(ndjson_bytes);
  }
  std::printf("enqueue_records_per_s: %.0f\n", static_cast<double>(records) / enqueue_s);
  std::printf("drain_records_per_s: %.0f\n", static_cast<double>(drained) / drain_s);
  std::printf("disk_bytes_per_record_ratio: %.3f\n", ratio);
  return 0;
}
