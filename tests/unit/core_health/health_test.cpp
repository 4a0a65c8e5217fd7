#include <doctest/doctest.h>

#include <set>

#include "core/health/health_model.hpp"

using namespace xnode;
using namespace xnode::health;
using namespace std::chrono_literals;

namespace {

const TimePoint t0 = from_unix_ms(1774224000000);  // 2026-03-23T00:00:00Z

HealthModel make_model(AlarmThresholds thresholds = {}) {
  HealthOptions options;
  options.thresholds = thresholds;
  return HealthModel({"gaj-01", "0.3.1", "https://xchg.example.gov:8443"}, t0, options);
}

bool has_transition(const std::vector<AlarmTransition>& ts, AlarmId id, bool raised) {
  for (const auto& t : ts)
    if (t.id == id && t.raised == raised) return true;
  return false;
}

// Every member of `spec` is in `actual` with the same JSON type; null in either matches anything
// (a value not known yet). Arrays are compared through their first element.
void check_shape(const json::Value& spec, const json::Value& actual, const std::string& path) {
  if (spec.is_null() || actual.is_null()) return;
  INFO("at " << path);
  REQUIRE(spec.type() == actual.type());
  if (spec.is_object()) {
    for (const auto& [key, member] : spec.as_object()) {
      const json::Value* a = actual.find(key);
      INFO("member " << path << "." << key);
      REQUIRE(a != nullptr);
      check_shape(member, *a, path + "." + key);
    }
  } else if (spec.is_array() && !spec.as_array().empty() && !actual.as_array().empty()) {
    check_shape(spec.as_array()[0], actual.as_array()[0], path + "[0]");
  } else if (spec.is_number()) {
    CHECK(actual.is_integer());
  }
}

}  // namespace

TEST_SUITE("core::SampleWindow") {
  TEST_CASE("RTT percentiles by nearest rank") {
    SampleWindow w(256, 5min);
    CHECK_FALSE(w.percentile(t0, 50).has_value());
    for (int i = 100; i >= 1; --i) w.add(t0, i);  // 1..100 ms, in any order
    CHECK(w.percentile(t0, 50) == 50);
    CHECK(w.percentile(t0, 95) == 95);
    CHECK(w.percentile(t0, 100) == 100);
    w.add(t0, 1000);
    CHECK(w.percentile(t0, 95) == 96);
  }
  TEST_CASE("old samples and samples past the count leave the window") {
    SampleWindow w(4, 5min);
    for (int i = 0; i < 10; ++i) w.add(t0, 10 + i);  // keeps 16..19
    CHECK(w.size(t0) == 4);
    CHECK(w.percentile(t0, 50) == 17);
    SampleWindow aged(256, 5min);
    aged.add(t0, 500);
    aged.add(t0 + 4min, 10);
    CHECK(aged.percentile(t0 + 4min, 95) == 500);
    CHECK(aged.percentile(t0 + 6min, 95) == 10);  // the 500 ms sample is older than 5 min
    CHECK(aged.size(t0 + 10min) == 0);
  }
}

TEST_SUITE("core::RollingSum") {
  TEST_CASE("24 h counts roll") {
    RollingSum errors;  // 24 h in 15 min buckets
    errors.add(t0);
    errors.add(t0 + 1h, 2);
    errors.add(t0 + 23h);
    CHECK(errors.total(t0 + 23h) == 4);
    CHECK(errors.total(t0 + 24h + 15min) == 3);  // the first one rolled out
    CHECK(errors.total(t0 + 25h + 15min) == 1);
    CHECK(errors.total(t0 + 48h) == 0);
    errors.add(t0 + 49h);
    CHECK(errors.total(t0 + 49h) == 1);  // a reused bucket starts from zero
  }
  TEST_CASE("intervals are spread over buckets and roll out piece by piece") {
    RollingSum downtime;
    downtime.add_interval_ms(t0 + 10min, t0 + 40min);  // 30 min across three buckets
    CHECK(downtime.total(t0 + 1h) == 30 * 60 * 1000);
    CHECK(downtime.total(t0 + 24h + 10min) == 25 * 60 * 1000);  // its 5 min in bucket 00:00-00:15 rolled out
    CHECK(downtime.window_overlap_ms(t0 + 1h, t0 + 50min, t0 + 1h) == 10 * 60 * 1000);
  }
}

TEST_SUITE("core::Alarms") {
  TEST_CASE("hysteresis: raise after the hold, clear only after the condition is gone for clear_after") {
    AlarmTracker a;
    auto up = [&](TimePoint now, bool c) { return a.update(AlarmId::clock_offset, Severity::warning, now, c, 30s, 60s, "x"); };
    CHECK_FALSE(up(t0, true));
    CHECK_FALSE(up(t0 + 29s, true));
    auto raised = up(t0 + 30s, true);
    REQUIRE(raised);
    CHECK(raised->raised);
    CHECK(raised->audit_action() == std::string("alarm.raised"));
    CHECK(raised->log_level() == log::Level::warning);
    CHECK(json::serialize(raised->audit_detail()) == R"({"id":"clock_offset","severity":"warning","text":"x"})");
    CHECK_FALSE(up(t0 + 40s, false));
    CHECK_FALSE(up(t0 + 90s, true));   // back before clear_after: stays raised, no flapping
    CHECK_FALSE(up(t0 + 100s, false));
    CHECK_FALSE(up(t0 + 159s, false));
    auto cleared = up(t0 + 160s, false);
    REQUIRE(cleared);
    CHECK_FALSE(cleared->raised);
    CHECK(cleared->log_level() == log::Level::notice);
    CHECK(cleared->describe() == "alarm cleared: clock_offset: x");
    CHECK(parse_alarm_name("audit_quota") == AlarmId::audit_quota);
    CHECK_FALSE(parse_alarm_name("nope"));
  }
}

TEST_SUITE("core::HealthModel") {
  TEST_CASE("link down -> alarm after the threshold -> back up -> cleared after clear_after, with last_outage") {
    AlarmThresholds th;
    th.link_down_after = 2min;
    th.clear_after = 1min;
    auto m = make_model(th);
    m.link_up(t0, 35ms);
    CHECK(m.take_state_changed());
    CHECK(m.evaluate(t0).empty());
    CHECK_FALSE(m.take_state_changed());

    const TimePoint down_at = t0 + 1h;
    m.link_down(down_at, "connect: connection refused");
    m.error(down_at, ErrorClass::connect);
    CHECK(m.take_state_changed());  // the state change itself
    CHECK(m.evaluate(down_at + 119s).empty());
    m.link_down(down_at + 60s, "connect: timed out");  // still down; the outage keeps its first cause
    auto raised = m.evaluate(down_at + 2min);
    REQUIRE(raised.size() == 1);
    CHECK(raised[0].id == AlarmId::link_down);
    CHECK(raised[0].raised);
    CHECK(raised[0].severity == Severity::critical);
    CHECK(raised[0].log_level() == log::Level::error);
    CHECK(raised[0].text == "link down for 2 min: connect: timed out");
    CHECK(m.take_state_changed());
    CHECK(m.status_line(down_at + 2min) == "link down 120 s (connect: timed out), queue 0 (0 s), 1 alarm: link_down");

    const TimePoint back_at = down_at + 10min;
    m.link_up(back_at, 40ms);
    CHECK(m.take_state_changed());  // one report, at once, with last_outage
    REQUIRE(m.last_outage().has_value());
    CHECK(m.last_outage()->start == down_at);
    CHECK(m.last_outage()->end == back_at);
    CHECK(m.last_outage()->cause == "connect: connection refused");
    CHECK(m.evaluate(back_at).empty());        // the caller evaluates after every event it feeds
    CHECK(m.evaluate(back_at + 59s).empty());  // hysteresis: still raised
    CHECK(m.alarm_active(AlarmId::link_down));
    auto cleared = m.evaluate(back_at + 60s);
    REQUIRE(cleared.size() == 1);
    CHECK_FALSE(cleared[0].raised);
    CHECK_FALSE(m.alarm_active(AlarmId::link_down));

    auto report = m.report_json(back_at + 60s);
    const json::Value& link = *report.find("link");
    CHECK(link.get_string("state") == "up");
    CHECK(link.get_string("since") == format_rfc3339(back_at));
    CHECK(link.get_int("reconnects_24h") == 1);
    CHECK(link.get_int("downtime_24h_s") == 600);
    CHECK(link.get_int("tls_handshake_ms") == 40);
    CHECK(link.find("errors_24h")->get_int("connect") == 1);
    const json::Value& outage = *link.find("last_outage");
    CHECK(outage.get_string("start") == "2026-03-23T01:00:00.000Z");
    CHECK(outage.get_string("end") == "2026-03-23T01:10:00.000Z");
    CHECK(outage.get_string("cause") == "connect: connection refused");
    CHECK(report.find("alarms")->as_array().empty());

    // A day later the outage has rolled out of the 24 h figures; last_outage stays.
    auto later = m.report_json(back_at + 25h);
    CHECK(later.find("link")->get_int("downtime_24h_s") == 0);
    CHECK(later.find("link")->get_int("reconnects_24h") == 0);
    CHECK(later.find("link")->find("last_outage")->is_object());
  }

  TEST_CASE("a link that never comes up raises link_down; current downtime counts") {
    auto m = make_model();
    m.link_down(t0 + 5s, "dns: host not found");
    CHECK(m.evaluate(t0 + 1min).empty());
    auto ts = m.evaluate(t0 + 3min);
    CHECK(has_transition(ts, AlarmId::link_down, true));
    CHECK(m.downtime_24h_s(t0 + 3min) == 175);
    CHECK_FALSE(m.last_outage().has_value());
    m.link_up(t0 + 4min);
    CHECK(m.reconnects_24h(t0 + 4min) == 0);  // the first connection is not a reconnect
    CHECK(m.last_outage().has_value());
  }

  TEST_CASE("RTT p50/p95 in the report and the status line") {
    auto m = make_model();
    m.link_up(t0, 30ms);
    for (int i = 1; i <= 100; ++i) m.request_completed(t0 + std::chrono::seconds(i), Millis(i));
    const TimePoint now = t0 + 101s;
    auto rtt = *m.report_json(now).find("link")->find("rtt_ms");
    CHECK(rtt.get_int("p50") == 50);
    CHECK(rtt.get_int("p95") == 95);
    CHECK(m.status_line(now) == "link up 50ms p50, queue 0 (0 s), 0 alarms");
    // Five minutes later without requests the window is empty: null, not a stale figure.
    auto stale = *m.report_json(now + 6min).find("link")->find("rtt_ms");
    CHECK(stale.find("p50")->is_null());
  }

  TEST_CASE("24 h error counts by class roll") {
    auto m = make_model();
    m.error(t0, ErrorClass::tls);
    m.error(t0 + 2h, ErrorClass::http_5xx);
    m.error(t0 + 2h, ErrorClass::http_5xx);
    m.error(t0 + 3h, ErrorClass::timeout);
    CHECK(m.errors_24h(t0 + 3h, ErrorClass::tls) == 1);
    CHECK(m.errors_24h(t0 + 3h, ErrorClass::http_5xx) == 2);
    CHECK(m.errors_24h(t0 + 24h + 30min, ErrorClass::tls) == 0);
    CHECK(m.errors_24h(t0 + 24h + 30min, ErrorClass::http_5xx) == 2);
    CHECK(m.errors_24h(t0 + 27h, ErrorClass::timeout) == 0);
    auto errors = *m.report_json(t0 + 3h).find("link")->find("errors_24h");
    CHECK(json::serialize(errors) == R"({"dns":0,"connect":0,"tls":1,"http_4xx":0,"http_5xx":2,"timeout":1})");
  }

  TEST_CASE("clock offset from a platform 5 s ahead, measured at the RTT midpoint") {
    auto m = make_model();
    const TimePoint sent = t0;
    const TimePoint received = t0 + 200ms;
    // The platform read its clock at our t0+100ms, and its clock is 5 s ahead.
    m.hello_answered(sent, received, t0 + 100ms + 5s);
    CHECK(m.clock_offset_ms() == 5000);
    auto ts = m.evaluate(t0 + 1s);
    REQUIRE(has_transition(ts, AlarmId::clock_offset, true));
    CHECK(ts[0].text == "clock offset 5000 ms from the platform (limit ±2000 ms); check NTP");
    CHECK(m.report_json(t0 + 1s).find("link")->get_int("clock_offset_ms") == 5000);
    // Behind by 1.5 s is within limits: cleared after clear_after.
    m.hello_answered(t0 + 10s, t0 + 10s + 100ms, t0 + 10s + 50ms - 1500ms);
    CHECK(m.clock_offset_ms() == -1500);
    CHECK(m.evaluate(t0 + 11s).empty());
    CHECK(has_transition(m.evaluate(t0 + 11s + 1min), AlarmId::clock_offset, false));
  }

  TEST_CASE("a client certificate expiring in 10 days raises cert_expiring") {
    auto m = make_model();
    m.set_tls(t0 + 24h * 10 + 1h, t0 + 7 * 24h);
    CHECK(m.cert_days_left(t0) == 10);
    auto ts = m.evaluate(t0);
    REQUIRE(ts.size() == 1);
    CHECK(ts[0].id == AlarmId::cert_expiring);
    CHECK(ts[0].text.find("client certificate expires in 10 days") == 0);
    auto tls = *m.report_json(t0).find("tls");
    CHECK(tls.get_int("days_left") == 10);
    CHECK(tls.get_string("client_cert_expires") == "2026-04-02T01:00:00.000Z");
    CHECK(tls.get_string("crl_next_update") == "2026-03-30T00:00:00.000Z");
    // A certificate with 200 days left raises nothing; a renewed one clears after clear_after.
    m.set_tls(t0 + 24h * 200, t0 + 7 * 24h);
    CHECK(m.evaluate(t0 + 1min).empty());
    CHECK(has_transition(m.evaluate(t0 + 2min), AlarmId::cert_expiring, false));
    // Past its next update, the CRL is stale.
    CHECK(has_transition(m.evaluate(t0 + 8 * 24h), AlarmId::crl_stale, true));
  }

  TEST_CASE("queue, disk, sources, catalog, config, quarantine, audit and 403 alarms") {
    AlarmThresholds th;
    th.backlog_age_max = 1h;
    th.disk_free_min_bytes = 1ull << 30;
    auto m = make_model(th);
    m.link_up(t0);
    QueueSnapshot q;
    q.records = 1200;
    q.bytes = 640000;
    q.oldest_pending_at = t0 - 2h;
    q.streams["101003/11540100MB00000008-00001"] = {1200, 41999};
    m.set_queue(q);
    m.set_disk_free(100ull << 20);
    m.set_source({"enterprise-spool", "error", t0 - 1h, "spool directory missing"});
    m.set_catalog(8, {{"101003/11540100MB00000008-00001", "daily", t0 - 72h}});
    m.catalog_refused("422 invalid: items[1].purpose missing");
    m.set_config(12, std::string(64, 'a'), std::nullopt);
    m.set_quarantine(3);
    m.set_audit_chain_broken("event 17: hash mismatch (edited)");
    m.platform_forbidden(t0, "identity_mismatch: X-XN-Node gaj-02 differs from the certificate CN gaj-01");
    auto ts = m.evaluate(t0);
    std::set<std::string> raised;
    for (const auto& t : ts) raised.insert(alarm_name(t.id));
    CHECK(raised == std::set<std::string>{"backlog_age", "disk_free", "overdue_resources", "platform_forbidden",
                                          "catalog_refused", "audit_chain_broken", "source_error"});
    CHECK(m.status_line(t0).find("link up, queue 1200 (7200 s), 7 alarms: backlog_age, disk_free") == 0);
    auto report = m.report_json(t0);
    CHECK(report.find("queue")->find("streams")->find("101003/11540100MB00000008-00001")->get_int("acked_through") == 41999);
    CHECK(report.find("quarantine")->get_int("records") == 3);
    CHECK(report.find("catalog")->find("overdue")->as_array()[0].get_string("update_cycle") == "daily");
    CHECK(report.find("sources")->as_array()[0].get_string("last_error") == "spool directory missing");
    CHECK(report.find("config")->find("last_error")->is_null());
    const auto& alarms = report.find("alarms")->as_array();
    REQUIRE(alarms.size() == 7);
    bool forbidden_critical = false;
    for (const auto& a : alarms)
      if (a.get_string("id") == "platform_forbidden") forbidden_critical = a.get_string("severity") == "critical";
    CHECK(forbidden_critical);

    // A successful request ends the 403 condition; the alarm clears after clear_after.
    m.platform_accepted(t0 + 5min);
    CHECK(m.evaluate(t0 + 5min).empty());
    CHECK(has_transition(m.evaluate(t0 + 6min), AlarmId::platform_forbidden, false));
  }

  TEST_CASE("the report has the shape of platform-api.md §3.5") {
    // The example of §3.5 with its placeholders filled in.
    auto spec = json::parse(R"({"node_id": "gaj-01", "time": "…", "uptime_s": 86400,
 "software": {"version": "0.3.1"}, "config": {"version": 12, "sha256": "…", "last_error": null},
 "link": {"state": "up", "since": "…", "endpoint": "https://…", "rtt_ms": {"p50": 12, "p95": 40},
          "tls_handshake_ms": 35, "reconnects_24h": 3, "downtime_24h_s": 120,
          "errors_24h": {"dns": 0, "connect": 2, "tls": 1, "http_4xx": 0, "http_5xx": 0, "timeout": 0},
          "clock_offset_ms": -140,
          "last_outage": {"start": "…", "end": "…", "cause": "connect: connection refused"}},
 "tls": {"client_cert_expires": "…", "days_left": 214, "crl_next_update": "…"},
 "queue": {"records": 0, "bytes": 0, "oldest_age_s": 0, "disk_free_bytes": 1234567890,
           "streams": {"101003/11540100MB00000008-00001": {"pending": 0, "acked_through": 41999}}},
 "sources": [{"name": "enterprise-spool", "state": "ok", "last_ok": "…", "last_error": null}],
 "catalog": {"version": 8, "overdue": [{"code": "…", "update_cycle": "daily", "last_update": "…"}]},
 "quarantine": {"records": 0},
 "alarms": [{"id": "cert_expiring", "severity": "warning", "since": "…", "text": "…"}]})");
    REQUIRE(spec.ok());
    auto m = make_model();
    m.link_up(t0, 35ms);
    m.link_down(t0 + 1h, "connect: connection refused");
    m.link_up(t0 + 1h + 2min, 35ms);
    m.request_completed(t0 + 2h, 12ms);
    m.hello_answered(t0 + 2h, t0 + 2h + 20ms, t0 + 2h - 130ms);
    m.set_tls(t0 + 24h * 20, t0 + 24h);
    m.set_config(12, std::string(64, 'b'), std::nullopt);
    QueueSnapshot q;
    q.streams["101003/11540100MB00000008-00001"] = {0, 41999};
    m.set_queue(q);
    m.set_disk_free(1234567890);
    m.set_source({"enterprise-spool", "ok", t0 + 2h, std::nullopt});
    m.set_catalog(8, {{"101003/11540100MB00000008-00001", "daily", t0 - 48h}});
    m.evaluate(t0 + 2h);
    auto report = m.report_json(t0 + 2h);
    check_shape(*spec, report, "report");
    // And nothing the spec does not name, except the link's cause (fields may be added).
    std::set<std::string> top;
    for (const auto& [key, v] : report.as_object()) top.insert(key);
    CHECK(top == std::set<std::string>{"node_id", "time", "uptime_s", "software", "config", "link", "tls", "queue",
                                       "sources", "catalog", "quarantine", "alarms"});
    CHECK(report.get_string("time") == "2026-03-23T02:00:00.000Z");
    CHECK(report.get_int("uptime_s") == 7200);
    CHECK(report.find("link")->get_int("clock_offset_ms") == -140);
    CHECK(report.find("link")->get_int("downtime_24h_s") == 120);
    // Round trip through the serializer: valid JSON the platform can read.
    CHECK(json::parse(json::serialize(report)).ok());
  }
}
