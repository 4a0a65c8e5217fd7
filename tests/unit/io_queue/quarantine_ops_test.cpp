// Quarantine retry, purge and retention on a real queue file: a retried record is queued and its
// entry removed in one transaction, once only; purge and sweep delete what they select.
#include <doctest/doctest.h>

#include "io/queue/quarantine_ops.hpp"
#include "io/queue/queue_store.hpp"
#include "queue_test_support.hpp"

using namespace xnode;
using namespace xnode::test;

namespace {

const std::string kStream = "101003/11540100MB00000008-00001";

io::QueueOptions quarantine_options(const TempDir& dir) {
  io::QueueOptions o;
  o.path = dir.file("queue.db");
  o.linger = std::chrono::milliseconds(0);
  return o;
}

template <typename T>
T on_store(io::QueueStore& q, std::function<T(io::sqlite::Database&)> f) {
  std::promise<T> p;
  auto fut = p.get_future();
  q.quarantine_work([&](io::sqlite::Database* db) {
    REQUIRE(db != nullptr);
    p.set_value(f(*db));
  });
  return wait_for(fut);
}

std::vector<io::QuarantineRecord> all_entries(io::QueueStore& q) {
  return on_store<std::vector<io::QuarantineRecord>>(q, [](io::sqlite::Database& db) {
    io::quarantine_ops::Selection s;
    s.all = true;
    auto r = io::quarantine_ops::select(db, s, 0, 1000);
    REQUIRE(r);
    return *r;
  });
}

io::QuarantineEntry entry(std::string source, std::string content, TimePoint at) {
  return io::QuarantineEntry{std::move(source), kStream, "f.ndjson:1", "code: required", std::move(content), at};
}

}  // namespace

TEST_SUITE("io::quarantine_ops") {
  TEST_CASE("retry: the record is queued and its entry removed together, once only") {
    TempDir dir;
    auto q = io::QueueStore::open(quarantine_options(dir));
    io::IntakeBatch in;
    in.quarantine.push_back(entry("orders", R"({"a":1})", Clock::now()));
    REQUIRE(submit(*q, std::move(in)).status == io::SubmitStatus::ok);
    auto entries = all_entries(*q);
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].content == R"({"a":1})");

    io::IntakeBatch retry;
    retry.records.push_back({kStream, R"("op":"upsert","key":"k","at":"2026-01-01T00:00:00Z","data":{"a":1}})"});
    retry.quarantine_resolved.push_back(entries[0].id);
    io::IntakeBatch again = retry;
    auto r = submit(*q, std::move(retry));
    REQUIRE(r.status == io::SubmitStatus::ok);
    CHECK(r.first_seq == std::vector<std::uint64_t>{1});
    CHECK(all_entries(*q).empty());

    // The same retry a second time (two operators at once): refused, nothing queued twice.
    auto r2 = submit(*q, std::move(again));
    CHECK(r2.status == io::SubmitStatus::failed);
    CHECK(r2.error.find("gone") != std::string::npos);
    auto b = read_batch(*q, kStream, 0);
    REQUIRE(b);
    CHECK(b->count == 1);
  }

  TEST_CASE("a retry that still fails keeps the entry with the new reason") {
    TempDir dir;
    auto q = io::QueueStore::open(quarantine_options(dir));
    io::IntakeBatch in;
    in.quarantine.push_back(entry("orders", "x", Clock::now()));
    REQUIRE(submit(*q, std::move(in)).status == io::SubmitStatus::ok);
    const auto id = all_entries(*q).at(0).id;
    auto ok = on_store<bool>(*q, [&](io::sqlite::Database& db) {
      return io::quarantine_ops::set_reason(db, id, "name: longer than 10").ok();
    });
    CHECK(ok);
    auto entries = all_entries(*q);
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].id == id);
    CHECK(entries[0].reason == "name: longer than 10");
  }

  TEST_CASE("purge by id, by source, before a time; the retention sweep in bounded steps") {
    TempDir dir;
    auto q = io::QueueStore::open(quarantine_options(dir));
    const TimePoint now = Clock::now();
    io::IntakeBatch in;
    for (int i = 0; i < 5; ++i) in.quarantine.push_back(entry("old", "o" + std::to_string(i), now - std::chrono::hours(24 * 100)));
    for (int i = 0; i < 3; ++i) in.quarantine.push_back(entry("new", "n" + std::to_string(i), now));
    REQUIRE(submit(*q, std::move(in)).status == io::SubmitStatus::ok);
    REQUIRE(all_entries(*q).size() == 8);

    const auto first_new = all_entries(*q).at(5).id;
    auto one = on_store<std::int64_t>(*q, [&](io::sqlite::Database& db) {
      io::quarantine_ops::Selection s;
      s.id = first_new;
      return *io::quarantine_ops::purge(db, s, 100);
    });
    CHECK(one == 1);

    // Retention of 90 days, two at a time: 2 + 2 + 1, then nothing; the recent ones stay.
    std::vector<std::int64_t> steps;
    for (int i = 0; i < 4; ++i)
      steps.push_back(on_store<std::int64_t>(*q, [&](io::sqlite::Database& db) {
        return *io::quarantine_ops::sweep(db, now - std::chrono::hours(24 * 90), 2);
      }));
    CHECK(steps == std::vector<std::int64_t>{2, 2, 1, 0});
    auto left = all_entries(*q);
    REQUIRE(left.size() == 2);
    CHECK(left[0].source == "new");

    auto by_source = on_store<std::int64_t>(*q, [&](io::sqlite::Database& db) {
      io::quarantine_ops::Selection s;
      s.all = true;
      s.source = "other";
      return *io::quarantine_ops::purge(db, s, 100);
    });
    CHECK(by_source == 0);
    auto rest = on_store<std::int64_t>(*q, [&](io::sqlite::Database& db) {
      io::quarantine_ops::Selection s;
      s.all = true;
      return *io::quarantine_ops::purge(db, s, 100);
    });
    CHECK(rest == 2);
    CHECK(all_entries(*q).empty());
  }
}
