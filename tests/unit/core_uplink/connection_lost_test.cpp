// The liveness probe's event (issue #5): a dead idle connection ends the link like a network error.
#include <doctest/doctest.h>

#include "harness.hpp"

using namespace xnode;
using namespace xnode::uplink;
using xnode::uplink::test::Harness;

TEST_SUITE("core::uplink::Session") {

TEST_CASE("connection_lost: ignored while a request is in flight, ends an idle link with back-off and hello") {
  Harness h;
  const std::string stream = Harness::kStream;
  h.queue.add(stream, 10);
  h.start();
  h.answer_hello({{stream, 0}});
  REQUIRE(h.last().kind == RequestKind::batch);
  REQUIRE(h.session->request_in_flight());

  // The request's own answer or error decides while one is in flight.
  h.session->connection_lost(h.now, ErrorClass::connect, "idle connection lost");
  h.drain();
  CHECK(h.session->link_established());
  CHECK_FALSE(h.session->not_before().has_value());
  h.ack_batch();
  for (int i = 0; i < 10 && h.session->request_in_flight(); ++i) h.answer(200, "{}");
  REQUIRE_FALSE(h.session->request_in_flight());
  REQUIRE(h.session->link_established());

  h.jitter = {0.999999};
  h.session->connection_lost(h.now, ErrorClass::connect, "idle connection to https://p:443 lost: Connection timed out");
  h.drain();
  CHECK_FALSE(h.session->link_established());
  REQUIRE(h.session->not_before().has_value());
  CHECK(*h.session->not_before() - h.now == Millis(250));
  bool lost = false;
  for (const auto& s : h.all<HealthSample>())
    lost = lost || (s.kind == HealthSample::Kind::link_lost && s.detail.find("Connection timed out") != std::string::npos);
  CHECK(lost);

  // Down already: a second report changes nothing.
  const TimePoint not_before = *h.session->not_before();
  h.session->connection_lost(h.now, ErrorClass::connect, "again");
  h.drain();
  CHECK(*h.session->not_before() == not_before);

  h.now = not_before;
  h.tick();
  CHECK(h.last().kind == RequestKind::hello);
}

}  // TEST_SUITE
