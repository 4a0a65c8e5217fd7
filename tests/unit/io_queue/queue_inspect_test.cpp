#include <doctest/doctest.h>

#include "io/queue/queue_inspect.hpp"
#include "io/queue/queue_store.hpp"
#include "queue_test_support.hpp"

using namespace xnode;
using namespace xnode::test;

TEST_SUITE("io::QueueInspector") {
  TEST_CASE("reads stats, records, quarantine and marks while the store runs") {
    TempDir dir;
    io::QueueOptions o;
    o.path = dir.file("queue.db");
    o.chunk_records = 10;
    o.linger = std::chrono::milliseconds(0);
    auto q = io::QueueStore::open(o);
    const std::string stream = "101003/11540100MB00000008-00001";
    auto b = records(stream, 1, 25);
    b.quarantine.push_back({"spool", stream, "a.ndjson:3", "not JSON", "first " + std::string(300, 'x'), TimePoint{}});
    b.quarantine.push_back({"platform", stream, "seq 7", "not_shared", "{\"seq\":7}", TimePoint{}});
    b.marks.push_back({"spool", "a.ndjson", "done"});
    REQUIRE(submit(*q, std::move(b)).status == io::SubmitStatus::ok);
    REQUIRE(acknowledge(*q, stream, 12).ok());

    auto inspector = io::QueueInspector::open(o.path);
    REQUIRE(inspector.ok());
    auto s = inspector->stats();
    REQUIRE(s.ok());
    REQUIRE(s->streams.size() == 1);
    CHECK(s->streams[0].pending == 13);
    CHECK(s->streams[0].acked_through == 12);
    CHECK(s->streams[0].last_seq == 25);
    CHECK(s->quarantine_records == 2);
    CHECK(s->file_bytes > 0);

    auto r = inspector->records(stream, 1, 20, 100);  // acknowledged ones are skipped
    REQUIRE(r.ok());
    CHECK(r->first_seq == 13);
    CHECK(r->count == 8);
    CHECK(r->body.starts_with("{\"seq\":13," + tail_for("k13", 13) + "\n"));
    r = inspector->records(stream, 15, 100, 3);
    REQUIRE(r.ok());
    CHECK(r->first_seq == 15);
    CHECK(r->count == 3);
    CHECK_FALSE(inspector->records("nope", 1, 2, 3).ok());

    auto list = inspector->quarantine_list(10, 0, 10);
    REQUIRE(list.ok());
    REQUIRE(list->size() == 2);
    CHECK((*list)[0].origin == "seq 7");  // newest first
    CHECK((*list)[1].content == "first xxxx");
    CHECK((*list)[1].content_bytes == 306);
    auto older = inspector->quarantine_list(10, (*list)[0].id);
    REQUIRE(older.ok());
    CHECK(older->size() == 1);
    auto one = inspector->quarantine_show((*list)[1].id);
    REQUIRE(one.ok());
    CHECK(one->content.size() == 306);
    CHECK(one->reason == "not JSON");
    CHECK(one->source == "spool");
    CHECK_FALSE(inspector->quarantine_show(999).ok());

    auto m = inspector->marks("spool");
    REQUIRE(m.ok());
    REQUIRE(m->size() == 1);
    CHECK((*m)[0].value == "done");
    auto g = inspector->gaps();
    REQUIRE(g.ok());
    CHECK(g->empty());

    // The store keeps writing while the inspector is open; the inspector sees the new state.
    REQUIRE(submit(*q, records(stream, 26, 5)).status == io::SubmitStatus::ok);
    s = inspector->stats();
    REQUIRE(s.ok());
    CHECK(s->streams[0].last_seq == 30);
  }

  TEST_CASE("no queue at the path is a clear error") {
    TempDir dir;
    auto i = io::QueueInspector::open(dir.file("missing.db"));
    REQUIRE_FALSE(i.ok());
    CHECK(i.error().message.find("no queue at " + dir.file("missing.db")) == 0);
  }
}
