// The adapters between the uplink session and the audit store / health model, over the real
// modules (the audit store on a real SQLite file).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "app/uplink_hooks.hpp"

using namespace xnode;
using namespace std::chrono_literals;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "xnode-hooks-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    m_path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  std::string file(const std::string& name) const { return (m_path / name).string(); }

 private:
  std::filesystem::path m_path;
};

}  // namespace

TEST_SUITE("app::uplink_hooks") {

TEST_CASE("AuditStoreHook ships the store's chain as §3.6 NDJSON and records the acknowledgement") {
  TempDir dir;
  io::AuditStoreOptions o;
  o.path = dir.file("audit.db");
  auto opened = io::AuditStore::open(o);
  REQUIRE(opened.ok());
  io::AuditStore& store = *opened.value();
  app::AuditStoreHook hook(store);
  CHECK(hook.acked_through() == 0);
  CHECK_FALSE(hook.has_events_after(0));

  const TimePoint t0 = from_unix_ms(1'790'000'000'000);
  for (int i = 0; i < 5; ++i) {
    uplink::AuditEvent e{"batch.acked", "s:" + std::to_string(i), "ok", json::Value::object()};
    REQUIRE(store.append(app::to_audit_entry(e), t0 + std::chrono::seconds(i)) == io::AppendResult::queued);
  }
  REQUIRE(store.flush(10s));
  CHECK(hook.has_events_after(0));
  CHECK_FALSE(hook.has_events_after(5));

  auto batch = hook.next_batch(1, 3);
  REQUIRE(batch.has_value());
  CHECK(batch->first_seq == 2);
  CHECK(batch->count == 3);
  // Each line is a full event whose hash verifies and whose prev chains to the one before.
  std::string prev;
  std::size_t pos = 0;
  int lines = 0;
  while (pos < batch->body.size()) {
    const std::size_t nl = batch->body.find('\n', pos);
    REQUIRE(nl != std::string::npos);
    auto e = audit::parse_line(std::string_view(batch->body).substr(pos, nl - pos));
    REQUIRE(e.ok());
    CHECK(e->actor == "xnoded");
    CHECK(e->action == "batch.acked");
    CHECK(e->hash == audit::compute_hash(e.value()));
    if (!prev.empty()) CHECK(e->prev == prev);
    prev = e->hash;
    pos = nl + 1;
    ++lines;
  }
  CHECK(lines == 3);

  hook.acknowledged(4);
  CHECK(hook.acked_through() == 4);
  CHECK(store.shipped_through() == 4);
}

TEST_CASE("feed_health turns the session's facts into the health model's link state") {
  const TimePoint t0 = from_unix_ms(1'790'000'000'000);
  health::HealthModel model({"gaj-01", "0.3.1", "https://xchg.example.gov:8443"}, t0);

  uplink::HealthSample lost;
  lost.kind = uplink::HealthSample::Kind::link_lost;
  lost.at = t0 + 1s;
  lost.error = uplink::ErrorClass::connect;
  lost.detail = "connect: connection refused";
  app::feed_health(model, lost);
  uplink::HealthSample failed = lost;
  failed.kind = uplink::HealthSample::Kind::request_failed;
  app::feed_health(model, failed);
  CHECK(model.link_state() == health::LinkState::down);
  CHECK(model.errors_24h(t0 + 2s, health::ErrorClass::connect) == 1);

  uplink::HealthSample up;
  up.kind = uplink::HealthSample::Kind::link_restored;
  up.at = t0 + 10s;
  app::feed_health(model, up);
  uplink::HealthSample clock;
  clock.kind = uplink::HealthSample::Kind::clock_offset;
  clock.at = t0 + 10s;
  clock.clock_offset = Millis(-140);
  app::feed_health(model, clock);
  uplink::HealthSample ok;
  ok.kind = uplink::HealthSample::Kind::request_ok;
  ok.at = t0 + 11s;
  ok.rtt = Millis(12);
  app::feed_health(model, ok);
  CHECK(model.link_state() == health::LinkState::up);
  REQUIRE(model.clock_offset_ms().has_value());
  CHECK(*model.clock_offset_ms() == -140);
  REQUIRE(model.last_outage().has_value());

  app::feed_health(model, uplink::Alarm{"platform_forbidden", true, "node disabled"}, t0 + 12s);
  model.evaluate(t0 + 12s);
  CHECK(model.alarm_active(health::AlarmId::platform_forbidden));

  app::HealthModelHook hook(model);
  auto report = json::parse(hook.report(t0 + 13s));
  REQUIRE(report.ok());
  CHECK(report->get_string("node_id") == "gaj-01");
  REQUIRE(report->find("link") != nullptr);
}

TEST_CASE("feed_health: a success after HTTP failures brings a degraded link back up") {
  const TimePoint t0 = from_unix_ms(1'790'000'000'000);
  health::HealthModel model({"gaj-01", "0.3.1", "https://xchg.example.gov:8443"}, t0);
  uplink::HealthSample up;
  up.kind = uplink::HealthSample::Kind::link_restored;
  up.at = t0 + 1s;
  app::feed_health(model, up);
  model.take_state_changed();

  uplink::HealthSample busy;
  busy.kind = uplink::HealthSample::Kind::request_failed;
  busy.at = t0 + 2s;
  busy.error = uplink::ErrorClass::http_5xx;
  busy.detail = "batch: HTTP 503 busy";
  app::feed_health(model, busy);
  CHECK(model.link_state() == health::LinkState::degraded);
  CHECK(model.take_state_changed());

  uplink::HealthSample ok;
  ok.kind = uplink::HealthSample::Kind::request_ok;
  ok.at = t0 + 4s;
  ok.rtt = Millis(12);
  app::feed_health(model, ok);
  CHECK(model.link_state() == health::LinkState::up);
  CHECK(model.take_state_changed());  // the platform hears at once that the link works again
  CHECK_FALSE(model.last_outage().has_value());  // degraded is no outage
  auto report = json::parse(app::HealthModelHook(model).report(t0 + 5s));
  REQUIRE(report.ok());
  CHECK(report->find("link")->get_string("state") == "up");
  CHECK(report->find("link")->find("cause") == nullptr);
}

}  // TEST_SUITE
