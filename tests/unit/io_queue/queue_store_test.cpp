#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "io/queue/queue_store.hpp"
#include "io/sqlite/database.hpp"
#include "queue_test_support.hpp"

using namespace xnode;
using namespace xnode::test;

namespace {

const std::string kStream = "101003/11540100MB00000008-00001";
const std::string kOther = "101003/11540100MB00000008-00002";

io::QueueOptions options_for(const TempDir& dir, std::size_t chunk_records = 1000) {
  io::QueueOptions o;
  o.path = dir.file("queue.db");
  o.chunk_records = chunk_records;
  o.linger = std::chrono::milliseconds(0);
  return o;
}

std::string expected_line(std::uint64_t seq, int n) {
  return "{\"seq\":" + std::to_string(seq) + "," + tail_for("k" + std::to_string(n), n) + "\n";
}

std::int64_t count_rows(const std::string& path, const std::string& sql) {
  auto db = io::sqlite::Database::open(path, io::sqlite::OpenMode::read_only);
  REQUIRE(db.ok());
  auto n = db->query_int(sql);
  REQUIRE(n.ok());
  return *n;
}

}  // namespace

TEST_SUITE("io::QueueStore") {
  TEST_CASE("records come back in order, with consecutive seq, as NDJSON wire lines") {
    TempDir dir;
    auto q = io::QueueStore::open(options_for(dir));
    auto r = submit(*q, records(kStream, 1, 2500));
    REQUIRE(r.status == io::SubmitStatus::ok);
    REQUIRE(r.first_seq.size() == 2500);
    for (std::size_t i = 0; i < r.first_seq.size(); ++i) CHECK(r.first_seq[i] == i + 1);

    auto b = read_batch(*q, kStream, 0);
    REQUIRE(b.ok());
    CHECK(b->stream == kStream);
    CHECK(b->first_seq == 1);
    CHECK(b->count == 2500);
    std::string expected;
    for (int i = 1; i <= 2500; ++i) expected += expected_line(static_cast<std::uint64_t>(i), i);
    CHECK(b->body == expected);

    auto s = stats(*q);
    const auto* st = find_stream(s, kStream);
    REQUIRE(st);
    CHECK(st->pending == 2500);
    CHECK(st->bytes == expected.size());
    CHECK(st->stored_bytes > 0);
    CHECK(st->stored_bytes < st->bytes / 3);  // compressed
    CHECK(st->last_seq == 2500);
    CHECK(st->oldest.has_value());
    // 2500 records in chunks of 1000: three rows.
    q->close();
    CHECK(count_rows(dir.file("queue.db"), "SELECT count(*) FROM chunks") == 3);
  }

  TEST_CASE("read_batch crosses chunk boundaries and honours its limits") {
    TempDir dir;
    auto q = io::QueueStore::open(options_for(dir, 10));
    REQUIRE(submit(*q, records(kStream, 1, 12)).status == io::SubmitStatus::ok);
    REQUIRE(submit(*q, records(kStream, 13, 23)).status == io::SubmitStatus::ok);

    auto b = read_batch(*q, kStream, 7, 15);
    REQUIRE(b.ok());
    CHECK(b->first_seq == 8);
    CHECK(b->count == 15);
    std::string expected;
    for (int i = 8; i <= 22; ++i) expected += expected_line(static_cast<std::uint64_t>(i), i);
    CHECK(b->body == expected);

    // max_bytes: as many whole lines as fit, but never fewer than one.
    const std::size_t two_lines = expected_line(8, 8).size() + expected_line(9, 9).size();
    b = read_batch(*q, kStream, 7, 100, two_lines + 5);
    REQUIRE(b.ok());
    CHECK(b->count == 2);
    CHECK(b->body.size() == two_lines);
    b = read_batch(*q, kStream, 7, 100, 1);
    REQUIRE(b.ok());
    CHECK(b->count == 1);
    CHECK(b->body == expected_line(8, 8));

    b = read_batch(*q, kStream, 30, 100);
    REQUIRE(b.ok());
    CHECK(b->first_seq == 31);
    CHECK(b->count == 5);
    b = read_batch(*q, kStream, 35, 100);
    REQUIRE(b.ok());
    CHECK(b->count == 0);
    b = read_batch(*q, "no-such-stream", 0, 100);
    REQUIRE(b.ok());
    CHECK(b->count == 0);
  }

  TEST_CASE("seq numbers are never reused across restart and a complete drain") {
    TempDir dir;
    {
      auto q = io::QueueStore::open(options_for(dir));
      REQUIRE(submit(*q, records(kStream, 1, 5)).status == io::SubmitStatus::ok);
      REQUIRE(acknowledge(*q, kStream, 5).ok());
      auto s = stats(*q);
      CHECK(find_stream(s, kStream)->pending == 0);
    }
    auto q = io::QueueStore::open(options_for(dir));
    auto r = submit(*q, records(kStream, 6, 3));
    REQUIRE(r.status == io::SubmitStatus::ok);
    CHECK(r.first_seq == std::vector<std::uint64_t>{6, 7, 8});
    auto s = stats(*q);
    const auto* st = find_stream(s, kStream);
    REQUIRE(st);
    CHECK(st->last_seq == 8);
    CHECK(st->acked_through == 5);
    CHECK(st->pending == 3);
    auto b = read_batch(*q, kStream, 0);
    REQUIRE(b.ok());
    CHECK(b->first_seq == 6);
    CHECK(b->count == 3);
  }

  TEST_CASE("acknowledge deletes whole chunks and keeps partly acknowledged ones") {
    TempDir dir;
    auto q = io::QueueStore::open(options_for(dir, 10));
    REQUIRE(submit(*q, records(kStream, 1, 25)).status == io::SubmitStatus::ok);
    REQUIRE(acknowledge(*q, kStream, 15).ok());
    auto s = stats(*q);
    CHECK(find_stream(s, kStream)->pending == 10);
    CHECK(find_stream(s, kStream)->acked_through == 15);
    auto b = read_batch(*q, kStream, 15);
    REQUIRE(b.ok());
    CHECK(b->first_seq == 16);
    CHECK(b->count == 10);
    // Older acknowledgements are harmless; one past the last seq is a defect.
    CHECK(acknowledge(*q, kStream, 3).ok());
    auto bad = acknowledge(*q, kStream, 26);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("beyond its last seq 25") != std::string::npos);
    CHECK_FALSE(acknowledge(*q, "unknown", 1).ok());
    q->close();
    CHECK(count_rows(dir.file("queue.db"), "SELECT count(*) FROM chunks") == 2);
  }

  TEST_CASE("reconcile raises acked_through and the next seq") {
    TempDir dir;
    auto q = io::QueueStore::open(options_for(dir));
    auto st = reconcile(*q, kStream, 0);
    REQUIRE(st.ok());
    CHECK(st->last_seq == 0);
    REQUIRE(submit(*q, records(kStream, 1, 3)).status == io::SubmitStatus::ok);
    st = reconcile(*q, kStream, 2);  // the platform had stored 1-2 (our ack was lost)
    REQUIRE(st.ok());
    CHECK(st->acked_through == 2);
    CHECK(st->pending == 1);
    st = reconcile(*q, kStream, 50);  // the platform is ahead of this node (lost local state)
    REQUIRE(st.ok());
    CHECK(st->acked_through == 50);
    CHECK(st->pending == 0);
    CHECK(st->last_seq == 50);
    auto r = submit(*q, records(kStream, 4, 2));
    REQUIRE(r.status == io::SubmitStatus::ok);
    CHECK(r.first_seq == std::vector<std::uint64_t>{51, 52});
    // A lower platform mark never lowers ours.
    st = reconcile(*q, kStream, 10);
    REQUIRE(st.ok());
    CHECK(st->acked_through == 50);
    CHECK(st->pending == 2);
  }

  TEST_CASE("records taken in before the first hello are renumbered after the platform's mark") {
    TempDir dir;
    auto q = io::QueueStore::open(options_for(dir, 2));
    REQUIRE(submit(*q, records(kStream, 1, 3)).status == io::SubmitStatus::ok);  // seq 1-3, never sent
    auto st = reconcile(*q, kStream, 40);
    REQUIRE(st.ok());
    CHECK(st->acked_through == 40);
    CHECK(st->pending == 3);
    CHECK(st->last_seq == 43);
    auto b = read_batch(*q, kStream, 40);
    REQUIRE(b.ok());
    CHECK(b->first_seq == 41);
    CHECK(b->body == expected_line(41, 1) + expected_line(42, 2) + expected_line(43, 3));
    auto r = submit(*q, records(kStream, 4, 1));
    REQUIRE(r.status == io::SubmitStatus::ok);
    CHECK(r.first_seq == std::vector<std::uint64_t>{44});
    // Once reconciled, a later (re)hello does not renumber again.
    st = reconcile(*q, kStream, 42);
    REQUIRE(st.ok());
    CHECK(st->acked_through == 42);
    CHECK(st->pending == 2);
  }

  TEST_CASE("on_full=block refuses a submit whole, and accepts again once drained") {
    TempDir dir;
    auto o = options_for(dir, 100);
    o.max_bytes = 4000;
    o.on_full = io::OnFull::block;
    auto q = io::QueueStore::open(o);
    std::uint64_t accepted = 0;
    io::SubmitResult r;
    for (int i = 0; i < 200; ++i) {
      auto b = records(kStream, static_cast<int>(accepted) + 1, 50);
      b.marks.push_back({"spool", "file", "f" + std::to_string(i)});
      b.quarantine.push_back({"spool", kStream, "f:1", "bad line", "{", TimePoint{}});
      r = submit(*q, std::move(b));
      if (r.status != io::SubmitStatus::ok) break;
      accepted += 50;
    }
    REQUIRE(r.status == io::SubmitStatus::queue_full);
    CHECK(r.first_seq.empty());
    CHECK(accepted > 0);
    auto s = stats(*q);
    const auto* st = find_stream(s, kStream);
    REQUIRE(st);
    CHECK(st->last_seq == accepted);  // nothing of the refused submit got a seq
    CHECK(st->evicted == 0);
    CHECK(s.quarantine_records == accepted / 50);
    auto m = marks(*q, "spool");
    REQUIRE(m.size() == 1);
    CHECK(m[0].value == "f" + std::to_string(accepted / 50 - 1));  // the refused submit's mark is not stored
    CHECK(gaps(*q).empty());

    REQUIRE(acknowledge(*q, kStream, accepted).ok());
    r = submit(*q, records(kStream, 1, 50));
    CHECK(r.status == io::SubmitStatus::ok);
    CHECK(r.first_seq.front() == accepted + 1);
  }

  TEST_CASE("on_full=drop_oldest evicts the oldest chunks and records the gaps") {
    TempDir dir;
    auto o = options_for(dir, 10);
    o.max_bytes = 3000;
    o.on_full = io::OnFull::drop_oldest;
    auto q = io::QueueStore::open(o);
    REQUIRE(submit(*q, records(kOther, 1, 10)).status == io::SubmitStatus::ok);  // the oldest chunk overall
    for (int i = 0; i < 30; ++i) REQUIRE(submit(*q, records(kStream, i * 10 + 1, 10)).status == io::SubmitStatus::ok);

    auto s = stats(*q);
    const auto* st = find_stream(s, kStream);
    const auto* other = find_stream(s, kOther);
    REQUIRE(st);
    REQUIRE(other);
    CHECK(other->pending == 0);
    CHECK(other->evicted == 10);
    CHECK(st->evicted > 0);
    CHECK(st->evicted % 10 == 0);
    CHECK(st->pending + st->evicted == 300);
    std::uint64_t stored = 0;
    for (const auto& x : s.streams) stored += x.stored_bytes;
    CHECK(stored <= 3000);

    auto g = gaps(*q);
    REQUIRE(g.size() == 2);  // adjacent evictions of a stream merge into one range
    CHECK(g[0].stream == kStream);
    CHECK(g[0].from_seq == 1);
    CHECK(g[0].to_seq == st->evicted);
    CHECK(g[0].reason == "evicted: queue full (drop_oldest)");
    CHECK(g[1].stream == kOther);
    CHECK(g[1].from_seq == 1);
    CHECK(g[1].to_seq == 10);

    // Reading from the start jumps to the first stored record: the caller sees the gap.
    auto b = read_batch(*q, kStream, 0, 5);
    REQUIRE(b.ok());
    CHECK(b->first_seq == st->evicted + 1);

    // Once the platform accepted the declaration, the gap is gone and acked_through covers it.
    REQUIRE(mark_gap_declared(*q, g[0]).ok());
    CHECK_FALSE(mark_gap_declared(*q, g[0]).ok());
    g = gaps(*q);
    REQUIRE(g.size() == 1);
    CHECK(g[0].stream == kOther);
    s = stats(*q);
    CHECK(find_stream(s, kStream)->acked_through == find_stream(s, kStream)->evicted);
  }

  TEST_CASE("marks and quarantine entries are stored with the records, and survive a restart") {
    TempDir dir;
    {
      auto q = io::QueueStore::open(options_for(dir));
      auto b = records(kStream, 1, 3);
      b.quarantine.push_back({"spool", kStream, "orders.ndjson:2", "not JSON", "{\"x\":\xff", TimePoint{}});
      b.marks.push_back({"spool", "orders.ndjson", "consumed"});
      b.marks.push_back({"spool", "cursor", "42"});
      REQUIRE(submit(*q, std::move(b)).status == io::SubmitStatus::ok);

      // A submit refused by validation stores none of its parts.
      auto bad = records(kStream, 4, 2);
      bad.records[1].tail = "\"op\":\"upsert\"\n}";
      bad.marks.push_back({"spool", "bad.ndjson", "consumed"});
      bad.quarantine.push_back({"spool", kStream, "bad.ndjson:1", "x", "y", TimePoint{}});
      auto r = submit(*q, std::move(bad));
      CHECK(r.status == io::SubmitStatus::failed);
      CHECK(r.error.find("newline") != std::string::npos);
    }
    auto q = io::QueueStore::open(options_for(dir));
    auto m = marks(*q, "spool");
    REQUIRE(m.size() == 2);
    CHECK(m[0].key == "cursor");
    CHECK(m[0].value == "42");
    CHECK(m[1].key == "orders.ndjson");
    auto s = stats(*q);
    CHECK(s.quarantine_records == 1);
    CHECK(find_stream(s, kStream)->last_seq == 3);
    // An empty value deletes a mark, in the same transaction as the records.
    auto b = records(kStream, 4, 1);
    b.marks.push_back({"spool", "cursor", ""});
    REQUIRE(submit(*q, std::move(b)).status == io::SubmitStatus::ok);
    m = marks(*q, "spool");
    REQUIRE(m.size() == 1);
    CHECK(m[0].key == "orders.ndjson");
    q->close();
    CHECK(count_rows(dir.file("queue.db"), "SELECT count(*) FROM quarantine WHERE origin = 'orders.ndjson:2' AND "
                                           "content = CAST(X'7B2278223AFF' AS BLOB)") == 1);
  }

  TEST_CASE("group commit: many concurrent submits share few transactions") {
    TempDir dir;
    auto o = options_for(dir, 1000);
    o.linger = std::chrono::milliseconds(20);
    auto q = io::QueueStore::open(o);
    constexpr int kThreads = 4, kPerThread = 50, kRecords = 10;
    std::mutex mutex;
    std::set<std::uint64_t> seqs;
    std::atomic<int> ok{0}, done{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          q->submit(records(kStream, (t * kPerThread + i) * kRecords, kRecords), [&](io::SubmitResult r) {
            if (r.status == io::SubmitStatus::ok) {
              ++ok;
              std::lock_guard lk(mutex);
              seqs.insert(r.first_seq.begin(), r.first_seq.end());
            }
            ++done;
          });
        }
      });
    }
    for (auto& th : threads) th.join();
    q->close();  // waits for everything submitted
    CHECK(done == kThreads * kPerThread);
    CHECK(ok == kThreads * kPerThread);
    REQUIRE(seqs.size() == kThreads * kPerThread * kRecords);
    CHECK(*seqs.begin() == 1);
    CHECK(*seqs.rbegin() == kThreads * kPerThread * kRecords);
    auto q2 = io::QueueStore::open(o);
    auto s = stats(*q2);
    CHECK(find_stream(s, kStream)->pending == kThreads * kPerThread * kRecords);
    // Few rows too: submits of one transaction share chunks.
    q2->close();
    CHECK(count_rows(o.path, "SELECT count(*) FROM chunks") < 20);
  }

  TEST_CASE("group commit counts transactions") {
    TempDir dir;
    auto o = options_for(dir, 1000);
    o.linger = std::chrono::milliseconds(200);
    auto q = io::QueueStore::open(o);
    std::atomic<int> done{0};
    for (int i = 0; i < 100; ++i) q->submit(records(kStream, i, 1), [&](io::SubmitResult r) {
      CHECK(r.status == io::SubmitStatus::ok);
      ++done;
    });
    auto s = stats(*q);  // queued behind the submits
    CHECK(done == 100);
    CHECK(s.transactions >= 1);
    CHECK(s.transactions <= 3);
  }

  TEST_CASE("group commit: a lone submitter that waits for each answer is not held for the linger") {
    TempDir dir;
    auto o = options_for(dir, 1000);
    o.linger = std::chrono::milliseconds(2000);  // the upper bound only
    auto q = io::QueueStore::open(o);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 1; i <= 5; ++i) REQUIRE(submit(*q, records(kStream, i, 10)).status == io::SubmitStatus::ok);
    // Five commits one after the other: with the whole linger each, at least 10 s (the bound is
    // far from both, so that a slow disk or an emulator does not decide it).
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(5000));
    CHECK(stats(*q).transactions == 5);
  }

  TEST_CASE("group commit: submits posted together share a commit without a linger") {
    TempDir dir;
    auto o = options_for(dir, 1000);
    o.linger = std::chrono::milliseconds(5);
    auto q = io::QueueStore::open(o);
    constexpr int kThreads = 4, kPerThread = 25;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i)
          q->submit(records(kStream, (t * kPerThread + i) * 10, 10), [&](io::SubmitResult r) {
            if (r.status == io::SubmitStatus::ok) ++ok;
          });
      });
    }
    for (auto& th : threads) th.join();
    auto s = stats(*q);  // queued behind the submits
    CHECK(ok == kThreads * kPerThread);
    // The submits that arrive while one commit is written form the next: far fewer commits than submits.
    CHECK(s.transactions * 4 <= kThreads * kPerThread);
    CHECK(find_stream(s, kStream)->pending == kThreads * kPerThread * 10);
  }

  TEST_CASE("group commit: clients that each wait for their answer are gathered in shared commits") {
    TempDir dir;
    auto o = options_for(dir, 1000);
    o.linger = std::chrono::milliseconds(1000);
    auto q = io::QueueStore::open(o);
    constexpr int kClients = 4, kRounds = 10;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    const auto start = std::chrono::steady_clock::now();
    for (int c = 0; c < kClients; ++c) {
      threads.emplace_back([&, c] {
        for (int i = 0; i < kRounds; ++i)
          if (submit(*q, records(kStream, (c * kRounds + i) * 10, 10)).status == io::SubmitStatus::ok) ++ok;
      });
    }
    for (auto& th : threads) th.join();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(ok == kClients * kRounds);
    auto s = stats(*q);
    CHECK(find_stream(s, kStream)->pending == kClients * kRounds * 10);
    // Company without the whole linger: 10 rounds × 1 s would be 10 s at the least.
    CHECK(elapsed < std::chrono::milliseconds(5000));
    CHECK(s.transactions < kClients * kRounds);
  }

  TEST_CASE("small submits are appended to the stream's newest chunk while it is small") {
    TempDir dir;
    auto q = io::QueueStore::open(options_for(dir, 1000));
    for (int i = 1; i <= 40; ++i) REQUIRE(submit(*q, records(kStream, i, 1)).status == io::SubmitStatus::ok);
    auto b = read_batch(*q, kStream, 0);
    REQUIRE(b.ok());
    CHECK(b->count == 40);
    std::string expected;
    for (int i = 1; i <= 40; ++i) expected += expected_line(static_cast<std::uint64_t>(i), i);
    CHECK(b->body == expected);
    q->close();
    CHECK(count_rows(dir.file("queue.db"), "SELECT count(*) FROM chunks") <= 2);
  }

  TEST_CASE("a second open of the same queue fails at once, naming the holder") {
    TempDir dir;
    auto q = io::QueueStore::open(options_for(dir));
    std::string message;
    try {
      auto q2 = io::QueueStore::open(options_for(dir));
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    CHECK(message.find("queue " + dir.file("queue.db") + " is in use by another xnoded (pid " +
                       std::to_string(getpid()) + ")") != std::string::npos);
    q->close();
    q.reset();
    CHECK_NOTHROW(io::QueueStore::open(options_for(dir)));
  }

  TEST_CASE("a damaged file is kept aside with a clear error; the next start begins afresh") {
    TempDir dir;
    const std::string path = dir.file("queue.db");
    {
      auto q = io::QueueStore::open(options_for(dir, 5));
      for (int i = 0; i < 20; ++i) REQUIRE(submit(*q, records(kStream, i * 100 + 1, 100)).status == io::SubmitStatus::ok);
    }
    const auto size = std::filesystem::file_size(path);
    REQUIRE(size > 64 * 1024);
    {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096));
      const std::string garbage(3 * 4096, '\xab');
      f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    std::string message;
    try {
      io::QueueStore::open(options_for(dir, 5));
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    INFO(message);
    CHECK(message.find("queue " + path + " is damaged") != std::string::npos);
    CHECK(message.find("kept as " + path + ".damaged-") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(path));
    int aside = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))
      if (e.path().filename().string().starts_with("queue.db.damaged-")) ++aside;
    CHECK(aside >= 1);
    // Next start: a fresh, empty queue (no crash loop).
    auto q = io::QueueStore::open(options_for(dir, 5));
    CHECK(stats(*q).streams.empty());
  }

  TEST_CASE("refused input and a closed store fail clearly") {
    TempDir dir;
    auto q = io::QueueStore::open(options_for(dir));
    io::IntakeBatch b;
    b.records.push_back({"", tail_for("k", 1)});
    auto r = submit(*q, std::move(b));
    CHECK(r.status == io::SubmitStatus::failed);
    CHECK(r.error.find("no stream") != std::string::npos);
    q->close();
    q->close();  // idempotent
    r = submit(*q, records(kStream, 1, 1));
    CHECK(r.status == io::SubmitStatus::failed);
    CHECK(r.error.find("is closed") != std::string::npos);
    CHECK_FALSE(read_batch(*q, kStream, 0).ok());
  }

  TEST_CASE("durability normal and last_alive") {
    TempDir dir;
    auto o = options_for(dir);
    o.durability = io::Durability::normal;
    auto q = io::QueueStore::open(o);
    REQUIRE(submit(*q, records(kStream, 1, 10)).status == io::SubmitStatus::ok);
    CHECK(std::chrono::steady_clock::now() - q->last_alive() < std::chrono::seconds(5));
    CHECK(stats(*q).file_bytes > 0);
  }
}

TEST_SUITE("io::QueueStore") {
  TEST_CASE("a submit mixing streams keeps each stream's order, full chunks compressed ahead") {
    TempDir dir;
    auto q = io::QueueStore::open(options_for(dir, 10));
    io::IntakeBatch b;
    for (int i = 1; i <= 25; ++i) {
      b.records.push_back({kStream, tail_for("a" + std::to_string(i), i)});
      b.records.push_back({kOther, tail_for("b" + std::to_string(i), i)});
    }
    auto r = submit(*q, std::move(b));
    REQUIRE(r.status == io::SubmitStatus::ok);
    REQUIRE(r.first_seq.size() == 50);
    CHECK(r.first_seq[0] == 1);
    CHECK(r.first_seq[1] == 1);
    CHECK(r.first_seq[48] == 25);
    REQUIRE(submit(*q, records(kStream, 26, 3)).status == io::SubmitStatus::ok);  // appended to the 5-record tail
    for (const std::string& stream : {kStream, kOther}) {
      auto batch = read_batch(*q, stream, 0);
      REQUIRE(batch.ok());
      const std::string p = stream == kStream ? "a" : "b";
      std::string expected;
      for (int i = 1; i <= 25; ++i)
        expected += "{\"seq\":" + std::to_string(i) + "," + tail_for(p + std::to_string(i), i) + "\n";
      if (stream == kStream)
        for (int i = 26; i <= 28; ++i) expected += expected_line(static_cast<std::uint64_t>(i), i);
      CHECK(batch->body == expected);
    }
    q->close();
    CHECK(count_rows(dir.file("queue.db"), "SELECT count(*) FROM chunks") == 6);
    CHECK(count_rows(dir.file("queue.db"), "SELECT max(record_count) FROM chunks WHERE first_seq = 21") == 8);
  }

  TEST_CASE("submits of half a chunk or more become chunks of their own, shorter ones append") {
    // The spool driver submits 500 records with chunks of 1000: such runs are compressed ahead by
    // the compressor threads instead of by the store thread.
    TempDir dir;
    auto q = io::QueueStore::open(options_for(dir, 10));
    REQUIRE(submit(*q, records(kStream, 1, 6)).status == io::SubmitStatus::ok);
    REQUIRE(submit(*q, records(kStream, 7, 5)).status == io::SubmitStatus::ok);
    REQUIRE(submit(*q, records(kStream, 12, 2)).status == io::SubmitStatus::ok);  // appended to the 5-record tail
    auto batch = read_batch(*q, kStream, 0);
    REQUIRE(batch.ok());
    std::string expected;
    for (int i = 1; i <= 13; ++i) expected += expected_line(static_cast<std::uint64_t>(i), i);
    CHECK(batch->body == expected);
    q->close();
    CHECK(count_rows(dir.file("queue.db"), "SELECT count(*) FROM chunks") == 2);
    CHECK(count_rows(dir.file("queue.db"), "SELECT record_count FROM chunks WHERE first_seq = 1") == 6);
    CHECK(count_rows(dir.file("queue.db"), "SELECT record_count FROM chunks WHERE first_seq = 7") == 7);
  }
}
