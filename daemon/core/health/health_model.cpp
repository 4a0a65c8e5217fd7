#include "core/health/health_model.hpp"

#include <algorithm>
#include <cstdlib>

namespace xnode::health {

namespace {

std::int64_t ms_of(Clock::duration d) { return std::chrono::duration_cast<Millis>(d).count(); }

// "45 s", "3 min", "2 h 5 min", "3 d 4 h" — for alarm texts and the status line.
std::string human_duration(Clock::duration d) {
  std::int64_t s = std::chrono::duration_cast<Seconds>(d).count();
  if (s < 0) s = 0;
  if (s < 120) return std::to_string(s) + " s";
  if (s < 7200) return std::to_string(s / 60) + " min";
  if (s < 2 * 86400) return std::to_string(s / 3600) + " h " + std::to_string(s / 60 % 60) + " min";
  return std::to_string(s / 86400) + " d " + std::to_string(s / 3600 % 24) + " h";
}

std::string human_bytes(std::uint64_t b) {
  if (b >= (1ull << 30)) return std::to_string(b >> 30) + " GiB";
  if (b >= (1ull << 20)) return std::to_string(b >> 20) + " MiB";
  if (b >= (1ull << 10)) return std::to_string(b >> 10) + " KiB";
  return std::to_string(b) + " B";
}

}  // namespace

const char* link_state_name(LinkState s) {
  switch (s) {
    case LinkState::up: return "up";
    case LinkState::degraded: return "degraded";
    case LinkState::down: return "down";
  }
  return "down";
}

const char* error_class_name(ErrorClass c) {
  switch (c) {
    case ErrorClass::dns: return "dns";
    case ErrorClass::connect: return "connect";
    case ErrorClass::tls: return "tls";
    case ErrorClass::http_4xx: return "http_4xx";
    case ErrorClass::http_5xx: return "http_5xx";
    case ErrorClass::timeout: return "timeout";
  }
  return "connect";
}

HealthModel::HealthModel(NodeIdentity identity, TimePoint started_at, HealthOptions options)
    : m_identity(std::move(identity)),
      m_started_at(started_at),
      m_options(options),
      m_link_since(started_at),
      m_rtt(options.rtt_samples, options.rtt_max_age) {}

void HealthModel::set_link(TimePoint now, LinkState state, std::string cause) {
  if (state != m_link) {
    m_link = state;
    m_link_since = now;
    m_state_changed = true;
  }
  m_link_cause = std::move(cause);
}

void HealthModel::link_up(TimePoint now, std::optional<Millis> tls_handshake) {
  if (m_outage_start) {
    m_last_outage = Outage{*m_outage_start, now, m_outage_cause};
    m_downtime_ms.add_interval_ms(*m_outage_start, now);
    m_outage_start.reset();
    m_state_changed = true;  // one current report with last_outage, at once
  }
  if (m_ever_up && m_link == LinkState::down) m_reconnects.add(now);
  m_ever_up = true;
  if (tls_handshake) m_tls_handshake_ms = tls_handshake->count();
  set_link(now, LinkState::up, std::string());
}

void HealthModel::link_degraded(TimePoint now, std::string cause) {
  if (m_link == LinkState::down) link_up(now);
  set_link(now, LinkState::degraded, std::move(cause));
}

void HealthModel::link_down(TimePoint now, std::string cause) {
  if (!m_outage_start) {
    m_outage_start = now;
    m_outage_cause = cause;
  }
  set_link(now, LinkState::down, std::move(cause));
}

void HealthModel::request_completed(TimePoint now, Millis rtt) { m_rtt.add(now, rtt.count()); }

void HealthModel::error(TimePoint now, ErrorClass error_class) {
  m_errors[static_cast<std::size_t>(error_class)].add(now);
}

void HealthModel::hello_answered(TimePoint sent, TimePoint received, TimePoint server_time) {
  // The server read its clock somewhere inside our round trip; the midpoint is the best guess
  // (error at most half the RTT).
  const TimePoint midpoint = sent + (received - sent) / 2;
  m_clock_offset_ms = ms_of(server_time - midpoint);
}

void HealthModel::platform_forbidden(TimePoint /*now*/, std::string message) { m_forbidden = std::move(message); }
void HealthModel::platform_accepted(TimePoint /*now*/) { m_forbidden.reset(); }

void HealthModel::set_tls(std::optional<TimePoint> client_cert_expires, std::optional<TimePoint> crl_next_update) {
  m_cert_expires = client_cert_expires;
  m_crl_next_update = crl_next_update;
}

void HealthModel::set_queue(QueueSnapshot queue) { m_queue = std::move(queue); }

void HealthModel::set_source(SourceHealth source) {
  auto it = std::find_if(m_sources.begin(), m_sources.end(), [&](const SourceHealth& s) { return s.name == source.name; });
  if (it != m_sources.end()) {
    *it = std::move(source);
  } else {
    m_sources.push_back(std::move(source));
  }
}

void HealthModel::remove_source(const std::string& name) {
  std::erase_if(m_sources, [&](const SourceHealth& s) { return s.name == name; });
}

void HealthModel::set_catalog(std::int64_t version, std::vector<OverdueResource> overdue) {
  m_catalog_version = version;
  m_overdue = std::move(overdue);
}

void HealthModel::catalog_refused(std::string reason) { m_catalog_refused = std::move(reason); }
void HealthModel::catalog_accepted() { m_catalog_refused.reset(); }

void HealthModel::set_config(std::int64_t version, std::string sha256, std::optional<std::string> last_error) {
  m_config_version = version;
  m_config_sha256 = std::move(sha256);
  m_config_error = std::move(last_error);
}

std::int64_t HealthModel::downtime_24h_s(TimePoint now) const {
  std::int64_t ms = m_downtime_ms.total(now);
  if (m_outage_start) ms += m_downtime_ms.window_overlap_ms(now, *m_outage_start, now);
  return ms / 1000;
}

std::int64_t HealthModel::errors_24h(TimePoint now, ErrorClass c) const {
  return m_errors[static_cast<std::size_t>(c)].total(now);
}

std::optional<std::int64_t> HealthModel::cert_days_left(TimePoint now) const {
  if (!m_cert_expires) return std::nullopt;
  const std::int64_t ms = ms_of(*m_cert_expires - now);
  // Whole days left, rounded down (an expired certificate has negative days).
  return ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
}

HealthModel::Condition HealthModel::condition(AlarmId id, TimePoint now) const {
  const AlarmThresholds& t = m_options.thresholds;
  switch (id) {
    case AlarmId::link_down:
      if (m_link == LinkState::down && now - m_link_since >= t.link_down_after)
        return {true, "link down for " + human_duration(now - m_link_since) + ": " + m_link_cause};
      return {};
    case AlarmId::backlog_age:
      if (m_queue.oldest_pending_at && now - *m_queue.oldest_pending_at > t.backlog_age_max)
        return {true, "oldest queued record is " + human_duration(now - *m_queue.oldest_pending_at) +
                          " old (limit " + human_duration(t.backlog_age_max) + "), " +
                          std::to_string(m_queue.records) + " records queued"};
      return {};
    case AlarmId::disk_free:
      if (m_disk_free && *m_disk_free < t.disk_free_min_bytes)
        return {true, "free disk " + human_bytes(*m_disk_free) + " below " + human_bytes(t.disk_free_min_bytes)};
      return {};
    case AlarmId::cert_expiring:
      if (m_cert_expires && *m_cert_expires - now < t.cert_expiring_within) {
        if (*m_cert_expires <= now) return {true, "client certificate expired at " + format_rfc3339(*m_cert_expires)};
        return {true, "client certificate expires in " + std::to_string(*cert_days_left(now)) + " days (" +
                          format_rfc3339(*m_cert_expires) + "); request a new one from the bureau"};
      }
      return {};
    case AlarmId::crl_stale:
      if (m_crl_next_update && now > *m_crl_next_update)
        return {true, "CRL past its next update (" + format_rfc3339(*m_crl_next_update) + "); fetch a current CRL"};
      return {};
    case AlarmId::clock_offset:
      if (m_clock_offset_ms && std::llabs(*m_clock_offset_ms) > ms_of(t.clock_offset_max))
        return {true, "clock offset " + std::to_string(*m_clock_offset_ms) + " ms from the platform (limit ±" +
                          std::to_string(ms_of(t.clock_offset_max)) + " ms); check NTP"};
      return {};
    case AlarmId::overdue_resources:
      if (!m_overdue.empty()) {
        std::string text = std::to_string(m_overdue.size()) + " resource" + (m_overdue.size() == 1 ? "" : "s") +
                           " overdue:";
        for (std::size_t i = 0; i < m_overdue.size() && i < 3; ++i) text += " " + m_overdue[i].code;
        if (m_overdue.size() > 3) text += " …";
        return {true, text};
      }
      return {};
    case AlarmId::platform_forbidden:
      if (m_forbidden) return {true, "platform answered 403: " + *m_forbidden};
      return {};
    case AlarmId::catalog_refused:
      if (m_catalog_refused) return {true, "catalog refused: " + *m_catalog_refused};
      return {};
    case AlarmId::audit_chain_broken:
      if (m_audit_chain_broken) return {true, "audit chain broken: " + *m_audit_chain_broken};
      return {};
    case AlarmId::audit_quota:
      if (m_audit_quota) return {true, "audit store: " + *m_audit_quota};
      return {};
    case AlarmId::source_error: {
      std::string text;
      for (const SourceHealth& s : m_sources) {
        if (s.state != "error") continue;
        if (!text.empty()) text += "; ";
        text += "source " + s.name + ": " + s.last_error.value_or("error");
      }
      if (!text.empty()) return {true, text};
      return {};
    }
  }
  return {};
}

std::vector<AlarmTransition> HealthModel::evaluate(TimePoint now) {
  std::vector<AlarmTransition> out;
  const AlarmThresholds& t = m_options.thresholds;
  for (AlarmId id : all_alarms) {
    Condition c = condition(id, now);
    // link_down and backlog_age carry their duration threshold in the condition itself.
    const Clock::duration raise_after =
        (id == AlarmId::link_down || id == AlarmId::backlog_age) ? Clock::duration::zero() : t.raise_after;
    auto transition = m_alarms[static_cast<std::size_t>(id)].update(id, default_severity(id), now, c.on, raise_after,
                                                                    t.clear_after, c.text);
    if (transition) {
      m_state_changed = true;
      out.push_back(std::move(*transition));
    }
  }
  return out;
}

bool HealthModel::take_state_changed() {
  const bool changed = m_state_changed;
  m_state_changed = false;
  return changed;
}

std::vector<AlarmId> HealthModel::active_alarms() const {
  std::vector<AlarmId> out;
  for (AlarmId id : all_alarms)
    if (alarm_active(id)) out.push_back(id);
  return out;
}

}  // namespace xnode::health
