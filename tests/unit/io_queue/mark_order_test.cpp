// Compare-and-swap marks: a batch whose expected mark is not the stored one is refused whole, so a
// source with several batches in flight can never have batch k+1 taken after batch k was refused.
#include <doctest/doctest.h>

#include "queue_test_support.hpp"

using namespace xnode;
using namespace xnode::test;

namespace {
const std::string kStream = "101003/11540100MB00000081-00001";
io::QueueOptions options_for(const TempDir& dir) {
  io::QueueOptions o;
  o.path = dir.file("queue.db");
  o.linger = std::chrono::milliseconds(0);
  return o;
}
}  // namespace

TEST_SUITE("io::QueueStore") {
  TEST_CASE("a mark with an expected value is taken only in order") {
    TempDir dir;
    auto q = io::QueueStore::open(options_for(dir));

    auto first = records(kStream, 1, 2);
    first.marks.push_back({"spool", "f.ndjson", "100:2", std::string()});  // expects no mark yet
    REQUIRE(submit(*q, std::move(first)).status == io::SubmitStatus::ok);

    // Batch k+1 arrives while batch k (expected "100:2" -> "200:4") was refused: it expects "200:4".
    auto ahead = records(kStream, 3, 2);
    ahead.marks.push_back({"spool", "f.ndjson", "300:6", std::string("200:4")});
    ahead.quarantine.push_back({"spool", kStream, "f.ndjson:5", "bad", "x", TimePoint{}});
    CHECK(submit(*q, std::move(ahead)).status == io::SubmitStatus::queue_full);
    auto s = stats(*q);
    CHECK(find_stream(s, kStream)->last_seq == 2);  // nothing of it stored
    CHECK(s.quarantine_records == 0);
    CHECK(marks(*q, "spool").at(0).value == "100:2");

    // The resent batch k is in order; then k+1 is too.
    auto k = records(kStream, 3, 2);
    k.marks.push_back({"spool", "f.ndjson", "200:4", std::string("100:2")});
    REQUIRE(submit(*q, std::move(k)).status == io::SubmitStatus::ok);
    auto k1 = records(kStream, 5, 2);
    k1.marks.push_back({"spool", "f.ndjson", "300:6", std::string("200:4")});
    REQUIRE(submit(*q, std::move(k1)).status == io::SubmitStatus::ok);
    CHECK(marks(*q, "spool").at(0).value == "300:6");
    CHECK(find_stream(stats(*q), kStream)->last_seq == 6);

    // Marks without an expectation keep the old behaviour.
    auto free = records(kStream, 7, 1);
    free.marks.push_back({"spool", "f.ndjson", "done"});
    CHECK(submit(*q, std::move(free)).status == io::SubmitStatus::ok);
  }
}
