// The Prometheus view of the health model: the same state as the §3.5 report and the status file,
// in text exposition format 0.0.4. Names carry the `xnode_` prefix and base units (seconds,
// bytes); per-stream, per-source and per-alarm values are labelled. A value the node does not
// know yet (no RTT sample, no hello answered, no certificate read) is left out rather than
// reported as 0, so a dashboard shows "no data" instead of a false reading.
#include "core/health/prometheus.hpp"

#include <algorithm>

#include "core/health/health_model.hpp"

namespace xnode::health {

namespace prometheus {

std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

std::string seconds_from_ms(std::int64_t ms) {
  // Magnitude as unsigned: -INT64_MIN does not fit a signed value.
  const bool negative = ms < 0;
  const std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(ms) : static_cast<std::uint64_t>(ms);
  std::string out = negative ? "-" : "";
  out += std::to_string(magnitude / 1000);
  std::uint64_t frac = magnitude % 1000;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 3 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += '.';
    out += digits;
  }
  return out;
}

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  m_text += "# HELP ";
  m_text += name;
  m_text += ' ';
  m_text += escape_help(help);
  m_text += "\n# TYPE ";
  m_text += name;
  m_text += ' ';
  m_text += type;
  m_text += '\n';
}

void Exposition::sample(std::string_view name, std::string_view labels, std::string_view value) {
  m_text += name;
  if (!labels.empty()) {
    m_text += '{';
    m_text += labels;
    m_text += '}';
  }
  m_text += ' ';
  m_text += value;
  m_text += '\n';
}

void Exposition::sample(std::string_view name, std::string_view labels, std::int64_t value) {
  sample(name, labels, std::to_string(value));
}

void Exposition::gauge(std::string_view name, std::string_view help, std::int64_t value) {
  gauge_text(name, help, std::to_string(value));
}

void Exposition::gauge_text(std::string_view name, std::string_view help, std::string_view value) {
  family(name, "gauge", help);
  sample(name, {}, value);
}

std::string Exposition::label(std::string_view name, std::string_view value) {
  std::string out(name);
  out += "=\"";
  out += escape_label(value);
  out += '"';
  return out;
}

}  // namespace prometheus

namespace {

std::int64_t whole_seconds(Clock::duration d) {
  return std::max<std::int64_t>(0, std::chrono::duration_cast<Seconds>(d).count());
}
std::int64_t ms_of(Clock::duration d) { return std::chrono::duration_cast<Millis>(d).count(); }
std::int64_t unix_seconds(TimePoint t) { return std::chrono::duration_cast<Seconds>(t.time_since_epoch()).count(); }

}  // namespace

std::string HealthModel::prometheus_text(TimePoint now) const {
  using prometheus::Exposition;
  Exposition e;
  e.family("xnode_info", "gauge", "Always 1; the labels name the node and its software version.");
  e.sample("xnode_info",
           Exposition::label("node", m_identity.node_id) + "," + Exposition::label("version", m_identity.software_version),
           1);
  e.gauge("xnode_uptime_seconds", "Seconds since the daemon started.", whole_seconds(now - m_started_at));

  // --- link ---
  e.family("xnode_link_state", "gauge", "1 for the link's current state (up, degraded, down), 0 for the others.");
  for (LinkState s : {LinkState::up, LinkState::degraded, LinkState::down})
    e.sample("xnode_link_state", Exposition::label("state", link_state_name(s)), m_link == s ? 1 : 0);
  e.gauge("xnode_link_state_seconds", "Seconds the link has been in its current state.",
          whole_seconds(now - m_link_since));
  const auto p50 = m_rtt.percentile(now, 50);
  const auto p95 = m_rtt.percentile(now, 95);
  if (p50 || p95) {
    e.family("xnode_link_rtt_seconds", "gauge", "Request round trip over the recent window, by quantile.");
    if (p50) e.sample("xnode_link_rtt_seconds", Exposition::label("quantile", "0.5"), prometheus::seconds_from_ms(*p50));
    if (p95) e.sample("xnode_link_rtt_seconds", Exposition::label("quantile", "0.95"), prometheus::seconds_from_ms(*p95));
  }
  if (m_tls_handshake_ms)
    e.gauge_text("xnode_link_tls_handshake_seconds", "Duration of the last TLS handshake.",
                 prometheus::seconds_from_ms(*m_tls_handshake_ms));
  e.gauge("xnode_link_reconnects_24h", "Reconnects over the last 24 h.", reconnects_24h(now));
  e.gauge("xnode_link_downtime_24h_seconds", "Link downtime over the last 24 h, the current outage included.",
          downtime_24h_s(now));
  e.family("xnode_link_errors_24h", "gauge", "Failed requests over the last 24 h, by error class.");
  for (std::size_t i = 0; i < error_class_count; ++i) {
    const auto c = static_cast<ErrorClass>(i);
    e.sample("xnode_link_errors_24h", Exposition::label("class", error_class_name(c)), errors_24h(now, c));
  }
  if (m_last_outage) {
    e.gauge("xnode_link_last_outage_end_timestamp_seconds", "Unix time the last outage ended.",
            unix_seconds(m_last_outage->end));
    e.gauge("xnode_link_last_outage_seconds", "Duration of the last outage.",
            whole_seconds(m_last_outage->end - m_last_outage->start));
  }
  if (m_clock_offset_ms)
    e.gauge_text("xnode_clock_offset_seconds", "Platform clock minus node clock, measured at hello.",
                 prometheus::seconds_from_ms(*m_clock_offset_ms));

  // --- TLS material ---
  if (m_cert_expires)
    e.gauge("xnode_tls_client_cert_expiry_seconds", "Seconds until the client certificate expires (negative: expired).",
            ms_of(*m_cert_expires - now) / 1000);
  if (m_crl_next_update)
    e.gauge("xnode_tls_crl_next_update_timestamp_seconds", "Unix time of the CRL's next update.",
            unix_seconds(*m_crl_next_update));

  // --- queue, disk, quarantine ---
  e.gauge("xnode_queue_records", "Records queued for delivery.", m_queue.records);
  e.gauge("xnode_queue_bytes", "Bytes of records queued for delivery.", m_queue.bytes);
  e.gauge("xnode_queue_oldest_age_seconds", "Age of the oldest queued record (0: queue empty).",
          m_queue.oldest_pending_at ? whole_seconds(now - *m_queue.oldest_pending_at) : 0);
  if (!m_queue.streams.empty()) {
    e.family("xnode_stream_pending_records", "gauge", "Records queued per stream (resource code).");
    for (const auto& [code, s] : m_queue.streams)
      e.sample("xnode_stream_pending_records", Exposition::label("stream", code), s.pending);
    e.family("xnode_stream_acked_through", "gauge", "The platform's acknowledged sequence number per stream.");
    for (const auto& [code, s] : m_queue.streams)
      e.sample("xnode_stream_acked_through", Exposition::label("stream", code), s.acked_through);
  }
  if (m_disk_free)
    e.gauge("xnode_disk_free_bytes", "Free space on the state volume.", static_cast<std::int64_t>(*m_disk_free));
  e.gauge("xnode_quarantine_records", "Records kept in local quarantine.", m_quarantine);

  // --- sources ---
  if (!m_sources.empty()) {
    e.family("xnode_source_state", "gauge", "1 for each source's current state (ok, idle, error, stopped).");
    for (const SourceHealth& s : m_sources)
      for (const char* state : {"ok", "idle", "error", "stopped"})
        e.sample("xnode_source_state", Exposition::label("source", s.name) + "," + Exposition::label("state", state),
                 s.state == state ? 1 : 0);
  }

  // --- catalog and configuration ---
  e.gauge("xnode_catalog_version", "Catalog slice version the platform confirmed (0: none yet).", m_catalog_version);
  e.gauge("xnode_catalog_overdue_resources", "Resources whose data is older than their update cycle.",
          static_cast<std::int64_t>(m_overdue.size()));
  e.gauge("xnode_config_version", "Version of the running configuration.", m_config_version);
  e.gauge("xnode_config_reload_failed", "1 when the last reload was refused (the running configuration stays).",
          m_config_error ? 1 : 0);

  // --- alarms ---
  e.family("xnode_alarm_active", "gauge", "1 while the alarm is raised, 0 otherwise.");
  for (AlarmId id : all_alarms)
    e.sample("xnode_alarm_active",
             Exposition::label("alarm", alarm_name(id)) + "," +
                 Exposition::label("severity", severity_name(default_severity(id))),
             alarm_active(id) ? 1 : 0);
  return e.take();
}

}  // namespace xnode::health
