#include <doctest/doctest.h>

#include <chrono>

#include "io/queue/group_linger.hpp"

using namespace std::chrono_literals;
using xnode::io::GroupLinger;
using D = GroupLinger::Duration;

TEST_SUITE("io::GroupLinger") {
  TEST_CASE("a lone submitter is never held: no linger without evidence that it gathers") {
    GroupLinger g(5ms);
    for (int i = 0; i < 5; ++i) {
      CHECK(g.wait(1, false) == D::zero());
      g.gathered(false, D::zero(), 1);
      g.committed(2ms);
    }
  }

  TEST_CASE("after a group of several, a lone start waits about one commit for the others") {
    GroupLinger g(5ms);
    g.gathered(false, D::zero(), 4);  // four submits were queued when the group began
    g.committed(2ms);
    CHECK(g.wait(1, false) == D(2ms));
    // ... but not when the others are already queued or still being compressed.
    CHECK(g.wait(3, false) == D::zero());
    CHECK(g.wait(1, true) == D::zero());
  }

  TEST_CASE("a wait that gathered keeps twice the last arrival's time, bounded by queue.linger") {
    GroupLinger g(5ms);
    g.gathered(true, 300us, 4);
    CHECK(g.current() == D(600us));
    CHECK(g.wait(1, false) == D(600us));
    g.gathered(true, 4ms, 4);
    CHECK(g.wait(1, false) == D(5ms));
    g.gathered(true, D::zero(), 2);  // arrived at once: the smallest useful linger
    CHECK(g.wait(1, false) == D(100us));
  }

  TEST_CASE("a wait that gathered nothing drops the linger") {
    GroupLinger g(5ms);
    g.gathered(true, 1ms, 4);
    REQUIRE(g.wait(1, false) == D(2ms));
    g.gathered(false, D::zero(), 1);
    g.committed(2ms);
    CHECK(g.wait(1, false) == D::zero());
  }

  TEST_CASE("queue.linger 0 never waits") {
    GroupLinger g(D::zero());
    g.gathered(true, 1ms, 4);
    g.committed(2ms);
    CHECK(g.wait(1, false) == D::zero());
  }

  TEST_CASE("a probe is never longer than queue.linger") {
    GroupLinger g(1ms);
    g.gathered(false, D::zero(), 4);
    g.committed(30ms);  // a slow disk
    CHECK(g.wait(1, false) == D(1ms));
  }
}
