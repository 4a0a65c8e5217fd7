// The three views of the health model: the §3.5 JSON report, the systemd STATUS= line and the
// Prometheus text exposition.
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

// Prometheus label values escape backslash, double quote and newline.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

struct Exposition {
  std::string text;
  void family(const char* name, const char* type, const char* help) {
    text += "# HELP ";
    text += name;
    text += ' ';
    text += help;
    text += "\n# TYPE ";
    text += name;
    text += ' ';
    text += type;
    text += '\n';
  }
  void sample(const char* name, std::int64_t value, const std::string& labels = {}) {
    text += name;
    if (!labels.empty()) text += "{" + labels + "}";
    text += ' ';
    text += std::to_string(value);
    text += '\n';
  }
  void gauge(const char* name, const char* help, std::int64_t value) {
    family(name, "gauge", help);
    sample(name, value);
  }
};

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

std::string HealthModel::prometheus_text(TimePoint now) const {
  Exposition e;
  e.family("xnode_info", "gauge", "Software version and node id.");
  e.sample("xnode_info", 1,
           "node=\"" + label(m_identity.node_id) + "\",version=\"" + label(m_identity.software_version) + "\"");
  e.gauge("xnode_uptime_seconds", "Seconds since the daemon started.", seconds_between(m_started_at, now));
  e.family("xnode_link_state", "gauge", "1 for the link's current state (up, degraded, down).");
  for (LinkState s : {LinkState::up, LinkState::degraded, LinkState::down})
    e.sample("xnode_link_state", m_link == s ? 1 : 0, std::string("state=\"") + link_state_name(s) + "\"");
  e.gauge("xnode_link_state_seconds", "Seconds in the current link state.", seconds_between(m_link_since, now));
  e.family("xnode_rtt_milliseconds", "gauge", "Request round trip over the recent window.");
  if (auto p = m_rtt.percentile(now, 50)) e.sample("xnode_rtt_milliseconds", *p, "quantile=\"0.5\"");
  if (auto p = m_rtt.percentile(now, 95)) e.sample("xnode_rtt_milliseconds", *p, "quantile=\"0.95\"");
  if (m_tls_handshake_ms) e.gauge("xnode_tls_handshake_milliseconds", "Last TLS handshake time.", *m_tls_handshake_ms);
  e.gauge("xnode_reconnects_24h", "Reconnects over the last 24 h.", reconnects_24h(now));
  e.gauge("xnode_downtime_24h_seconds", "Link downtime over the last 24 h.", downtime_24h_s(now));
  e.family("xnode_errors_24h", "gauge", "Errors over the last 24 h by class.");
  for (std::size_t i = 0; i < error_class_count; ++i)
    e.sample("xnode_errors_24h", errors_24h(now, static_cast<ErrorClass>(i)),
             std::string("class=\"") + error_class_name(static_cast<ErrorClass>(i)) + "\"");
  if (m_clock_offset_ms) e.gauge("xnode_clock_offset_milliseconds", "Platform clock minus node clock.", *m_clock_offset_ms);
  if (auto days = cert_days_left(now)) e.gauge("xnode_client_cert_days_left", "Days until the client certificate expires.", *days);
  e.gauge("xnode_queue_records", "Records queued for delivery.", m_queue.records);
  e.gauge("xnode_queue_bytes", "Bytes queued for delivery.", m_queue.bytes);
  e.gauge("xnode_queue_oldest_age_seconds", "Age of the oldest queued record.",
          m_queue.oldest_pending_at ? seconds_between(*m_queue.oldest_pending_at, now) : 0);
  if (!m_queue.streams.empty()) {
    e.family("xnode_stream_pending", "gauge", "Records queued per stream.");
    for (const auto& [code, s] : m_queue.streams) e.sample("xnode_stream_pending", s.pending, "stream=\"" + label(code) + "\"");
    e.family("xnode_stream_acked_through", "gauge", "Platform acknowledgement high-water mark per stream.");
    for (const auto& [code, s] : m_queue.streams)
      e.sample("xnode_stream_acked_through", s.acked_through, "stream=\"" + label(code) + "\"");
  }
  if (m_disk_free) e.gauge("xnode_disk_free_bytes", "Free space on the state volume.", static_cast<std::int64_t>(*m_disk_free));
  e.gauge("xnode_quarantine_records", "Records kept in local quarantine.", m_quarantine);
  e.gauge("xnode_catalog_version", "Catalog slice version.", m_catalog_version);
  e.gauge("xnode_catalog_overdue_resources", "Resources overdue for their update cycle.",
          static_cast<std::int64_t>(m_overdue.size()));
  e.gauge("xnode_config_version", "Running configuration version.", m_config_version);
  e.family("xnode_alarm_active", "gauge", "1 while the alarm is raised.");
  for (AlarmId id : all_alarms)
    e.sample("xnode_alarm_active", alarm_active(id) ? 1 : 0, std::string("alarm=\"") + alarm_name(id) + "\"");
  return e.text;
}

}  // namespace xnode::health
