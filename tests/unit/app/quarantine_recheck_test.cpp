// A quarantined record checked again against the slice in force now (xnodectl quarantine retry).
#include <doctest/doctest.h>

#include "app/quarantine_recheck.hpp"
#include "core/catalog/loader.hpp"

using namespace xnode;

namespace {

const catalog::Slice& example_slice() {
  static const catalog::Slice slice = [] {
    auto load = catalog::load_slice_dir(std::filesystem::path(XNODE_SOURCE_DIR) / "conf" / "catalog.d");
    REQUIRE(load.ok());
    return load.slice;
  }();
  return slice;
}

const std::string kCases = "201005/11540100MB00000081-00004";

io::QuarantineRecord entry(std::string source, std::string stream, std::string content) {
  io::QuarantineRecord e;
  e.id = 7;
  e.source = std::move(source);
  e.stream = std::move(stream);
  e.content = std::move(content);
  return e;
}

const std::string kGood =
    R"({"id":1,"name":"蔡婷晨","ts":"2026-03-01T08:00:04+08:00","status":"received","serial":"540103030100000001"})";

}  // namespace

TEST_CASE("a local rejection that passes today is rebuilt as a wire tail") {
  const TimePoint now = *parse_rfc3339("2026-03-02T00:00:00Z");
  auto r = app::recheck_quarantined(entry("cases", kCases, kGood), example_slice(), {}, now);
  REQUIRE(r.passed);
  CHECK(r.stream == kCases);
  CHECK(r.tail.find(R"("op":"upsert")") != std::string::npos);
  CHECK(r.tail.find("2026-03-02T00:00:00") != std::string::npos);  // taken in again now
  CHECK(r.tail.find("540103030100000001") != std::string::npos);
}

TEST_CASE("a record that still fails stays, with the reason") {
  std::string bad = kGood;
  bad.replace(bad.find("received"), 8, std::string(30, 'x'));
  auto r = app::recheck_quarantined(entry("cases", kCases, bad), example_slice(), {}, Clock::now());
  CHECK_FALSE(r.passed);
  CHECK(r.reason.find("status") != std::string::npos);
}

TEST_CASE("content that is not an NDJSON record, and unknown resources, cannot be retried") {
  auto csv = app::recheck_quarantined(entry("cases", kCases, "1,蔡婷晨,2026-03-01"), example_slice(), {}, Clock::now());
  CHECK_FALSE(csv.passed);
  CHECK(csv.reason.find("cannot be retried") != std::string::npos);
  auto unknown = app::recheck_quarantined(entry("cases", "999999/X-00001", kGood), example_slice(), {}, Clock::now());
  CHECK_FALSE(unknown.passed);
  CHECK(unknown.reason.find("not in the catalog slice") != std::string::npos);
  // No stream recorded: the source's configured resource is used.
  config::SourceConfig s;
  s.name = "cases";
  s.resource = kCases;
  auto by_source = app::recheck_quarantined(entry("cases", "", kGood), example_slice(), {s}, Clock::now());
  CHECK(by_source.passed);
}

TEST_CASE("a platform rejection keeps its op and original intake time") {
  const std::string line = R"({"seq":41,"op":"upsert","key":"540103030100000001","at":"2026-02-01T00:00:00.000Z","data":)" +
                           kGood + "}";
  auto r = app::recheck_quarantined(entry("platform", kCases, line), example_slice(), {}, Clock::now());
  REQUIRE(r.passed);
  CHECK(r.tail.find(R"("at":"2026-02-01T00:00:00.000Z")") != std::string::npos);
  CHECK(r.tail.find(R"("seq")") == std::string::npos);  // the store assigns a new seq
  auto del = app::recheck_quarantined(
      entry("platform", kCases, R"({"seq":42,"op":"delete","key":"540103030100000001","at":"2026-02-01T00:00:00Z"})"),
      example_slice(), {}, Clock::now());
  REQUIRE(del.passed);
  CHECK(del.tail.find(R"("op":"delete")") != std::string::npos);
}
