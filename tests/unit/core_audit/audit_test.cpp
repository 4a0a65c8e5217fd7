#include <doctest/doctest.h>

#include "core/audit/actions.hpp"
#include "core/audit/audit_chain.hpp"
#include "core/audit/audit_event.hpp"

using namespace xnode;
using namespace xnode::audit;

namespace {

TimePoint at_ms(std::int64_t ms) { return from_unix_ms(ms); }

AuditEntry entry(std::string_view action, std::string object, json::Value detail = json::Value::object()) {
  return AuditEntry{std::string(daemon_actor), std::string(action), std::move(object), std::string(result::ok),
                    std::move(detail)};
}

// A chain of n events, 1 s apart from 2026-03-23T00:00:00Z.
std::vector<AuditEvent> make_chain(int n) {
  AuditChain chain;
  std::vector<AuditEvent> events;
  for (int i = 0; i < n; ++i) {
    json::Value detail = json::Value::object();
    detail.set("i", i);
    auto e = chain.append(entry(action::batch_acked, "s:" + std::to_string(i), detail),
                          at_ms(1774224000000 + i * 1000));
    REQUIRE(e.ok());
    events.push_back(*e);
  }
  return events;
}

// Re-hashes an event after changing it (a careful tamperer).
void rehash(AuditEvent& e) { e.hash = compute_hash(e); }

}  // namespace

TEST_SUITE("core::AuditEvent") {
  TEST_CASE("hash of a known event matches an independent computation") {
    // Expected values computed with Python: json.dumps(e, sort_keys=True, separators=(",",":"),
    // ensure_ascii=False) then hashlib.sha256 — RFC 8785 for these values.
    auto detail = json::parse(R"({"count":126,"duplicates":0,"note":"企业","z":[true,null,{"b":-5,"a":"x"}]})");
    REQUIRE(detail.ok());
    AuditEvent e;
    e.seq = 1;
    e.at = "2026-03-23T00:00:00.000Z";
    e.actor = "xnoded";
    e.action = "batch.acked";
    e.object = "101003/11540100MB00000008-00001:41874-41999";
    e.result = "ok";
    e.detail = *detail;
    e.prev = genesis_prev;
    CHECK(canonical_unhashed(e) ==
          R"({"action":"batch.acked","actor":"xnoded","at":"2026-03-23T00:00:00.000Z","detail":{"count":126,"duplicates":0,"note":"企业","z":[true,null,{"a":"x","b":-5}]},"object":"101003/11540100MB00000008-00001:41874-41999","prev":"0000000000000000000000000000000000000000000000000000000000000000","result":"ok","seq":1})");
    CHECK(compute_hash(e) == "ac6299aa3da5055b9fb3eafad59590e6d65d3aa6e463ca16408ecab5f373db4c");

    // The chain builds the same event, and links the next one to it.
    AuditChain chain;
    auto first = chain.append(AuditEntry{"xnoded", "batch.acked", e.object, "ok", *detail}, at_ms(1774224000000));
    REQUIRE(first.ok());
    CHECK(first->hash == "ac6299aa3da5055b9fb3eafad59590e6d65d3aa6e463ca16408ecab5f373db4c");
    auto second = chain.append(AuditEntry{"xnoded", "link.down", "https://xchg.example.gov:8443", "failed", {}},
                               at_ms(1774224000000));
    REQUIRE(second.ok());
    CHECK(second->seq == 2);
    CHECK(second->prev == first->hash);
    CHECK(second->hash == "e91588870bd051803466b93064b68744348af2542e84cd597fdb2dd0b44302d4");
    CHECK(chain.head().seq == 2);
  }

  TEST_CASE("the hand-written canonical form equals json::canonical of the event") {
    auto events = make_chain(3);
    for (const auto& e : events) {
      json::Value v = to_json(e);
      v.erase("hash");
      CHECK(json::canonical(v) == canonical_unhashed(e));
    }
  }

  TEST_CASE("fractional numbers, huge integers and bad UTF-8 are refused") {
    AuditChain chain;
    auto bad = json::parse(R"({"rate": {"x": [1.5]}})");
    REQUIRE(bad.ok());
    auto r = chain.append(entry(action::batch_sent, "s", *bad), at_ms(0));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("detail.rate.x[0]: 1.5 is not an integer") != std::string::npos);
    auto exp = json::parse(R"({"n": 1e3})");
    CHECK_FALSE(chain.append(entry(action::batch_sent, "s", *exp), at_ms(0)).ok());
    auto huge = json::parse(R"({"n": 9007199254740993})");
    CHECK_FALSE(chain.append(entry(action::batch_sent, "s", *huge), at_ms(0)).ok());
    CHECK_FALSE(chain.append(entry(action::batch_sent, "bad \xff utf8"), at_ms(0)).ok());
    CHECK(chain.head().seq == 0);  // nothing was appended
    auto fine = json::parse(R"({"n": -9007199254740991, "ok": true, "none": null})");
    CHECK(chain.append(entry(action::batch_sent, "s", *fine), at_ms(0)).ok());
    CHECK(chain.head().seq == 1);
  }

  TEST_CASE("NDJSON line round trip") {
    auto events = make_chain(2);
    std::string line = to_line(events[1]);
    CHECK(line.find("{\"seq\":2,\"at\":\"2026-03-23T00:00:01.000Z\"") == 0);
    auto back = parse_line(line);
    REQUIRE(back.ok());
    CHECK(*back == events[1]);
    CHECK_FALSE(parse_line(R"({"seq":1,"extra":1})").ok());
    auto no_hash = parse_line(R"({"seq":1,"at":"2026-03-23T00:00:00Z","actor":"a","action":"b","object":"","result":"ok","detail":{},"prev":"x"})");
    REQUIRE_FALSE(no_hash.ok());
    CHECK(no_hash.error().message == "audit event 1: hash missing or not a string");
  }

  TEST_CASE("operator commands carry the calling uid") {
    AuditChain chain;
    auto e = chain.append(operator_command(1001, "audit export", std::string(result::ok)), at_ms(0));
    REQUIRE(e.ok());
    CHECK(e->action == "operator.command");
    CHECK(e->actor == "uid:1001");
    CHECK(e->detail.get_int("uid") == 1001);
    CHECK(e->detail.get_string("command") == "audit export");
  }
}

TEST_SUITE("core::AuditChain") {
  TEST_CASE("an intact chain verifies") {
    auto events = make_chain(30);
    auto report = verify(events);
    CHECK(report.ok());
    CHECK(report.checked == 30);
    CHECK(report.last_seq == 30);
    CHECK(report.summary() == "audit chain intact: events 1-30 (30)");
    CHECK(verify({}).ok());
  }

  TEST_CASE("an edited event is named") {
    auto events = make_chain(30);
    events[16].result = "refused";  // event 17
    auto report = verify(events);
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].seq == 17);
    CHECK(report.problems[0].message == "event 17: hash mismatch (edited)");
  }

  TEST_CASE("an edited and re-hashed event breaks the link to the next") {
    auto events = make_chain(30);
    events[16].object = "forged";
    rehash(events[16]);
    auto report = verify(events);
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].message == "event 18: prev does not match event 17 (reordered or edited)");
  }

  TEST_CASE("a deleted event is named") {
    auto events = make_chain(30);
    events.erase(events.begin() + 17);  // event 18
    auto report = verify(events);
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].seq == 18);
    CHECK(report.problems[0].message == "event 18 missing (deleted): seq jumps from 17 to 19");
    events.erase(events.begin() + 20, events.begin() + 23);  // events 22-24
    report = verify(events);
    REQUIRE(report.problems.size() == 2);
    CHECK(report.problems[1].message == "events 22-24 missing (deleted): seq jumps from 21 to 25");
  }

  TEST_CASE("deleted head and tail") {
    auto events = make_chain(10);
    std::vector<AuditEvent> no_head(events.begin() + 3, events.end());
    auto report = verify(no_head);
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].message == "events 1-3 missing (deleted): the chain starts at event 4");
    // With the pruning anchor (the last pruned event), the same list is intact.
    CHECK(verify(no_head, ChainHead{3, events[2].hash}).ok());
    auto wrong_anchor = verify(no_head, ChainHead{3, events[1].hash});
    REQUIRE(wrong_anchor.problems.size() == 1);
    CHECK(wrong_anchor.problems[0].message == "event 4: prev does not match the last pruned event 3 (reordered or edited)");
  }

  TEST_CASE("reordered events are named") {
    auto events = make_chain(30);
    // Rows swapped in a table keyed by seq: the seqs stay, the contents swap, hashes re-made.
    std::swap(events[19].actor, events[20].actor);
    std::swap(events[19].object, events[20].object);
    std::swap(events[19].detail, events[20].detail);
    std::swap(events[19].prev, events[20].prev);
    rehash(events[19]);
    rehash(events[20]);
    auto report = verify(events);
    REQUIRE(report.problems.size() == 3);
    CHECK(report.problems[0].message == "event 20: prev does not match event 19 (reordered or edited)");
    CHECK(report.problems[1].message == "event 21: prev does not match event 20 (reordered or edited)");
    CHECK(report.problems[2].message == "event 22: prev does not match event 21 (reordered or edited)");

    // An exported list in the wrong order: the moved event is named, nothing is called missing.
    auto list = make_chain(30);
    std::swap(list[19], list[20]);
    report = verify(list);
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].message == "event 20: out of order (reordered): found after event 21");
  }

  TEST_CASE("a duplicated event is named") {
    auto events = make_chain(5);
    events.insert(events.begin() + 3, events[1]);
    auto report = verify(events);
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].message == "event 2: appears again after event 3 (duplicated)");
  }

  TEST_CASE("a wrecked chain gives a bounded report") {
    auto events = make_chain(100);
    std::vector<AuditEvent> every_other;
    for (const auto& e : events)
      if (e.seq % 2 == 1) every_other.push_back(e);
    ChainVerifier verifier(std::nullopt, 10);
    for (const auto& e : every_other) verifier.feed(e);
    auto report = verifier.take();
    REQUIRE(report.problems.size() == 11);
    CHECK(report.problems[0].message == "event 2 missing (deleted): seq jumps from 1 to 3");
    CHECK(report.problems[10].message == "39 further problems not listed");
    CHECK(report.checked == 50);
  }

  TEST_CASE("a changed first prev is named") {
    auto events = make_chain(3);
    events[0].prev = std::string(64, 'f');
    rehash(events[0]);
    auto report = verify(events);
    REQUIRE(report.problems.size() == 2);
    CHECK(report.problems[0].message == "event 1: prev is not 64 zeros (edited)");
    CHECK(report.problems[1].message == "event 2: prev does not match event 1 (reordered or edited)");
  }
}
