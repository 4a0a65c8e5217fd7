// Two views of the health model: the §3.5 JSON report and the systemd STATUS= line (the
// Prometheus exposition is in prometheus.cpp).
#include <cstdio>

#include "core/health/health_model.hpp"

namespace xnode::health {

namespace {

json::Value time_or_null(const std::optional<TimePoint>& t) { return t ? json::Value(format_rfc3339(*t)) : json::Value(); }
json::Value int_or_null(const std::optional<std::int64_t>& v) { return v ? json::Value(*v) : json::Value(); }
json::Value text_or_null(const std::optional<std::string>& v) { return v ? json::Value(*v) : json::Value(); }

std::int64_t seconds_between(TimePoint from, TimePoint to) {
  return std::max<std::int64_t>(0, std::chrono::duration_cast<Seconds>(to - from).count());
}

}  // namespace

json::Value HealthModel::report_json(TimePoint now) const {
  json::Value r = json::Value::object();
  r.set("node_id", m_identity.node_id);
  r.set("time", format_rfc3339(now));
  r.set("uptime_s", seconds_between(m_started_at, now));
  json::Value software = json::Value::object();
  software.set("version", m_identity.software_version);
  r.set("software", software);

  json::Value config = json::Value::object();
  config.set("version", m_config_version);
  config.set("sha256", m_config_sha256);
  config.set("last_error", text_or_null(m_config_error));
  r.set("config", config);

  json::Value link = json::Value::object();
  link.set("state", link_state_name(m_link));
  link.set("since", format_rfc3339(m_link_since));
  link.set("endpoint", m_identity.endpoint);
  if (!m_link_cause.empty()) link.set("cause", m_link_cause);
  json::Value rtt = json::Value::object();
  rtt.set("p50", int_or_null(m_rtt.percentile(now, 50)));
  rtt.set("p95", int_or_null(m_rtt.percentile(now, 95)));
  link.set("rtt_ms", rtt);
  link.set("tls_handshake_ms", int_or_null(m_tls_handshake_ms));
  link.set("reconnects_24h", reconnects_24h(now));
  link.set("downtime_24h_s", downtime_24h_s(now));
  json::Value errors = json::Value::object();
  for (std::size_t i = 0; i < error_class_count; ++i)
    errors.set(error_class_name(static_cast<ErrorClass>(i)), errors_24h(now, static_cast<ErrorClass>(i)));
  link.set("errors_24h", errors);
  link.set("clock_offset_ms", int_or_null(m_clock_offset_ms));
  if (m_last_outage) {
    json::Value outage = json::Value::object();
    outage.set("start", format_rfc3339(m_last_outage->start));
    outage.set("end", format_rfc3339(m_last_outage->end));
    outage.set("cause", m_last_outage->cause);
    link.set("last_outage", outage);
  } else {
    link.set("last_outage", json::Value());
  }
  r.set("link", link);

  json::Value tls = json::Value::object();
  tls.set("client_cert_expires", time_or_null(m_cert_expires));
  tls.set("days_left", int_or_null(cert_days_left(now)));
  tls.set("crl_next_update", time_or_null(m_crl_next_update));
  r.set("tls", tls);

  json::Value queue = json::Value::object();
  queue.set("records", m_queue.records);
  queue.set("bytes", m_queue.bytes);
  queue.set("oldest_age_s", m_queue.oldest_pending_at ? seconds_between(*m_queue.oldest_pending_at, now) : 0);
  queue.set("disk_free_bytes", m_disk_free ? json::Value(static_cast<std::int64_t>(*m_disk_free)) : json::Value());
  json::Value streams = json::Value::object();
  for (const auto& [code, s] : m_queue.streams) {
    json::Value stream = json::Value::object();
    stream.set("pending", s.pending);
    stream.set("acked_through", s.acked_through);
    streams.set(code, stream);
  }
  queue.set("streams", streams);
  r.set("queue", queue);

  json::Value sources = json::Value::array();
  for (const SourceHealth& s : m_sources) {
    json::Value source = json::Value::object();
    source.set("name", s.name);
    source.set("state", s.state);
    source.set("last_ok", time_or_null(s.last_ok));
    source.set("last_error", text_or_null(s.last_error));
    sources.push_back(source);
  }
  r.set("sources", sources);

  json::Value catalog = json::Value::object();
  catalog.set("version", m_catalog_version);
  json::Value overdue = json::Value::array();
  for (const OverdueResource& o : m_overdue) {
    json::Value entry = json::Value::object();
    entry.set("code", o.code);
    entry.set("update_cycle", o.update_cycle);
    entry.set("last_update", time_or_null(o.last_update));
    overdue.push_back(entry);
  }
  catalog.set("overdue", overdue);
  r.set("catalog", catalog);

  json::Value quarantine = json::Value::object();
  quarantine.set("records", m_quarantine);
  r.set("quarantine", quarantine);

  json::Value alarms = json::Value::array();
  for (AlarmId id : all_alarms) {
    const AlarmTracker& a = m_alarms[static_cast<std::size_t>(id)];
    if (!a.active()) continue;
    json::Value alarm = json::Value::object();
    alarm.set("id", alarm_name(id));
    alarm.set("severity", severity_name(default_severity(id)));
    alarm.set("since", format_rfc3339(a.since()));
    alarm.set("text", a.text());
    alarms.push_back(alarm);
  }
  r.set("alarms", alarms);
  return r;
}

std::string HealthModel::status_line(TimePoint now) const {
  std::string out = "link ";
  out += link_state_name(m_link);
  if (m_link == LinkState::down) {
    out += " " + std::to_string(seconds_between(m_link_since, now)) + " s";
    if (!m_link_cause.empty()) out += " (" + m_link_cause + ")";
  } else {
    if (auto p50 = m_rtt.percentile(now, 50)) out += " " + std::to_string(*p50) + "ms p50";
    if (m_link == LinkState::degraded && !m_link_cause.empty()) out += " (" + m_link_cause + ")";
  }
  out += ", queue " + std::to_string(m_queue.records) + " (";
  out += std::to_string(m_queue.oldest_pending_at ? seconds_between(*m_queue.oldest_pending_at, now) : 0) + " s)";
  const auto active = active_alarms();
  out += ", " + std::to_string(active.size()) + (active.size() == 1 ? " alarm" : " alarms");
  for (std::size_t i = 0; i < active.size(); ++i) {
    out += i == 0 ? ": " : ", ";
    out += alarm_name(active[i]);
  }
  return out;
}

}  // namespace xnode::health
