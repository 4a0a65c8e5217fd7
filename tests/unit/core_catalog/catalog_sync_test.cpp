#include <doctest/doctest.h>

#include "core/base/json.hpp"
#include "core/catalog/catalog_sync.hpp"
#include "core/catalog/resource_json.hpp"
#include "core/catalog/slice_hash.hpp"
#include "fixtures.hpp"

using namespace xnode;
using namespace xnode::catalog;
using namespace std::chrono_literals;

namespace {

const TimePoint t0 = from_unix_ms(1774224000000);  // 2026-03-23T00:00:00Z

Slice two_resources() {
  Slice s;
  Resource a = test::valid_resource();
  Resource b = test::valid_resource();
  b.code = "101003/11540100MB00000081-00002";
  b.name = "企业年报信息";
  s.resources = {a, b};
  s.sort();
  return s;
}

json::Value body(const std::string& text) {
  auto v = json::parse(text);
  REQUIRE(v.ok());
  return *v;
}

// The platform's GET answer holding `slice` at `version`.
json::Value get_answer(const Slice& slice, std::int64_t version) {
  json::Value v = json::Value::object();
  v.set("version", version);
  v.set("sha256", slice_sha256(slice));
  v.set("resources", to_json(slice));
  return v;
}

}  // namespace

TEST_SUITE("core::catalog::CatalogSync") {
  TEST_CASE("first start: PUT on base 0 (or the hello's version); 200 confirms; then nothing to send") {
    CatalogSync sync;
    CHECK_FALSE(sync.poll(t0).has_value());  // no local slice yet
    sync.set_local(two_resources());
    sync.on_hello(0);
    auto request = sync.poll(t0);
    REQUIRE(request);
    CHECK(request->kind == CatalogRequest::Kind::put);
    CHECK(request->base_version == 0);
    auto sent = body(request->body);
    CHECK(sent.get_int("base_version", -1) == 0);
    CHECK(sent.get_string("sha256") == slice_sha256(two_resources()));
    CHECK(json::canonical(*sent.find("resources")) == slice_canonical(two_resources()));
    CHECK_FALSE(sync.poll(t0).has_value());  // in flight

    auto event = sync.on_response(200, body(R"({"version":1})"), t0);
    CHECK(event.kind == CatalogSyncEvent::Kind::stored);
    CHECK(event.version == 1);
    CHECK(sync.in_sync());
    REQUIRE(sync.confirmed());
    CHECK(*sync.confirmed() == CatalogSync::Confirmed{1, slice_sha256(two_resources())});
    CHECK_FALSE(sync.poll(t0 + 1h).has_value());
  }

  TEST_CASE("a node that lost its state looks at the platform's copy before overwriting it") {
    CatalogSync sync;
    sync.set_local(two_resources());
    sync.on_hello(12);
    auto get = sync.poll(t0);
    REQUIRE(get);
    CHECK(get->kind == CatalogRequest::Kind::get);
    Slice theirs = two_resources();
    theirs.resources.pop_back();
    auto event = sync.on_response(200, get_answer(theirs, 12), t0);
    CHECK(event.drift.only_local == std::vector<std::string>{"101003/11540100MB00000081-00002"});
    auto put = sync.poll(t0);
    REQUIRE(put);
    CHECK(put->base_version == 12);
  }

  TEST_CASE("unchanged slice after a restart sends nothing") {
    CatalogSync sync(CatalogSync::Confirmed{7, slice_sha256(two_resources())});
    sync.set_local(two_resources());
    sync.on_hello(7);
    CHECK(sync.in_sync());
    CHECK_FALSE(sync.poll(t0).has_value());
  }

  TEST_CASE("an edited slice is sent on the confirmed version") {
    CatalogSync sync(CatalogSync::Confirmed{7, slice_sha256(two_resources())});
    Slice edited = two_resources();
    edited.resources[0].abstract_text = "更新";
    sync.set_local(edited);
    sync.on_hello(7);
    auto request = sync.poll(t0);
    REQUIRE(request);
    CHECK(request->kind == CatalogRequest::Kind::put);
    CHECK(request->base_version == 7);
    CHECK(request->sha256 == slice_sha256(edited));
  }

  TEST_CASE("409 → GET → drift reported → PUT re-based on the platform's version (department wins)") {
    CatalogSync sync(CatalogSync::Confirmed{3, "old"});
    Slice local = two_resources();
    sync.set_local(local);
    auto put = sync.poll(t0);
    REQUIRE(put);
    CHECK(put->base_version == 3);
    auto conflict = sync.on_response(409, body(R"({"error":"version_conflict","current_version":5})"), t0);
    CHECK(conflict.kind == CatalogSyncEvent::Kind::conflict);
    CHECK(conflict.version == 5);

    auto get = sync.poll(t0);
    REQUIRE(get);
    CHECK(get->kind == CatalogRequest::Kind::get);

    // The platform's copy: resource ...00002 changed, ...00003 added there, ...00001 missing.
    Slice theirs = two_resources();
    theirs.resources[1].name = "别人改过";
    theirs.resources.erase(theirs.resources.begin());
    Resource extra = test::valid_resource();
    extra.code = "101003/11540100MB00000081-00003";
    theirs.resources.push_back(extra);
    auto reconciled = sync.on_response(200, get_answer(theirs, 5), t0);
    CHECK(reconciled.kind == CatalogSyncEvent::Kind::reconciled);
    CHECK(reconciled.version == 5);
    CHECK(reconciled.drift.only_local == std::vector<std::string>{"101003/11540100MB00000081-00001"});
    CHECK(reconciled.drift.changed == std::vector<std::string>{"101003/11540100MB00000081-00002"});
    CHECK(reconciled.drift.only_platform == std::vector<std::string>{"101003/11540100MB00000081-00003"});

    auto again = sync.poll(t0);
    REQUIRE(again);
    CHECK(again->kind == CatalogRequest::Kind::put);
    CHECK(again->base_version == 5);
    CHECK(again->sha256 == slice_sha256(local));
    CHECK(sync.on_response(200, body(R"({"version":6})"), t0).kind == CatalogSyncEvent::Kind::stored);
    CHECK(sync.in_sync());
  }

  TEST_CASE("hello shows a newer platform version: look first (GET), and if equal, just confirm") {
    CatalogSync sync(CatalogSync::Confirmed{3, slice_sha256(two_resources())});
    sync.set_local(two_resources());
    sync.on_hello(4);
    CHECK_FALSE(sync.in_sync());
    auto get = sync.poll(t0);
    REQUIRE(get);
    CHECK(get->kind == CatalogRequest::Kind::get);
    auto event = sync.on_response(200, get_answer(two_resources(), 4), t0);
    CHECK(event.kind == CatalogSyncEvent::Kind::reconciled);
    CHECK(event.drift.empty());
    CHECK(sync.in_sync());
    CHECK_FALSE(sync.poll(t0).has_value());
  }

  TEST_CASE("422: problems, affected codes held (by code or #index), unaffected keep flowing; no resend until edited") {
    CatalogSync sync;
    Slice local = two_resources();
    sync.set_local(local);
    REQUIRE(sync.poll(t0));
    auto event = sync.on_response(
        422,
        body(R"({"error":"invalid","message":"…","problems":[)"
             R"({"code":"#1","field":"items[1].purpose","reason":"sensitive items need a purpose"}]})"),
        t0);
    CHECK(event.kind == CatalogSyncEvent::Kind::rejected);
    REQUIRE(event.problems.size() == 1);
    CHECK(event.problems[0] == Problem{"#1", "items[1].purpose", "sensitive items need a purpose"});
    CHECK(event.affected_codes == std::vector<std::string>{"101003/11540100MB00000081-00002"});
    CHECK_FALSE(event.whole_slice_affected);
    CHECK(sync.resource_held("101003/11540100MB00000081-00002"));
    CHECK_FALSE(sync.resource_held("101003/11540100MB00000081-00001"));
    CHECK_FALSE(sync.poll(t0 + 1h).has_value());  // the same slice is not resent

    Slice fixed = local;
    fixed.resources[1].abstract_text = "fixed";
    sync.set_local(fixed);
    CHECK_FALSE(sync.resource_held("101003/11540100MB00000081-00002"));
    REQUIRE(sync.poll(t0 + 1h));
  }

  TEST_CASE("422 naming a code, and 400 (a defect): whole slice held when not tied to a resource") {
    CatalogSync sync;
    sync.set_local(two_resources());
    REQUIRE(sync.poll(t0));
    auto event = sync.on_response(
        422, body(R"({"error":"invalid","problems":[{"code":"101003/11540100MB00000081-00001","field":"name","reason":"x"}]})"),
        t0);
    CHECK(event.affected_codes == std::vector<std::string>{"101003/11540100MB00000081-00001"});

    CatalogSync other;
    other.set_local(two_resources());
    REQUIRE(other.poll(t0));
    auto malformed = other.on_response(400, body(R"({"error":"malformed","message":"sha256 mismatch"})"), t0);
    CHECK(malformed.kind == CatalogSyncEvent::Kind::rejected);
    CHECK(malformed.whole_slice_affected);
    CHECK(malformed.message == "platform refused the catalog request as malformed: sha256 mismatch");
    CHECK(other.resource_held("101003/11540100MB00000081-00001"));
  }

  TEST_CASE("failures back off: 5 s doubling to 10 min; Retry-After wins") {
    CHECK(catalog_retry_delay(1) == 5s);
    CHECK(catalog_retry_delay(2) == 10s);
    CHECK(catalog_retry_delay(4) == 40s);
    CHECK(catalog_retry_delay(20) == 600s);
    CatalogSync sync;
    sync.set_local(two_resources());
    REQUIRE(sync.poll(t0));
    auto failed = sync.on_failure(t0);
    CHECK(failed.kind == CatalogSyncEvent::Kind::failed);
    CHECK(failed.retry_at == t0 + 5s);
    CHECK_FALSE(sync.poll(t0 + 4s).has_value());
    REQUIRE(sync.poll(t0 + 5s));
    auto busy = sync.on_failure(t0 + 5s, 30s);
    CHECK(busy.retry_at == t0 + 35s);
    REQUIRE(sync.poll(t0 + 35s));
    auto internal = sync.on_response(500, body(R"({"error":"internal"})"), t0 + 35s);
    CHECK(internal.kind == CatalogSyncEvent::Kind::failed);
    CHECK(internal.retry_at == t0 + 35s + 20s);  // third failure in a row
  }

  TEST_CASE("conflicts that keep recurring turn into a back-off, not a loop") {
    CatalogSync sync;
    sync.set_local(two_resources());
    TimePoint now = t0;
    int gets = 0;
    for (int round = 0; round < 4; ++round) {
      auto put = sync.poll(now);
      REQUIRE(put);
      REQUIRE(put->kind == CatalogRequest::Kind::put);
      auto event = sync.on_response(409, body(R"({"current_version":9})"), now);
      if (round < 3) {
        CHECK(event.kind == CatalogSyncEvent::Kind::conflict);
      } else {
        CHECK(event.kind == CatalogSyncEvent::Kind::failed);
        now = event.retry_at;
      }
      auto get = sync.poll(now);
      REQUIRE(get);
      REQUIRE(get->kind == CatalogRequest::Kind::get);
      ++gets;
      Slice theirs;
      CHECK(sync.on_response(200, get_answer(theirs, 9), now).kind == CatalogSyncEvent::Kind::reconciled);
    }
    CHECK(gets == 4);
  }

  TEST_CASE("an unreadable GET answer still re-bases; an answer without a request is ignored") {
    CatalogSync sync(CatalogSync::Confirmed{1, "x"});
    sync.set_local(two_resources());
    sync.on_hello(2);
    REQUIRE(sync.poll(t0));
    auto event = sync.on_response(200, body(R"({"version":2,"resources":"garbage"})"), t0);
    CHECK(event.drift.platform_unreadable);
    auto put = sync.poll(t0);
    REQUIRE(put);
    CHECK(put->base_version == 2);
    CHECK(sync.on_response(200, body(R"({"version":3})"), t0).kind == CatalogSyncEvent::Kind::stored);
    CHECK(sync.on_response(200, body(R"({"version":4})"), t0).kind == CatalogSyncEvent::Kind::failed);
    CHECK(sync.confirmed()->version == 3);
  }
}
