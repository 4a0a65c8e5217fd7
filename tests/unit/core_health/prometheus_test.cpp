// The Prometheus exposition (exact text) and the metrics endpoint's request classification.
#include <doctest/doctest.h>

#include "core/health/health_model.hpp"
#include "core/health/metrics_http.hpp"
#include "core/health/prometheus.hpp"

using namespace xnode;
using namespace xnode::health;
using namespace std::chrono_literals;

namespace {

const TimePoint t0 = from_unix_ms(1774224000000);  // 2026-03-23T00:00:00Z

// Checked by hand against the events fed below (see the test case).
constexpr const char* kExpected = R"EXP(# HELP xnode_info Always 1; the labels name the node and its software version.
# TYPE xnode_info gauge
xnode_info{node="gaj-01",version="0.3.1"} 1
# HELP xnode_uptime_seconds Seconds since the daemon started.
# TYPE xnode_uptime_seconds gauge
xnode_uptime_seconds 100
# HELP xnode_link_state 1 for the link's current state (up, degraded, down), 0 for the others.
# TYPE xnode_link_state gauge
xnode_link_state{state="up"} 1
xnode_link_state{state="degraded"} 0
xnode_link_state{state="down"} 0
# HELP xnode_link_state_seconds Seconds the link has been in its current state.
# TYPE xnode_link_state_seconds gauge
xnode_link_state_seconds 10
# HELP xnode_link_rtt_seconds Request round trip over the recent window, by quantile.
# TYPE xnode_link_rtt_seconds gauge
xnode_link_rtt_seconds{quantile="0.5"} 0.012
xnode_link_rtt_seconds{quantile="0.95"} 0.02
# HELP xnode_link_tls_handshake_seconds Duration of the last TLS handshake.
# TYPE xnode_link_tls_handshake_seconds gauge
xnode_link_tls_handshake_seconds 0.041
# HELP xnode_link_reconnects_24h Reconnects over the last 24 h.
# TYPE xnode_link_reconnects_24h gauge
xnode_link_reconnects_24h 1
# HELP xnode_link_downtime_24h_seconds Link downtime over the last 24 h, the current outage included.
# TYPE xnode_link_downtime_24h_seconds gauge
xnode_link_downtime_24h_seconds 30
# HELP xnode_link_errors_24h Failed requests over the last 24 h, by error class.
# TYPE xnode_link_errors_24h gauge
xnode_link_errors_24h{class="dns"} 0
xnode_link_errors_24h{class="connect"} 1
xnode_link_errors_24h{class="tls"} 0
xnode_link_errors_24h{class="http_4xx"} 0
xnode_link_errors_24h{class="http_5xx"} 0
xnode_link_errors_24h{class="timeout"} 0
# HELP xnode_link_last_outage_end_timestamp_seconds Unix time the last outage ended.
# TYPE xnode_link_last_outage_end_timestamp_seconds gauge
xnode_link_last_outage_end_timestamp_seconds 1774224090
# HELP xnode_link_last_outage_seconds Duration of the last outage.
# TYPE xnode_link_last_outage_seconds gauge
xnode_link_last_outage_seconds 30
# HELP xnode_clock_offset_seconds Platform clock minus node clock, measured at hello.
# TYPE xnode_clock_offset_seconds gauge
xnode_clock_offset_seconds -0.14
# HELP xnode_tls_client_cert_expiry_seconds Seconds until the client certificate expires (negative: expired).
# TYPE xnode_tls_client_cert_expiry_seconds gauge
xnode_tls_client_cert_expiry_seconds 863900
# HELP xnode_tls_crl_next_update_timestamp_seconds Unix time of the CRL's next update.
# TYPE xnode_tls_crl_next_update_timestamp_seconds gauge
xnode_tls_crl_next_update_timestamp_seconds 1774310400
# HELP xnode_queue_records Records queued for delivery.
# TYPE xnode_queue_records gauge
xnode_queue_records 5
# HELP xnode_queue_bytes Bytes of records queued for delivery.
# TYPE xnode_queue_bytes gauge
xnode_queue_bytes 2048
# HELP xnode_queue_oldest_age_seconds Age of the oldest queued record (0: queue empty).
# TYPE xnode_queue_oldest_age_seconds gauge
xnode_queue_oldest_age_seconds 20
# HELP xnode_stream_pending_records Records queued per stream (resource code).
# TYPE xnode_stream_pending_records gauge
xnode_stream_pending_records{stream="a\"b\\c\nd"} 5
# HELP xnode_stream_acked_through The platform's acknowledged sequence number per stream.
# TYPE xnode_stream_acked_through gauge
xnode_stream_acked_through{stream="a\"b\\c\nd"} 10
# HELP xnode_disk_free_bytes Free space on the state volume.
# TYPE xnode_disk_free_bytes gauge
xnode_disk_free_bytes 1073741824
# HELP xnode_quarantine_records Records kept in local quarantine.
# TYPE xnode_quarantine_records gauge
xnode_quarantine_records 2
# HELP xnode_source_state 1 for each source's current state (ok, idle, error, stopped).
# TYPE xnode_source_state gauge
xnode_source_state{source="cases",state="ok"} 0
xnode_source_state{source="cases",state="idle"} 0
xnode_source_state{source="cases",state="error"} 1
xnode_source_state{source="cases",state="stopped"} 0
# HELP xnode_catalog_version Catalog slice version the platform confirmed (0: none yet).
# TYPE xnode_catalog_version gauge
xnode_catalog_version 8
# HELP xnode_catalog_overdue_resources Resources whose data is older than their update cycle.
# TYPE xnode_catalog_overdue_resources gauge
xnode_catalog_overdue_resources 1
# HELP xnode_config_version Version of the running configuration.
# TYPE xnode_config_version gauge
xnode_config_version 3
# HELP xnode_config_reload_failed 1 when the last reload was refused (the running configuration stays).
# TYPE xnode_config_reload_failed gauge
xnode_config_reload_failed 1
# HELP xnode_alarm_active 1 while the alarm is raised, 0 otherwise.
# TYPE xnode_alarm_active gauge
xnode_alarm_active{alarm="link_down",severity="critical"} 0
xnode_alarm_active{alarm="backlog_age",severity="warning"} 0
xnode_alarm_active{alarm="disk_free",severity="critical"} 0
xnode_alarm_active{alarm="cert_expiring",severity="warning"} 1
xnode_alarm_active{alarm="crl_stale",severity="warning"} 0
xnode_alarm_active{alarm="clock_offset",severity="warning"} 0
xnode_alarm_active{alarm="overdue_resources",severity="warning"} 1
xnode_alarm_active{alarm="platform_forbidden",severity="critical"} 0
xnode_alarm_active{alarm="catalog_refused",severity="warning"} 0
xnode_alarm_active{alarm="audit_chain_broken",severity="critical"} 0
xnode_alarm_active{alarm="audit_quota",severity="warning"} 1
xnode_alarm_active{alarm="source_error",severity="warning"} 1
)EXP";

}  // namespace

TEST_SUITE("core_health.prometheus") {
  TEST_CASE("seconds from milliseconds, exact decimal") {
    CHECK(prometheus::seconds_from_ms(0) == "0");
    CHECK(prometheus::seconds_from_ms(12) == "0.012");
    CHECK(prometheus::seconds_from_ms(120) == "0.12");
    CHECK(prometheus::seconds_from_ms(2000) == "2");
    CHECK(prometheus::seconds_from_ms(2500) == "2.5");
    CHECK(prometheus::seconds_from_ms(-140) == "-0.14");
    CHECK(prometheus::seconds_from_ms(-5003) == "-5.003");
    CHECK(prometheus::seconds_from_ms(INT64_MIN) == "-9223372036854775.808");
  }

  TEST_CASE("label values and help texts are escaped") {
    CHECK(prometheus::escape_label("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
    CHECK(prometheus::escape_label("拉萨") == "拉萨");  // UTF-8 passes as is
    CHECK(prometheus::escape_help("x \"q\" \\ \n") == "x \"q\" \\\\ \\n");
  }

  TEST_CASE("an idle model: unknown values are left out, not reported as 0") {
    HealthModel m({"gaj-01", "0.3.1", "https://xchg.example.gov:8443"}, t0);
    const std::string text = m.prometheus_text(t0 + 3s);
    CHECK(text.find("xnode_link_rtt_seconds") == std::string::npos);
    CHECK(text.find("xnode_clock_offset_seconds") == std::string::npos);
    CHECK(text.find("xnode_tls_client_cert_expiry_seconds") == std::string::npos);
    CHECK(text.find("xnode_stream_pending_records") == std::string::npos);
    CHECK(text.find("xnode_link_state{state=\"down\"} 1\n") != std::string::npos);
  }

  TEST_CASE("the whole exposition of a model fed real events") {
    HealthModel m({"gaj-01", "0.3.1", "https://xchg.example.gov:8443"}, t0);
    m.set_tls(t0 + 24h * 10, t0 + 24h);
    m.link_up(t0, 35ms);
    m.link_down(t0 + 60s, "connect: connection refused");
    m.error(t0 + 70s, ErrorClass::connect);
    m.link_up(t0 + 90s, 41ms);
    m.hello_answered(t0 + 90s, t0 + 90s + 200ms, t0 + 90s + 100ms - 140ms);
    m.request_completed(t0 + 91s, 12ms);
    m.request_completed(t0 + 92s, 20ms);
    QueueSnapshot q;
    q.records = 5;
    q.bytes = 2048;
    q.oldest_pending_at = t0 + 80s;
    q.streams["a\"b\\c\nd"] = {5, 10};
    m.set_queue(q);
    m.set_disk_free(1ull << 30);
    m.set_quarantine(2);
    m.set_source({"cases", "error", t0, std::string("spool dir missing")});
    m.set_catalog(8, {{"101003/11540100MB00000008-00001", "daily", t0 - 48h}});
    m.set_config(3, "ab12", std::string("bad key"));
    m.set_audit_quota("over quota (256 MiB)");
    m.evaluate(t0 + 100s);
    const std::string text = m.prometheus_text(t0 + 100s);
    // By hand: uptime 100 s; up since t0+90 s (10 s); RTT p50 12 ms, p95 20 ms; one reconnect; the
    // 30 s outage (t0+60..90 s) in downtime and last_outage; offset = server time − midpoint of
    // the hello = −140 ms; certificate 10 d − 100 s away (and within 30 d: cert_expiring);
    // oldest record 20 s old; the stream's label escaped; source in error; overdue, audit quota.
    CHECK(text == std::string(kExpected));
  }
}

TEST_SUITE("core_health.metrics_http") {
  TEST_CASE("request heads are classified") {
    auto kind = [](std::string_view s) { return classify_metrics_request(s).kind; };
    CHECK(kind("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") == MetricsRequestKind::metrics);
    CHECK(kind("GET /metrics?x=1 HTTP/1.0\r\n\r\n") == MetricsRequestKind::metrics);
    CHECK(kind("GET /metrics HTTP/1.1\n\n") == MetricsRequestKind::metrics);
    CHECK(kind("HEAD /metrics HTTP/1.1\r\n\r\n") == MetricsRequestKind::metrics_head);
    CHECK(kind("GET / HTTP/1.1\r\n\r\n") == MetricsRequestKind::not_found);
    CHECK(kind("GET /metricsx HTTP/1.1\r\n\r\n") == MetricsRequestKind::not_found);
    CHECK(kind("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n") == MetricsRequestKind::method_not_allowed);
    CHECK(kind("DELETE /x HTTP/1.1\r\n\r\n") == MetricsRequestKind::method_not_allowed);
    CHECK(kind("GET /metrics HTTP/1.1\r\nHost: x\r\n") == MetricsRequestKind::incomplete);
    CHECK(kind("") == MetricsRequestKind::incomplete);
    CHECK(kind("GET  /metrics HTTP/1.1\r\n\r\n") == MetricsRequestKind::bad_request);
    CHECK(kind("GET /metrics HTTP/2\r\n\r\n") == MetricsRequestKind::bad_request);
    CHECK(kind("GET http://x/metrics HTTP/1.1\r\n\r\n") == MetricsRequestKind::bad_request);
    CHECK(kind("G(T /metrics HTTP/1.1\r\n\r\n") == MetricsRequestKind::bad_request);
    CHECK(kind("\r\n\r\n") == MetricsRequestKind::bad_request);
    CHECK(kind(std::string(8192, 'a')) == MetricsRequestKind::too_large);
    CHECK(kind("GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n") == MetricsRequestKind::too_large);
    CHECK(classify_metrics_request("GET /metrics HTTP/1.1\r\n\r\nextra").head_bytes == 25);
  }

  TEST_CASE("responses") {
    CHECK(metrics_response(MetricsRequestKind::metrics, "xnode_up 1\n") ==
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 11\r\n"
          "Cache-Control: no-store\r\nConnection: close\r\n\r\nxnode_up 1\n");
    CHECK(metrics_response(MetricsRequestKind::metrics_head, "xnode_up 1\n") ==
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 11\r\n"
          "Cache-Control: no-store\r\nConnection: close\r\n\r\n");
    const std::string r405 = metrics_response(MetricsRequestKind::method_not_allowed, "");
    CHECK(r405.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
    CHECK(r405.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos);
    CHECK(metrics_response(MetricsRequestKind::not_found, "").starts_with("HTTP/1.1 404 Not Found\r\n"));
    CHECK(metrics_response(MetricsRequestKind::too_large, "").starts_with("HTTP/1.1 431 "));
    CHECK(metrics_response(MetricsRequestKind::bad_request, "").starts_with("HTTP/1.1 400 Bad Request\r\n"));
  }
}
