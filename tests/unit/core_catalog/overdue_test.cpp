#include <doctest/doctest.h>

#include "core/catalog/loader.hpp"
#include "core/catalog/overdue.hpp"
#include "fixtures.hpp"

using namespace xnode;
using namespace xnode::catalog;
using namespace std::chrono_literals;

namespace {
const TimePoint t0 = from_unix_ms(1774224000000);  // 2026-03-23T00:00:00Z
constexpr auto day = 24h;

Slice one(UpdateCycle cycle, ShareType share = ShareType::conditional) {
  Resource r = test::valid_resource();
  r.update_cycle = cycle;
  r.share.type = share;
  Slice s;
  s.resources = {r};
  return s;
}
const std::string kCode = "101003/11540100MB00000081-00001";
}  // namespace

TEST_SUITE("core::catalog::Overdue") {
  TEST_CASE("cycle lengths") {
    CHECK(cycle_length(UpdateCycle::realtime) == 1h);
    CHECK(cycle_length(UpdateCycle::daily) == day);
    CHECK(cycle_length(UpdateCycle::weekly) == 7 * day);
    CHECK(cycle_length(UpdateCycle::monthly) == 31 * day);
    CHECK(cycle_length(UpdateCycle::quarterly) == 92 * day);
    CHECK(cycle_length(UpdateCycle::half_yearly) == 183 * day);
    CHECK(cycle_length(UpdateCycle::yearly) == 366 * day);
    CHECK_FALSE(cycle_length(UpdateCycle::other).has_value());
  }

  TEST_CASE("overdue when the last record is older than cycle + grace") {
    LastRecordTimes last{{kCode, t0}};
    const auto grace = 2h;
    CHECK(overdue_resources(one(UpdateCycle::daily), last, t0, t0 + day + 2h, grace).empty());
    auto late = overdue_resources(one(UpdateCycle::daily), last, t0, t0 + day + 2h + 1s, grace);
    REQUIRE(late.size() == 1);
    CHECK(late[0] == OverdueResource{kCode, UpdateCycle::daily, t0});
    CHECK(overdue_resources(one(UpdateCycle::monthly), last, t0, t0 + 31 * day, 0s).empty());
    CHECK(overdue_resources(one(UpdateCycle::monthly), last, t0, t0 + 31 * day + 1s, 0s).size() == 1);
  }

  TEST_CASE("never a record: measured from when tracking began") {
    LastRecordTimes none;
    CHECK(overdue_resources(one(UpdateCycle::realtime), none, t0, t0 + 1h, 0s).empty());
    auto late = overdue_resources(one(UpdateCycle::realtime), none, t0, t0 + 1h + 1s, 0s);
    REQUIRE(late.size() == 1);
    CHECK_FALSE(late[0].last_update.has_value());
    CHECK(json::serialize(overdue_to_json(late)) ==
          R"([{"code":"101003/11540100MB00000081-00001","update_cycle":"realtime","last_update":null}])");
  }

  TEST_CASE("other cycles and unshared resources are never overdue") {
    LastRecordTimes none;
    CHECK(overdue_resources(one(UpdateCycle::other), none, t0, t0 + 3650 * day, 0s).empty());
    CHECK(overdue_resources(one(UpdateCycle::daily, ShareType::none), none, t0, t0 + 30 * day, 0s).empty());
  }

  TEST_CASE("health report form") {
    std::vector<OverdueResource> list{{kCode, UpdateCycle::weekly, t0}};
    CHECK(json::serialize(overdue_to_json(list)) ==
          R"([{"code":"101003/11540100MB00000081-00001","update_cycle":"weekly","last_update":"2026-03-23T00:00:00.000Z"}])");
  }

  TEST_CASE("yearly review of the slice") {
    CHECK_FALSE(slice_review_due(t0, t0 + 364 * day));
    CHECK(slice_review_due(t0, t0 + 365 * day));
  }

  TEST_CASE("the example slice: a fresh node after two hours has only the realtime resource overdue") {
    auto load = load_slice_dir(test::kExampleDir);
    REQUIRE(load.ok());
    auto late = overdue_resources(load.slice, {}, t0, t0 + 2h, 30min);
    REQUIRE(late.size() == 1);
    CHECK(late[0].code == "201005/11540100MB00000081-00004");
  }
}
