#include <doctest/doctest.h>

#include "harness.hpp"

using namespace xnode;
using namespace xnode::uplink;
using xnode::uplink::test::Harness;

namespace {

const std::string kS = Harness::kStream;
const std::string kEncoded = "/xep/v1/streams/101003%2F11540100MB00000008-00001/batches";

}  // namespace

TEST_SUITE("core::uplink::Session") {

TEST_CASE("hello carries every required member, then batches flow in order and are acknowledged") {
  Harness h;
  h.queue.add(kS, 250);
  h.start();
  REQUIRE(h.sent() == 1);
  const Send& hello = h.last();
  CHECK(hello.method == "POST");
  CHECK(hello.target == "/xep/v1/hello");
  CHECK(Harness::header(hello, "X-XN-Node") == "gaj-01");
  CHECK(Harness::header(hello, "Content-Type") == "application/json");
  auto body = json::parse(*hello.body);
  REQUIRE(body.ok());
  CHECK(body->get_string("node_id") == "gaj-01");
  CHECK(body->find("software")->get_string("name") == "xnode");
  CHECK(body->find("software")->get_string("version") == "0.3.1");
  CHECK(body->find("config")->get_int("version") == 12);
  CHECK(body->find("config")->get_string("sha256") == std::string(64, 'a'));
  CHECK(body->get_int("catalog_version") == 7);
  REQUIRE(body->find("streams")->as_array().size() == 1);
  CHECK(body->find("streams")->as_array()[0].as_string() == kS);
  CHECK(parse_rfc3339(body->get_string("time")).has_value());

  h.answer_hello({{kS, 0}});
  REQUIRE(h.all<Reconcile>().size() == 1);
  CHECK(h.all<Reconcile>()[0].platform_acked_through == 0);
  CHECK(h.session->link_established());
  CHECK(h.session->clock_offset() == Millis(1500));

  const Send& b1 = h.last();
  REQUIRE(b1.kind == RequestKind::batch);
  CHECK(b1.target == kEncoded);
  CHECK(Harness::header(b1, "X-XN-Node") == "gaj-01");
  CHECK(Harness::header(b1, "Content-Type") == "application/x-ndjson");
  CHECK(Harness::first_seq(b1) == 1);
  CHECK(Harness::count(b1) == 100);  // max_batch_records
  CHECK(Harness::header(b1, "X-XN-Body-Sha256") == Sha256::hex(*b1.body));
  CHECK(b1.body->rfind(test::record_line(1) + "\n", 0) == 0);

  h.ack_batch();
  REQUIRE(h.all<Acknowledge>().size() == 1);
  CHECK(h.all<Acknowledge>()[0].through == 100);
  CHECK(h.audits("batch.acked").size() == 1);
  CHECK(h.audits("batch.acked")[0].object == kS + ":1-100");
  CHECK(Harness::first_seq(h.last()) == 101);
  h.ack_batch();
  CHECK(Harness::first_seq(h.last()) == 201);
  CHECK(Harness::count(h.last()) == 50);
  const std::size_t before = h.sent();
  h.ack_batch();
  CHECK(h.sent() == before);  // drained: nothing more to send
  CHECK(h.session->acked_through(kS) == 250);
  CHECK(h.queue.records[kS].empty());

  // New records wake the session up.
  h.queue.add(kS, 3);
  h.session->queue_has_data(h.now, kS, 253);
  h.drain();
  CHECK(Harness::first_seq(h.last()) == 251);
  CHECK(Harness::count(h.last()) == 3);
}

TEST_CASE("a node that lost its state continues from the platform's acked_through + 1") {
  Harness h;  // empty queue: the state is gone
  h.start();
  h.answer_hello({{kS, 41873}});
  REQUIRE(h.all<Reconcile>().size() == 1);
  CHECK(h.all<Reconcile>()[0].stream == kS);
  CHECK(h.all<Reconcile>()[0].platform_acked_through == 41873);
  CHECK(h.queue.last_seq[kS] == 41873);  // the queue numbers on from there
  CHECK(h.sent() == 1);                   // nothing to send yet
  h.queue.add(kS, 5);
  h.session->queue_has_data(h.now, kS, h.queue.last_seq[kS]);
  h.drain();
  CHECK(Harness::first_seq(h.last()) == 41874);
  CHECK(Harness::count(h.last()) == 5);
}

TEST_CASE("records the platform already holds are not resent after a restart") {
  Harness h;
  h.queue.add(kS, 300);  // local ack of 1..200 was lost in a crash
  h.start();
  h.answer_hello({{kS, 200}});
  CHECK(Harness::first_seq(h.last()) == 201);
}

TEST_CASE("409 gap: resend from expected_seq when the queue still holds it") {
  Harness h;
  h.queue.add(kS, 50);
  h.start();
  h.answer_hello({{kS, 0}});
  REQUIRE(Harness::first_seq(h.last()) == 1);
  h.ack_batch();
  // The platform lost data after hello (restored from backup): it expects 31 again. Our queue
  // still holds nothing below 51 though... so first make the queue hold them.
  h.queue.add(kS, 10);
  h.session->queue_has_data(h.now, kS, 60);
  h.drain();
  REQUIRE(Harness::first_seq(h.last()) == 51);
  // Put 31..50 back as if they had not been deleted locally.
  for (std::uint64_t s = 31; s <= 50; ++s) h.queue.records[kS][s] = test::record_line(s);
  h.answer(409, R"({"error":"gap","message":"expected 31","expected_seq":31,"acked_through":30})");
  CHECK(h.session->acked_through(kS) == 30);
  CHECK(h.last().kind == RequestKind::batch);
  CHECK(Harness::first_seq(h.last()) == 31);
  CHECK(Harness::count(h.last()) == 30);
  CHECK(h.audits("batch.gap").size() == 1);
}

TEST_CASE("409 gap: declare the gap when the queue no longer holds the records") {
  Harness h;
  h.queue.add(kS, 60);
  h.queue.evict(kS, 1, 20);  // only 21..60 are held; the platform has nothing
  h.start();
  h.answer_hello({{kS, 0}});
  // The read after 0 starts at 21: the session declares 1..20 before sending.
  const Send& g = h.last();
  REQUIRE(g.kind == RequestKind::gap);
  CHECK(g.target == "/xep/v1/streams/101003%2F11540100MB00000008-00001/gaps");
  auto body = json::parse(*g.body);
  REQUIRE(body.ok());
  CHECK(body->get_int("from_seq") == 1);
  CHECK(body->get_int("to_seq") == 20);
  CHECK(!body->get_string("reason").empty());
  h.answer(200, R"({"acked_through":20})");
  REQUIRE(h.all<GapDeclared>().size() == 1);
  CHECK(h.all<GapDeclared>()[0].from_seq == 1);
  CHECK(h.all<GapDeclared>()[0].to_seq == 20);
  CHECK_FALSE(h.all<GapDeclared>()[0].from_queue);
  CHECK(h.audits("gap.declared").size() == 1);
  REQUIRE(h.last().kind == RequestKind::batch);
  CHECK(Harness::first_seq(h.last()) == 21);
  CHECK(Harness::count(h.last()) == 40);

  // Later a 409 gap names seqs that were acknowledged locally: they are declared too.
  h.ack_batch();
  h.queue.add(kS, 5);
  h.session->queue_has_data(h.now, kS, 65);
  h.drain();
  REQUIRE(Harness::first_seq(h.last()) == 61);
  h.answer(409, R"({"error":"gap","expected_seq":56,"acked_through":55})");
  REQUIRE(h.last().kind == RequestKind::gap);
  body = json::parse(*h.last().body);
  CHECK(body->get_int("from_seq") == 56);
  CHECK(body->get_int("to_seq") == 60);
  h.answer(200, R"({"acked_through":60})");
  CHECK(Harness::first_seq(h.last()) == 61);
}

TEST_CASE("gaps reported by the queue (eviction) are declared once the platform reaches them") {
  Harness h;
  h.queue.add(kS, 30);
  h.start();
  h.answer_hello({{kS, 0}});
  REQUIRE(Harness::first_seq(h.last()) == 1);
  // While 1..30 travels, the queue evicts 11..20 and reports the gap; the platform answers that
  // it holds only through 10 (e.g. it restarted from a backup while the request was on its way).
  h.queue.evict(kS, 11, 20);
  h.session->pending_gap(h.now, Gap{kS, 11, 20, "evicted: queue full (drop_oldest)"});
  h.drain();
  h.answer(200, R"({"acked_through":10,"duplicates":0,"mismatches":0,"rejected":[]})");
  REQUIRE(h.last().kind == RequestKind::gap);
  auto body = json::parse(*h.last().body);
  CHECK(body->get_int("from_seq") == 11);
  CHECK(body->get_int("to_seq") == 20);
  CHECK(body->get_string("reason") == "evicted: queue full (drop_oldest)");
  h.answer(200, R"({"acked_through":20})");
  REQUIRE(h.all<GapDeclared>().size() == 1);
  CHECK(h.all<GapDeclared>()[0].from_queue);
  CHECK(Harness::first_seq(h.last()) == 21);

  // A queue gap below the platform's mark needs no request, only the local mark.
  const std::size_t before = h.sent();
  h.session->pending_gap(h.now, Gap{kS, 2, 3, "evicted"});
  h.drain();
  CHECK(h.sent() == before);
  h.ack_batch();
  REQUIRE(h.all<GapDeclared>().size() == 2);
  CHECK(h.all<GapDeclared>()[1].from_seq == 2);
  CHECK(h.all<GapDeclared>()[1].from_queue);
}

TEST_CASE("413 halves the batch down to one record; a single record too large is quarantined and declared") {
  Harness h;
  h.queue.add(kS, 100);
  h.start();
  h.answer_hello({{kS, 0}});
  std::vector<std::uint64_t> counts;
  while (h.last().kind == RequestKind::batch && Harness::first_seq(h.last()) == 1) {
    counts.push_back(Harness::count(h.last()));
    h.answer(413, R"({"error":"too_large","message":"above max_batch_bytes"})");
    REQUIRE(counts.size() < 20);
  }
  CHECK(counts == std::vector<std::uint64_t>{100, 50, 25, 12, 6, 3, 1});
  // Record 1 is quarantined with its line and the reason, and declared as a gap.
  REQUIRE(h.all<Quarantine>().size() == 1);
  CHECK(h.all<Quarantine>()[0].seq == 1);
  CHECK(h.all<Quarantine>()[0].line == test::record_line(1));
  CHECK(h.all<Quarantine>()[0].reason.find("too_large") != std::string::npos);
  REQUIRE(h.last().kind == RequestKind::gap);
  auto body = json::parse(*h.last().body);
  CHECK(body->get_int("from_seq") == 1);
  CHECK(body->get_int("to_seq") == 1);
  h.answer(200, R"({"acked_through":1})");
  // Never a stall: the next records go, at the reduced size, growing back on success.
  REQUIRE(h.last().kind == RequestKind::batch);
  CHECK(Harness::first_seq(h.last()) == 2);
  CHECK(Harness::count(h.last()) == 1);
  h.ack_batch();
  CHECK(Harness::count(h.last()) == 2);
  h.ack_batch();
  CHECK(Harness::count(h.last()) == 4);
  CHECK(h.session->backoff().failures() == 0);
}

TEST_CASE("429 and 503 wait Retry-After seconds; without it, back-off") {
  Harness h;
  h.queue.add(kS, 10);
  h.start();
  h.answer_hello({{kS, 0}});
  const auto sent_at = h.now;
  h.answer(429, R"({"error":"busy","message":"slow down"})", {{"retry-after", "7"}});
  REQUIRE(h.session->not_before().has_value());
  CHECK(*h.session->not_before() == sent_at + Seconds(7));
  REQUIRE(!h.all<ArmTimer>().empty());
  CHECK(h.all<ArmTimer>().back().at == sent_at + Seconds(7));
  const std::size_t before = h.sent();
  h.advance(Millis(6999));
  h.tick();
  CHECK(h.sent() == before);
  h.advance(Millis(1));
  h.tick();
  REQUIRE(h.sent() == before + 1);
  CHECK(Harness::first_seq(h.last()) == 1);  // the same batch again

  h.answer(503, R"({"error":"busy"})", {{"Retry-After", "3"}});
  CHECK(*h.session->not_before() == h.now + Seconds(3));

  h.advance(Seconds(3));
  h.tick();
  h.jitter = {0.999};
  h.answer(503, R"({"error":"busy"})");  // no Retry-After: the back-off decides
  REQUIRE(h.session->not_before().has_value());
  CHECK(*h.session->not_before() - h.now <= Millis(250));
  CHECK(h.session->backoff().failures() == 1);

  h.advance(Seconds(1));
  h.tick();
  h.answer(503, "", {{"Retry-After", "999999"}});  // absurd values are clamped
  CHECK(*h.session->not_before() == h.now + Seconds(3600));
}

TEST_CASE("403 raises platform_forbidden and stops sending for the long back-off") {
  Harness h;
  h.queue.add(kS, 10);
  h.start();
  h.answer_hello({{kS, 0}});
  h.answer(403, R"({"error":"forbidden","message":"node disabled by the bureau"})");
  REQUIRE(h.alarms("platform_forbidden").size() == 1);
  CHECK(h.alarms("platform_forbidden")[0].raised);
  CHECK(h.alarms("platform_forbidden")[0].text.find("node disabled") != std::string::npos);
  CHECK(*h.session->not_before() == h.now + Millis(10 * 60 * 1000));
  const std::size_t before = h.sent();
  h.advance(Seconds(9 * 60 + 59));
  h.tick();
  h.session->queue_has_data(h.now, kS, 10);
  h.drain();
  CHECK(h.sent() == before);
  h.advance(Seconds(1));
  h.tick();
  REQUIRE(h.sent() == before + 1);
  h.ack_batch();
  REQUIRE(h.alarms("platform_forbidden").size() == 2);
  CHECK_FALSE(h.alarms("platform_forbidden")[1].raised);
  CHECK_FALSE(h.session->alarm_active("platform_forbidden"));
}

TEST_CASE("the 403 back-off is configurable") {
  auto c = Harness::default_config();
  c.forbidden_backoff = Seconds(30);
  Harness h(c);
  h.start();
  h.answer(403, R"({"error":"identity_mismatch","message":"CN differs"})");
  CHECK(*h.session->not_before() == h.now + Seconds(30));
}

TEST_CASE("network errors: exponential back-off with full jitter, capped, reset by a success; hello again") {
  Harness h;
  h.queue.add(kS, 10);
  h.start();
  h.answer_hello({{kS, 0}});
  REQUIRE(h.last().kind == RequestKind::batch);

  // The largest draws show the ceiling doubling from 250 ms to the 10 s cap.
  std::vector<std::int64_t> delays;
  for (int i = 0; i < 9; ++i) {
    h.jitter = {0.999999};
    h.session->transport_error(h.now, h.last().request_id, ErrorClass::connect, "connection refused");
    h.drain();
    REQUIRE(h.session->not_before().has_value());
    delays.push_back((*h.session->not_before() - h.now) / Millis(1));
    h.now = *h.session->not_before();
    h.tick();
    REQUIRE(h.last().kind == RequestKind::hello);  // the link was lost: hello first
  }
  CHECK(delays == std::vector<std::int64_t>{250, 500, 1000, 2000, 4000, 8000, 10000, 10000, 10000});

  // Full jitter: a draw of 0 retries at once, a draw in the middle lands in the middle.
  h.jitter = {0.0};
  h.session->transport_error(h.now, h.last().request_id, ErrorClass::timeout, "read timed out");
  h.drain();
  CHECK(*h.session->not_before() == h.now);
  h.tick();
  h.jitter = {0.5};
  h.session->transport_error(h.now, h.last().request_id, ErrorClass::tls, "handshake failed");
  h.drain();
  CHECK((*h.session->not_before() - h.now) == Millis(5000));

  // A link failure and the outage are reported to the health model.
  bool lost = false;
  for (const auto& s : h.all<HealthSample>()) lost = lost || s.kind == HealthSample::Kind::link_lost;
  CHECK(lost);

  // Success resets: the next failure draws from 250 ms again.
  h.now = *h.session->not_before();
  h.tick();
  h.answer_hello({{kS, 0}});
  CHECK(h.session->backoff().failures() == 0);
  CHECK(h.audits("link.restored").size() == 1);
  h.jitter = {0.999999};
  h.answer(500, R"({"error":"internal"})");
  CHECK((*h.session->not_before() - h.now) == Millis(250));
  CHECK(h.session->link_established());  // a 5xx is an answer: no hello needed
}

TEST_CASE("a wall clock stepping back does not stretch a back-off") {
  Harness h;
  h.queue.add(kS, 10);
  h.start();
  h.jitter = {0.999999};
  h.session->transport_error(h.now, h.last().request_id, ErrorClass::connect, "connection refused");
  h.drain();
  REQUIRE(h.session->not_before().has_value());
  const Millis wait = std::chrono::duration_cast<Millis>(*h.session->not_before() - h.now);
  CHECK(wait == Millis(250));
  // NTP steps the clock back by an hour while the node waits; the runner's timer fires on time.
  // The session cannot tell the step from the time that passed, so the wait may at worst
  // start over — but it is not stretched by the hour.
  h.now -= std::chrono::hours(1);
  h.advance(wait);
  h.tick();
  REQUIRE(h.session->not_before().has_value());
  CHECK(*h.session->not_before() - h.now <= wait);
  REQUIRE(!h.all<ArmTimer>().empty());
  CHECK(h.all<ArmTimer>().back().at == *h.session->not_before());
  h.advance(wait);
  h.tick();
  CHECK(h.sent() == 2);
  CHECK(h.last().kind == RequestKind::hello);
}

TEST_CASE("Backoff: bounds of full jitter and the cap") {
  std::deque<double> draws;
  Backoff b(Millis(100), Millis(1000), [&] {
    double v = draws.front();
    draws.pop_front();
    return v;
  });
  for (int i = 0; i < 12; ++i) {
    draws = {0.0, 0.999999};
    CHECK(b.next_delay() == Millis(0));
    const Millis ceiling = b.current_ceiling();
    const Millis hi = b.next_delay();
    CHECK(hi <= ceiling);
    CHECK(hi >= ceiling - Millis(1));
    CHECK(b.current_ceiling() <= Millis(1000));
  }
  CHECK(b.current_ceiling() == Millis(1000));
  b.reset();
  CHECK(b.current_ceiling() == Millis(100));
  draws = {7.0};  // a broken random source cannot push past the ceiling
  CHECK(b.next_delay() <= Millis(100));
}

TEST_CASE("three streams share the link in turn") {
  auto c = Harness::default_config();
  c.streams = {"A", "B", "C"};
  c.max_batch_records = 10;
  Harness h(c);
  h.queue.add("A", 100);
  h.queue.add("B", 100);
  h.queue.add("C", 25);
  h.start();
  h.answer_hello({{"A", 0}, {"B", 0}, {"C", 0}});
  std::string order;
  for (int i = 0; i < 30 && h.last().kind == RequestKind::batch; ++i) {
    const std::string& target = h.last().target;
    order += target.substr(std::string("/xep/v1/streams/").size(), 1);
    const std::size_t before = h.sent();
    h.ack_batch();
    if (h.sent() == before) break;
  }
  CHECK(order.substr(0, 9) == "ABCABCABC");
  // C runs dry after 3 batches; A and B go on alternating.
  CHECK(order.substr(9, 6) == "ABABAB");
  CHECK(h.session->acked_through("C") == 25);
}

TEST_CASE("rejected records go to quarantine with their line; mismatches raise seq_reuse") {
  Harness h;
  h.queue.add(kS, 10);
  h.start();
  h.answer_hello({{kS, 0}});
  h.answer(200, R"({"acked_through":10,"duplicates":2,"mismatches":1,
                   "rejected":[{"seq":4,"reason":"not_shared"},{"seq":7,"reason":"items[1]: bad value"},
                               {"seq":99,"reason":"not in this batch"}]})");
  auto q = h.all<Quarantine>();
  REQUIRE(q.size() == 2);
  CHECK(q[0].seq == 4);
  CHECK(q[0].stream == kS);
  CHECK(q[0].line == test::record_line(4));
  CHECK(q[0].reason == "platform: not_shared");
  CHECK(q[1].seq == 7);
  CHECK(q[1].line == test::record_line(7));
  CHECK(h.all<Acknowledge>().back().through == 10);  // rejected records are acknowledged too
  REQUIRE(h.alarms("seq_reuse").size() == 1);
  CHECK(h.alarms("seq_reuse")[0].raised);
  CHECK(h.audits("batch.seq_reuse").size() == 1);
  CHECK(h.audits("batch.acked")[0].detail.get_int("rejected") == 2);
}

TEST_CASE("400 malformed: the faulty record is isolated, quarantined and declared; the others are delivered") {
  Harness h;
  h.queue.add(kS, 10);
  h.queue.records[kS][7] = "{\"seq\":7,\"op\":\"upsert\"";  // a broken line in the queue
  h.start();
  h.answer_hello({{kS, 0}});
  // A stand-in for the platform: any batch holding seq 7 is refused as malformed.
  std::vector<std::uint64_t> delivered;
  for (int i = 0; i < 40 && h.session->acked_through(kS) < 10; ++i) {
    const Send& s = h.last();
    if (s.kind == RequestKind::gap) {
      auto g = json::parse(*s.body);
      h.answer(200, "{\"acked_through\":" + std::to_string(g->get_int("to_seq")) + "}");
      continue;
    }
    REQUIRE(s.kind == RequestKind::batch);
    const std::uint64_t first = Harness::first_seq(s), n = Harness::count(s);
    if (first <= 7 && 7 < first + n) {
      h.answer(400, R"({"error":"malformed","message":"line 1: not a JSON object"})");
    } else {
      for (std::uint64_t q = first; q < first + n; ++q) delivered.push_back(q);
      h.ack_batch();
    }
  }
  CHECK(h.session->acked_through(kS) == 10);
  CHECK(delivered == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 8, 9, 10});
  auto q = h.all<Quarantine>();
  REQUIRE(q.size() == 1);
  CHECK(q[0].seq == 7);
  CHECK(q[0].line == "{\"seq\":7,\"op\":\"upsert\"");
  CHECK(q[0].reason.find("malformed: line 1: not a JSON object") != std::string::npos);
  CHECK(h.audits("batch.quarantined").size() == 1);
  CHECK(!h.audits("batch.split").empty());
  REQUIRE(h.all<GapDeclared>().size() == 1);
  CHECK(h.all<GapDeclared>()[0].from_seq == 7);
  CHECK(h.all<GapDeclared>()[0].to_seq == 7);
  CHECK(h.session->backoff().failures() == 0);
}

struct FakeCatalog : CatalogHook {
  bool dirty = true;
  int puts = 0;
  int failures = 0;
  std::int64_t platform_version = -1;
  std::vector<std::string> requested;
  HookOutcome next = HookOutcome::done;
  std::int64_t version() const override { return 7; }
  bool needs_sync(TimePoint) override { return dirty; }
  void sync_requested(std::string_view stream) override {
    requested.emplace_back(stream);
    dirty = true;
  }
  HookRequest next_request() override {
    ++puts;
    return HookRequest{"PUT", "/xep/v1/catalog", "application/json", R"({"base_version":7})"};
  }
  HookOutcome on_response(TimePoint, int status, const json::Value& body, std::string_view) override {
    if (status == 200 && next == HookOutcome::done) {
      CHECK(body.get_int("version") > 0);
      dirty = false;
    }
    if (next == HookOutcome::refused) dirty = false;
    return next;
  }
  void on_failure(TimePoint, std::optional<Seconds>) override { ++failures; }
  void on_hello(std::int64_t v) override { platform_version = v; }
};

TEST_CASE("catalog sync runs after hello and again when the platform does not know a stream") {
  FakeCatalog catalog;
  Harness h(Harness::default_config(), &catalog);
  h.queue.add(kS, 10);
  h.start();
  h.answer_hello({{kS, 0}});
  CHECK(catalog.platform_version == 7);
  REQUIRE(h.last().kind == RequestKind::catalog);
  CHECK(h.last().method == "PUT");
  CHECK(h.last().target == "/xep/v1/catalog");
  CHECK(Harness::header(h.last(), "X-XN-Node") == "gaj-01");
  h.answer(503, R"({"error":"busy"})", {{"Retry-After", "1"}});
  CHECK(catalog.failures == 1);  // the hook hears that its request got no answer
  h.advance(Seconds(1));
  h.tick();
  REQUIRE(h.last().kind == RequestKind::catalog);
  h.answer(200, R"({"version":8})");
  REQUIRE(h.last().kind == RequestKind::batch);

  h.answer(404, R"({"error":"unknown_stream","message":"not in the catalog"})");
  REQUIRE(catalog.requested == std::vector<std::string>{kS});
  CHECK(h.session->alarm_active("unknown_stream"));
  REQUIRE(h.last().kind == RequestKind::catalog);  // sync first
  h.answer(200, R"({"version":9})");
  // The stream waits for its own short back-off, then retries.
  CHECK(h.last().kind == RequestKind::catalog);
  h.advance(Millis(250));
  h.tick();
  REQUIRE(h.last().kind == RequestKind::batch);
  CHECK(Harness::first_seq(h.last()) == 1);
  h.ack_batch();
  CHECK_FALSE(h.session->alarm_active("unknown_stream"));

  // A refused slice raises an alarm and is not resent until the catalog changes.
  catalog.dirty = true;
  catalog.next = HookOutcome::refused;
  h.session->catalog_changed(h.now);
  h.drain();
  REQUIRE(h.last().kind == RequestKind::catalog);
  h.answer(422, R"({"error":"invalid","message":"items[1].purpose missing","problems":[]})");
  CHECK(h.session->alarm_active("catalog_refused"));
  CHECK(h.audits("catalog.refused").size() == 1);
  const int puts = catalog.puts;
  h.advance(Seconds(600));
  h.tick();
  CHECK(catalog.puts == puts);
}

struct CountingHealth : HealthHook {
  int reports = 0;
  std::string report(TimePoint now) override {
    ++reports;
    return "{\"node_id\":\"gaj-01\",\"time\":\"" + format_rfc3339(now) + "\"}";
  }
};

TEST_CASE("health reports: at once when the link comes up, every heartbeat, and at once on an alarm") {
  CountingHealth health;
  Harness h(Harness::default_config(), nullptr, &health);
  h.start();
  h.answer_hello({{kS, 0}}, /*heartbeat=*/30);
  CHECK(h.session->heartbeat_interval() == Seconds(30));
  REQUIRE(h.last().kind == RequestKind::health);
  CHECK(h.last().target == "/xep/v1/health");
  CHECK(health.reports == 1);
  h.answer(200, R"({"config":{"version":12}})");
  REQUIRE(!h.all<ArmTimer>().empty());
  CHECK(h.all<ArmTimer>().back().at == h.now + Seconds(30));
  h.advance(Seconds(29));
  h.tick();
  CHECK(health.reports == 1);
  h.advance(Seconds(1));
  h.tick();
  CHECK(health.reports == 2);
  h.answer(200, R"({"config":{"version":12}})");

  // A state change (another module's alarm) reports at once, not at the next beat.
  h.advance(Seconds(5));
  h.session->state_changed(h.now);
  h.drain();
  CHECK(health.reports == 3);
  h.answer(200, R"({"config":{"version":12}})");
  // The cadence restarts from the last report.
  CHECK(h.all<ArmTimer>().back().at == h.now + Seconds(30));
}

TEST_CASE("a newer configuration offered in hello or health is fetched with If-None-Match") {
  CountingHealth health;
  Harness h(Harness::default_config(), nullptr, &health);
  h.start();
  h.answer_hello({{kS, 0}}, 60, /*config_version=*/13);
  REQUIRE(h.last().kind == RequestKind::health);
  h.answer(200, R"({"config":{"version":13}})");
  REQUIRE(h.last().kind == RequestKind::config);
  CHECK(h.last().method == "GET");
  CHECK(h.last().target == "/xep/v1/config");
  CHECK(Harness::header(h.last(), "If-None-Match") == "\"12\"");
  CHECK(h.last().body->empty());
  h.answer(200, R"({"version":13,"yaml":"version: 13\n","signature":"MEUCIQ=="})");
  REQUIRE(h.all<ConfigOffered>().size() == 1);
  CHECK(h.all<ConfigOffered>()[0].version == 13);
  CHECK(h.all<ConfigOffered>()[0].body.find("\"yaml\"") != std::string::npos);

  // Rejected (bad signature): not fetched again until a newer one is offered.
  h.session->config_rejected(h.now, 13, "signature does not verify");
  h.drain();
  CHECK(h.session->alarm_active("config_refused"));
  REQUIRE(h.last().kind == RequestKind::health);  // the alarm is a state change
  const std::size_t before = h.sent();
  h.answer(200, R"({"config":{"version":13}})");
  CHECK(h.sent() == before);
  h.advance(Seconds(60));
  h.tick();
  h.answer(200, R"({"config":{"version":14}})");
  CHECK(h.last().kind == RequestKind::config);
  h.answer(200, R"({"version":14,"yaml":"version: 14\n","signature":"x"})");
  h.session->config_applied(h.now, 14, std::string(64, 'b'));
  h.drain();
  CHECK_FALSE(h.session->alarm_active("config_refused"));
  REQUIRE(h.last().kind == RequestKind::health);
  h.answer(200, R"({"config":{"version":14}})");
  // The next hello reports the running version.
  h.session->state_changed(h.now);
  h.drain();
  REQUIRE(h.last().kind == RequestKind::health);
  h.session->transport_error(h.now, h.last().request_id, ErrorClass::connect, "connection reset");
  h.drain();
  h.now = *h.session->not_before();
  h.tick();
  REQUIRE(h.last().kind == RequestKind::hello);
  auto hello = json::parse(*h.last().body);
  REQUIRE(hello.ok());
  CHECK(hello->find("config")->get_int("version") == 14);
  CHECK(hello->find("config")->get_string("sha256") == std::string(64, 'b'));
}

struct MemoryAudit : AuditHook {
  std::uint64_t acked = 0;
  std::uint64_t last = 0;
  std::uint64_t oldest_held = 1;  // events below were pruned (cannot resend)
  std::vector<std::uint64_t> acks;
  std::uint64_t acked_through() const override { return acked; }
  bool has_events_after(std::uint64_t seq) const override { return last > seq; }
  std::optional<AuditBatch> next_batch(std::uint64_t after, std::size_t max) override {
    if (after + 1 < oldest_held) return std::nullopt;
    AuditBatch b;
    b.first_seq = after + 1;
    for (std::uint64_t s = after + 1; s <= last && b.count < max; ++s, ++b.count)
      b.body += "{\"seq\":" + std::to_string(s) + "}\n";
    return b;
  }
  void acknowledged(std::uint64_t seq) override {
    acked = seq;
    acks.push_back(seq);
  }
};

TEST_CASE("audit shipping takes turns with data and repairs a broken chain when it can") {
  MemoryAudit audit;
  audit.last = 3;
  auto c = Harness::default_config();
  c.audit_linger = Millis(0);
  Harness h(c, nullptr, nullptr, &audit);
  h.queue.add(kS, 3000);
  h.start();
  h.answer_hello({{kS, 0}});
  REQUIRE(h.last().kind == RequestKind::batch);
  h.ack_batch();
  REQUIRE(h.last().kind == RequestKind::audit);  // audit's turn after a data batch
  CHECK(h.last().target == "/xep/v1/audit");
  CHECK(Harness::header(h.last(), "Content-Type") == "application/x-ndjson");
  CHECK(*h.last().body == "{\"seq\":1}\n{\"seq\":2}\n{\"seq\":3}\n");
  h.answer(200, R"({"acked_through":3})");
  CHECK(audit.acks == std::vector<std::uint64_t>{3});
  REQUIRE(h.last().kind == RequestKind::batch);
  CHECK(Harness::first_seq(h.last()) == 101);

  audit.last = 6;
  h.ack_batch();
  REQUIRE(h.last().kind == RequestKind::audit);
  h.answer(409, R"({"error":"chain_broken","expected_seq":2,"expected_prev":"ab","acked_through":1})");
  h.ack_batch();  // data's turn
  REQUIRE(h.last().kind == RequestKind::audit);
  CHECK(h.last().body->rfind("{\"seq\":2}\n", 0) == 0);  // resent from expected_seq
  h.answer(200, R"({"acked_through":6})");
  CHECK(audit.acked == 6);

  // Expected events the node no longer holds: alarm, stop, keep them.
  audit.last = 8;
  audit.oldest_held = 7;
  REQUIRE(h.last().kind == RequestKind::batch);
  h.ack_batch();
  REQUIRE(h.last().kind == RequestKind::audit);
  CHECK(h.last().body->rfind("{\"seq\":7}\n", 0) == 0);
  h.answer(409, R"({"error":"chain_broken","expected_seq":5,"expected_prev":"cd","acked_through":4})");
  CHECK(h.session->alarm_active("audit_chain_broken"));
  CHECK(h.audits("audit.chain_broken").size() == 1);
  CHECK(audit.acked == 6);  // nothing is marked shipped
  const std::size_t at_alarm = h.sent();
  audit.last = 9;
  h.session->audit_appended(h.now);
  h.drain();
  for (int i = 0; i < 5 && h.last().kind == RequestKind::batch; ++i) h.ack_batch();
  for (std::size_t i = at_alarm; i < h.sends.size(); ++i) CHECK(h.sends[i].kind != RequestKind::audit);
}

TEST_CASE("while data flows, audit events linger and travel together; an idle link ships them at once") {
  MemoryAudit audit;
  auto c = Harness::default_config();
  c.audit_linger = Seconds(5);
  Harness h(c, nullptr, nullptr, &audit);
  h.queue.add(kS, 5000);
  h.start();
  h.answer_hello({{kS, 0}});
  int audit_requests = 0;
  for (int i = 0; i < 49; ++i) {
    REQUIRE(h.last().kind == RequestKind::batch);
    audit.last += 1;  // each acknowledged batch writes an audit event
    h.advance(Millis(200));
    h.ack_batch();
    if (h.last().kind == RequestKind::audit) {
      ++audit_requests;
      h.answer(200, "{\"acked_through\":" + std::to_string(audit.last) + "}");
    }
  }
  // 49 batches over ~10 s: audit went about every 5 s, not after every batch.
  CHECK(audit_requests >= 1);
  CHECK(audit_requests <= 3);
  // The data is done: the last events ship without waiting.
  h.ack_batch();
  audit.last += 1;
  h.session->audit_appended(h.now);
  h.drain();
  REQUIRE(h.last().kind == RequestKind::audit);
  h.answer(200, "{\"acked_through\":" + std::to_string(audit.last) + "}");
  CHECK(audit.acked == audit.last);
}

TEST_CASE("a queue read is overlapped with the batch in flight (read-ahead)") {
  Harness h;
  h.queue.add(kS, 300);
  h.auto_load = false;
  h.start();
  h.answer_hello({{kS, 0}});
  REQUIRE(h.pending_loads.size() == 1);
  auto l = h.pending_loads[0];
  h.pending_loads.clear();
  CHECK(l.after_seq == 0);
  CHECK(l.max_records == 100);
  CHECK(l.max_bytes == 4194304);
  h.session->batch_loaded(h.now, l.stream, l.after_seq, h.queue.read(l));
  h.drain();
  REQUIRE(h.last().kind == RequestKind::batch);
  // While 1..100 is in flight, 101.. is read.
  REQUIRE(h.pending_loads.size() == 1);
  CHECK(h.pending_loads[0].after_seq == 100);
  l = h.pending_loads[0];
  h.pending_loads.clear();
  h.session->batch_loaded(h.now, l.stream, l.after_seq, h.queue.read(l));
  h.drain();
  const std::size_t before = h.sent();
  h.ack_batch();
  REQUIRE(h.sent() == before + 1);  // sent at once, no read in between
  CHECK(Harness::first_seq(h.last()) == 101);

  // A read-ahead made stale by a 409 gap is thrown away and read again.
  REQUIRE(h.pending_loads.size() == 1);
  l = h.pending_loads[0];
  h.pending_loads.clear();
  h.session->batch_loaded(h.now, l.stream, l.after_seq, h.queue.read(l));
  h.drain();
  for (std::uint64_t s = 51; s <= 100; ++s) h.queue.records[kS][s] = test::record_line(s);
  h.answer(409, R"({"error":"gap","expected_seq":51,"acked_through":50})");
  REQUIRE(h.pending_loads.size() == 1);
  CHECK(h.pending_loads[0].after_seq == 50);
}

TEST_CASE("hello max_batch_bytes lowers the read size; load failures raise an alarm and retry") {
  Harness h;
  h.queue.add(kS, 10);
  h.auto_load = false;
  h.start();
  h.answer_hello({{kS, 0}}, 60, 12, /*max_bytes=*/1000);
  REQUIRE(h.pending_loads.size() == 1);
  CHECK(h.pending_loads[0].max_bytes == 1000);
  CHECK(h.session->max_batch_bytes() == 1000);
  h.session->load_failed(h.now, kS, "disk I/O error");
  h.pending_loads.clear();
  h.drain();
  CHECK(h.session->alarm_active("queue_read_failed"));
  CHECK(h.pending_loads.empty());
  h.advance(Millis(250));
  h.tick();
  REQUIRE(h.pending_loads.size() == 1);
  auto l = h.pending_loads[0];
  h.session->batch_loaded(h.now, l.stream, l.after_seq, h.queue.read(l));
  h.drain();
  CHECK_FALSE(h.session->alarm_active("queue_read_failed"));
  CHECK(h.last().kind == RequestKind::batch);
}

TEST_CASE("answers that break the contract back off instead of looping") {
  Harness h;
  h.queue.add(kS, 10);
  h.start();
  h.answer(200, R"({"server_time":"2026-03-23T08:00:01Z"})");  // hello without streams
  CHECK(!h.session->link_established());
  CHECK(h.session->backoff().failures() == 1);
  h.now = *h.session->not_before();
  h.tick();
  h.answer_hello({{kS, 0}});
  h.answer(200, "not json");
  CHECK(h.session->backoff().failures() == 1);
  h.now = *h.session->not_before();
  h.tick();
  REQUIRE(h.last().kind == RequestKind::batch);
  h.answer(405, R"({"error":"method_not_allowed"})");
  CHECK(h.session->alarm_active("platform_defect"));
  // A response for a request that is not in flight is ignored.
  const std::size_t before = h.sent();
  h.session->response(h.now, 424242, 200, {}, "{}");
  h.drain();
  CHECK(h.sent() == before);
}

TEST_CASE("link_down forgets the request in flight and link_up starts with hello") {
  Harness h;
  h.queue.add(kS, 10);
  h.start();
  h.answer_hello({{kS, 0}});
  const auto id = h.last().request_id;
  h.session->link_down(h.now, "shutdown");
  h.drain();
  CHECK_FALSE(h.session->request_in_flight());
  h.session->response(h.now, id, 200, {}, R"({"acked_through":10})");
  h.drain();
  CHECK(h.all<Acknowledge>().empty());
  h.session->link_up(h.now);
  h.drain();
  CHECK(h.last().kind == RequestKind::hello);
}

}  // TEST_SUITE
