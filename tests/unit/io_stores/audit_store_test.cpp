#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/audit/actions.hpp"
#include "io/sqlite/database.hpp"
#include "io/stores/audit_reader.hpp"
#include "io/stores/audit_store.hpp"

using namespace xnode;
using namespace xnode::io;
using namespace std::chrono_literals;

namespace {

// A fresh directory under the build tree, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string templ = std::string(XNODE_BINARY_DIR) + "/tmp-io-stores-XXXXXX";
    std::filesystem::create_directories(XNODE_BINARY_DIR);
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const char* name) const { return (path / name).string(); }
};

const TimePoint t0 = from_unix_ms(1774224000000);  // 2026-03-23T00:00:00Z

audit::AuditEntry batch_acked(std::int64_t first, std::int64_t last) {
  json::Value detail = json::Value::object();
  detail.set("records", last - first + 1);
  return {std::string(audit::daemon_actor), std::string(audit::action::batch_acked),
          "101003/11540100MB00000008-00001:" + std::to_string(first) + "-" + std::to_string(last),
          std::string(audit::result::ok), detail};
}

std::unique_ptr<AuditStore> open_store(AuditStoreOptions o, AuditStore::StatusCallback cb = {}) {
  auto s = AuditStore::open(std::move(o), std::move(cb));
  if (!s) FAIL(s.error().message);
  return std::move(*s);
}

AuditStoreOptions options_for(const std::string& path) {
  AuditStoreOptions o;
  o.path = path;
  o.linger = 1ms;
  return o;
}

void append_n(AuditStore& store, int n, TimePoint start, std::chrono::milliseconds step = 1s) {
  for (int i = 0; i < n; ++i)
    REQUIRE(store.append(batch_acked(i * 100 + 1, i * 100 + 100), start + step * i) == AppendResult::queued);
}

// Waits (bounded) for a condition another thread makes true.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

// Tampering goes through a plain SQLite connection, as an intruder with file access would.
void tamper(const std::string& path, const std::string& sql) {
  auto db = sqlite::Database::open(path, sqlite::OpenMode::read_write);
  REQUIRE(db.ok());
  auto r = db->exec(sql);
  if (!r) FAIL(r.error().message);
}

}  // namespace

TEST_SUITE("io::AuditStore") {
  TEST_CASE("appends in batches, survives a restart and continues the chain") {
    TempDir dir;
    const std::string path = dir.file("audit.db");
    std::string head_hash;
    {
      auto store = open_store(options_for(path));
      append_n(*store, 500, t0);
      REQUIRE(store->flush(10s));
      auto st = store->status();
      CHECK(st.head_seq == 500);
      CHECK(st.durable_seq == 500);
      CHECK(st.pending == 0);
      auto events = store->events_after(498, 10);
      REQUIRE(events.ok());
      REQUIRE(events->size() == 2);
      CHECK((*events)[0].seq == 499);
      CHECK((*events)[1].object == "101003/11540100MB00000008-00001:49901-50000");
      head_hash = (*events)[1].hash;
    }
    auto store = open_store(options_for(path));
    CHECK(store->status().head_seq == 500);
    CHECK_FALSE(store->status().chain_broken);
    REQUIRE(store->append(batch_acked(1, 1), t0 + 1h) == AppendResult::queued);
    REQUIRE(store->flush(10s));
    auto next = store->events_after(500, 10);
    REQUIRE(next.ok());
    REQUIRE(next->size() == 1);
    CHECK((*next)[0].seq == 501);
    CHECK((*next)[0].prev == head_hash);
    auto report = store->verify_all();
    REQUIRE(report.ok());
    CHECK(report->ok());
    CHECK(report->checked == 501);
  }

  TEST_CASE("a second writer on the same file is refused clearly") {
    TempDir dir;
    auto store = open_store(options_for(dir.file("audit.db")));
    auto second = AuditStore::open(options_for(dir.file("audit.db")));
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().message.find("another xnoded uses this audit store") != std::string::npos);
  }

  TEST_CASE("retention below three years is refused") {
    TempDir dir;
    auto o = options_for(dir.file("audit.db"));
    o.retention_days = 365;
    auto s = AuditStore::open(o);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message.find("below the 1095 days") != std::string::npos);
  }

  TEST_CASE("the chain is intact after SIGKILL in the middle of writing") {
    TempDir dir;
    const std::string path = dir.file("audit.db");
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // The child: append for ever; tell the parent once 300 events are durable.
      ::close(ready[0]);
      auto s = AuditStore::open(options_for(path));
      if (!s) ::_exit(2);
      auto& store = **s;
      for (int i = 0; i < 300; ++i) store.append(batch_acked(i, i), t0 + std::chrono::seconds(i));
      if (!store.flush(10s)) ::_exit(3);
      char byte = 1;
      if (::write(ready[1], &byte, 1) != 1) ::_exit(4);
      // Bounded, so that a parent that failed early never leaves it writing for ever.
      const auto give_up = std::chrono::steady_clock::now() + 60s;
      for (std::int64_t i = 300; std::chrono::steady_clock::now() < give_up; ++i) {
        store.append(batch_acked(i, i), t0 + std::chrono::seconds(i));
        if (i % 512 == 0) std::this_thread::sleep_for(1ms);  // let the writer commit as it goes
      }
      ::_exit(5);
    }
    ::close(ready[1]);
    char byte = 0;
    const auto got = ::read(ready[0], &byte, 1);
    ::close(ready[0]);
    if (got == 1) std::this_thread::sleep_for(30ms);  // let it be in the middle of batches
    const int killed = ::kill(child, SIGKILL);
    REQUIRE(got == 1);
    REQUIRE(killed == 0);
    int wstatus = 0;
    REQUIRE(::waitpid(child, &wstatus, 0) == child);
    REQUIRE(WIFSIGNALED(wstatus));

    auto store = open_store(options_for(path));  // the lock died with the child
    auto st = store->status();
    CHECK(st.head_seq >= 300);
    CHECK_FALSE(st.chain_broken);
    REQUIRE(store->append(batch_acked(0, 0), t0 + 24h) == AppendResult::queued);
    REQUIRE(store->flush(10s));
    auto report = store->verify_all();
    REQUIRE(report.ok());
    CHECK(report->ok());
    CHECK(report->last_seq == st.head_seq + 1);
    MESSAGE("events durable at SIGKILL: " << st.head_seq);
  }

  TEST_CASE("tampering with the table is found and named") {
    TempDir dir;
    const std::string path = dir.file("audit.db");
    std::vector<audit::AuditEvent> events;
    {
      auto store = open_store(options_for(path));
      append_n(*store, 40, t0);
      REQUIRE(store->flush(10s));
      auto all = store->events_after(0, 100);
      REQUIRE(all.ok());
      events = *all;
    }
    SUBCASE("edit") {
      tamper(path, "UPDATE audit_event SET result = 'refused' WHERE seq = 17");
      auto reader = AuditReader::open(path);
      REQUIRE(reader.ok());
      auto report = (*reader)->verify_all();
      REQUIRE(report.ok());
      REQUIRE(report->problems.size() == 1);
      CHECK(report->problems[0].message == "event 17: hash mismatch (edited)");
    }
    SUBCASE("edit the detail into something unreadable") {
      tamper(path, "UPDATE audit_event SET detail = '{broken' WHERE seq = 5");
      auto report = (*AuditReader::open(path))->verify_all();
      REQUIRE(report.ok());
      REQUIRE(report->problems.size() == 1);
      CHECK(report->problems[0].message.find("event 5: unreadable (edited)") == 0);
    }
    SUBCASE("delete") {
      tamper(path, "DELETE FROM audit_event WHERE seq = 18");
      auto report = (*AuditReader::open(path))->verify_all();
      REQUIRE(report.ok());
      REQUIRE(report->problems.size() == 1);
      CHECK(report->problems[0].message == "event 18 missing (deleted): seq jumps from 17 to 19");
    }
    SUBCASE("reorder (contents swapped and re-hashed by a careful intruder)") {
      audit::AuditEvent a = events[19], b = events[20];  // seq 20 and 21
      std::swap(a.object, b.object);
      std::swap(a.detail, b.detail);
      std::swap(a.prev, b.prev);
      a.hash = audit::compute_hash(a);
      b.hash = audit::compute_hash(b);
      for (const auto& e : {a, b}) {
        tamper(path, "UPDATE audit_event SET object = '" + e.object + "', detail = '" + json::serialize(e.detail) +
                         "', prev = '" + e.prev + "', hash = '" + e.hash + "' WHERE seq = " + std::to_string(e.seq));
      }
      auto report = (*AuditReader::open(path))->verify_all();
      REQUIRE(report.ok());
      REQUIRE(report->problems.size() == 3);
      CHECK(report->problems[0].message == "event 20: prev does not match event 19 (reordered or edited)");
      CHECK(report->problems[1].message == "event 21: prev does not match event 20 (reordered or edited)");
    }
    SUBCASE("a tampered tail is flagged at open") {
      tamper(path, "UPDATE audit_event SET actor = 'someone' WHERE seq = 40");
      std::vector<AuditStoreStatus> seen;
      std::mutex m;
      auto store = open_store(options_for(path), [&](const AuditStoreStatus& s) {
        std::lock_guard lk(m);
        seen.push_back(s);
      });
      CHECK(store->status().chain_broken);
      CHECK(store->status().last_error.find("event 40: hash mismatch (edited)") != std::string::npos);
      CHECK(eventually([&] {
        std::lock_guard lk(m);
        return !seen.empty() && seen.back().chain_broken;
      }));
    }
  }

  TEST_CASE("shipping: events_after, mark_shipped persisted, never past what is stored") {
    TempDir dir;
    const std::string path = dir.file("audit.db");
    {
      auto store = open_store(options_for(path));
      append_n(*store, 50, t0);
      REQUIRE(store->flush(10s));
      auto refused = store->mark_shipped(51);
      REQUIRE_FALSE(refused.ok());
      CHECK(refused.error().message == "audit: cannot mark event 51 shipped: only events up to 50 are stored");
      REQUIRE(store->mark_shipped(30).ok());
      REQUIRE(store->mark_shipped(20).ok());  // an older ack does not move it back
      CHECK(store->shipped_through() == 30);
    }
    auto store = open_store(options_for(path));
    CHECK(store->shipped_through() == 30);
    auto next = store->events_after(store->shipped_through(), 5);
    REQUIRE(next.ok());
    REQUIRE(next->size() == 5);
    CHECK(next->front().seq == 31);
  }

  TEST_CASE("retention prunes only events past retention that were shipped") {
    TempDir dir;
    const std::string path = dir.file("audit.db");
    const TimePoint old_time = t0 - std::chrono::hours(24) * 1200;  // older than 3 years before t0
    auto store = open_store(options_for(path));
    append_n(*store, 100, old_time);   // seq 1-100: old
    append_n(*store, 20, t0 - 1h);     // seq 101-120: recent
    REQUIRE(store->flush(10s));

    // Nothing shipped: nothing pruned, however old.
    auto none = store->prune_wait(t0);
    REQUIRE(none.ok());
    CHECK(none->pruned == 0);

    // Shipped through 60: only 1-60 go (61-100 are old but not shipped).
    REQUIRE(store->mark_shipped(60).ok());
    REQUIRE(store->flush(10s));
    REQUIRE(eventually([&] { return store->status().shipped_through == 60; }));
    auto some = store->prune_wait(t0);
    REQUIRE(some.ok());
    CHECK(some->pruned == 60);
    CHECK(some->pruned_through == 60);

    // Shipped through 110: 61-100 go; 101-110 are shipped but recent, so they stay.
    REQUIRE(store->mark_shipped(110).ok());
    REQUIRE(eventually([&] { return store->status().shipped_through == 110; }));
    auto rest = store->prune_wait(t0);
    REQUIRE(rest.ok());
    CHECK(rest->pruned == 40);
    REQUIRE(store->flush(10s));

    auto summary = store->summary();
    REQUIRE(summary.ok());
    CHECK(summary->first_seq == 101);
    CHECK(summary->last_seq == 122);  // two audit.pruned events were appended
    REQUIRE(summary->pruned.has_value());
    CHECK(summary->pruned->seq == 100);
    auto pruned_events = store->events_after(120, 10);
    REQUIRE(pruned_events.ok());
    REQUIRE(pruned_events->size() == 2);
    CHECK(pruned_events->back().action == "audit.pruned");
    CHECK(pruned_events->back().detail.get_int("events") == 40);

    // The remaining chain verifies from the pruning anchor, also after a restart.
    auto report = store->verify_all();
    REQUIRE(report.ok());
    CHECK(report->ok());
    store.reset();
    store = open_store(options_for(path));
    CHECK(store->status().head_seq == 122);
    report = store->verify_all();
    REQUIRE(report.ok());
    CHECK(report->ok());
    // Deleting the first retained event is still found.
    store.reset();
    tamper(path, "DELETE FROM audit_event WHERE seq = 101");
    auto broken = (*AuditReader::open(path))->verify_all();
    REQUIRE(broken.ok());
    REQUIRE(broken->problems.size() == 1);
    CHECK(broken->problems[0].message == "event 101 missing (deleted): seq jumps from 100 to 102");
  }

  TEST_CASE("over quota: writes wait in memory, overflow is counted, alarmed and recorded later") {
    TempDir dir;
    const std::string path = dir.file("audit.db");
    auto o = options_for(path);
    o.max_bytes = 64 * 1024;
    o.near_quota_percent = 50;
    o.max_pending = 200;
    o.max_batch = 50;
    std::mutex m;
    std::vector<AuditStoreStatus> reports;
    auto store = open_store(o, [&](const AuditStoreStatus& s) {
      std::lock_guard lk(m);
      reports.push_back(s);
    });
    int queued = 0, dropped = 0;
    for (int i = 0; i < 3000; ++i) {
      auto r = store->append(batch_acked(i, i), t0 + std::chrono::seconds(i));
      if (r == AppendResult::queued) ++queued;
      if (r == AppendResult::dropped) ++dropped;
      if (i % 50 == 0) std::this_thread::sleep_for(1ms);  // let the writer reach the quota
    }
    REQUIRE(eventually([&] { return store->status().quota == QuotaState::over; }));
    CHECK(dropped > 0);
    CHECK(queued + dropped == 3000);
    auto st = store->status();
    CHECK(st.overflow_dropped == static_cast<std::uint64_t>(dropped));
    CHECK(st.quota_alarm());
    CHECK(st.describe_quota().find("over quota: ") == 0);
    CHECK(st.describe_quota().find(" KiB of 64 KiB; ") != std::string::npos);
    CHECK(st.describe_quota().find(" events dropped (memory queue full)") != std::string::npos);
    CHECK(st.pending > 0);
    CHECK(st.durable_seq < st.head_seq);
    REQUIRE(eventually([&] {
      std::lock_guard lk(m);
      return !reports.empty() && reports.back().quota == QuotaState::over && reports.back().overflow_dropped > 0;
    }));
    {
      std::lock_guard lk(m);
      bool saw_near = false;
      for (const auto& r : reports) saw_near = saw_near || r.quota == QuotaState::near;
      CHECK(saw_near);
    }
    // Stopping writes what waited in memory (over quota a little rather than losing the trail),
    // and the loss itself becomes an event of the chain.
    store.reset();
    auto reader = AuditReader::open(path);
    REQUIRE(reader.ok());
    auto report = (*reader)->verify_all();
    REQUIRE(report.ok());
    CHECK(report->ok());
    // Each time the writer found room again it recorded the drops so far: one or more
    // audit.overflow events whose counts add up to what was dropped.
    auto all = (*reader)->events_after(0, 10000);
    REQUIRE(all.ok());
    std::int64_t overflow_events = 0, recorded_drops = 0;
    for (const auto& e : *all) {
      if (e.action != "audit.overflow") continue;
      ++overflow_events;
      recorded_drops += e.detail.get_int("dropped");
    }
    CHECK(overflow_events >= 1);
    CHECK(recorded_drops == dropped);
    CHECK(report->last_seq == queued + overflow_events);
  }

  TEST_CASE("a stuck disk never blocks append; writes resume when it clears") {
    TempDir dir;
    const std::string path = dir.file("audit.db");
    auto o = options_for(path);
    o.retry_min = 20ms;
    o.retry_max = 200ms;
    std::mutex m;
    std::vector<AuditStoreStatus> reports;
    auto store = open_store(o, [&](const AuditStoreStatus& s) {
      std::lock_guard lk(m);
      reports.push_back(s);
    });
    append_n(*store, 10, t0);
    REQUIRE(store->flush(10s));
    // Another process holds the write lock (as a stuck fsync or a rogue tool would).
    auto blocker = sqlite::Database::open(path, sqlite::OpenMode::read_write);
    REQUIRE(blocker.ok());
    REQUIRE(blocker->exec("BEGIN IMMEDIATE").ok());
    const auto before = std::chrono::steady_clock::now();
    append_n(*store, 20, t0 + 1h);
    CHECK(std::chrono::steady_clock::now() - before < 500ms);  // appends return at once
    REQUIRE(eventually([&] { return store->status().stuck; }, 30s));
    CHECK(store->status().durable_seq == 10);
    CHECK(store->status().describe_quota().find("writes failing: ") == 0);
    CHECK_FALSE(store->flush(10ms));
    REQUIRE(blocker->exec("ROLLBACK").ok());
    REQUIRE(store->flush(30s));
    CHECK_FALSE(store->status().stuck);
    CHECK(store->status().durable_seq == 30);
    REQUIRE(eventually([&] {
      std::lock_guard lk(m);
      return reports.size() >= 2 && reports.back().stuck == false;
    }));
    {
      std::lock_guard lk(m);
      bool saw_stuck = false;
      for (const auto& r : reports) saw_stuck = saw_stuck || r.stuck;
      CHECK(saw_stuck);
    }
    auto report = store->verify_all();
    REQUIRE(report.ok());
    CHECK(report->ok());
    CHECK(report->checked == 30);
  }

  TEST_CASE("appends from several threads form one chain") {
    TempDir dir;
    auto store = open_store(options_for(dir.file("audit.db")));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&store, t] {
        for (int i = 0; i < 500; ++i) store->append(batch_acked(t * 1000 + i, t * 1000 + i), t0 + std::chrono::seconds(i));
      });
    for (auto& th : threads) th.join();
    REQUIRE(store->flush(10s));
    auto report = store->verify_all();
    REQUIRE(report.ok());
    CHECK(report->ok());
    CHECK(report->checked == 2000);
  }

  TEST_CASE("export writes NDJSON for a time range; a read-only reader works while the store is open") {
    TempDir dir;
    const std::string path = dir.file("audit.db");
    auto store = open_store(options_for(path));
    append_n(*store, 100, t0, 1min);  // one a minute
    REQUIRE(store->flush(10s));
    auto reader = AuditReader::open(path);
    REQUIRE(reader.ok());
    std::vector<std::string> lines;
    auto n = (*reader)->export_ndjson(t0 + 10min, t0 + 20min, [&](std::string_view line) {
      lines.emplace_back(line);
      return true;
    });
    REQUIRE(n.ok());
    CHECK(*n == 10);
    REQUIRE(lines.size() == 10);
    std::vector<audit::AuditEvent> parsed;
    for (const auto& line : lines) {
      auto e = audit::parse_line(line);
      REQUIRE(e.ok());
      parsed.push_back(*e);
    }
    CHECK(parsed.front().seq == 11);
    CHECK(parsed.front().at == "2026-03-23T00:10:00.000Z");
    // An exported slice verifies against the event before it.
    auto before = store->events_after(9, 1);
    REQUIRE(before.ok());
    CHECK(audit::verify(parsed, audit::ChainHead{10, (*before)[0].hash}).ok());
    // The store keeps writing while the reader is open.
    append_n(*store, 5, t0 + 1h);
    REQUIRE(store->flush(10s));
    auto summary = (*reader)->summary();
    REQUIRE(summary.ok());
    CHECK(summary->last_seq == 105);
    CHECK_FALSE(AuditReader::open(dir.file("missing.db")).ok());
  }

  TEST_CASE("durability normal opens and works") {
    TempDir dir;
    auto o = options_for(dir.file("audit.db"));
    o.durability = AuditDurability::normal;
    auto store = open_store(o);
    append_n(*store, 10, t0);
    REQUIRE(store->flush(10s));
    CHECK(store->status().durable_seq == 10);
    CHECK(store->append({"xnoded", "batch.sent", "x", "ok", *json::parse(R"({"r":0.5})")}, t0) ==
          AppendResult::refused);
  }
}
