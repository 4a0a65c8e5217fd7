#include "core/health/alarms.hpp"

namespace xnode::health {

const char* alarm_name(AlarmId id) {
  switch (id) {
    case AlarmId::link_down: return "link_down";
    case AlarmId::backlog_age: return "backlog_age";
    case AlarmId::disk_free: return "disk_free";
    case AlarmId::cert_expiring: return "cert_expiring";
    case AlarmId::crl_stale: return "crl_stale";
    case AlarmId::clock_offset: return "clock_offset";
    case AlarmId::overdue_resources: return "overdue_resources";
    case AlarmId::platform_forbidden: return "platform_forbidden";
    case AlarmId::catalog_refused: return "catalog_refused";
    case AlarmId::audit_chain_broken: return "audit_chain_broken";
    case AlarmId::audit_quota: return "audit_quota";
    case AlarmId::source_error: return "source_error";
  }
  return "unknown";
}

const char* severity_name(Severity s) { return s == Severity::critical ? "critical" : "warning"; }

Severity default_severity(AlarmId id) {
  switch (id) {
    case AlarmId::link_down:
    case AlarmId::disk_free:
    case AlarmId::platform_forbidden:
    case AlarmId::audit_chain_broken: return Severity::critical;
    default: return Severity::warning;
  }
}

std::optional<AlarmId> parse_alarm_name(std::string_view name) {
  for (AlarmId id : all_alarms)
    if (name == alarm_name(id)) return id;
  return std::nullopt;
}

std::string AlarmTransition::describe() const {
  std::string out = raised ? "alarm raised: " : "alarm cleared: ";
  out += alarm_name(id);
  if (raised) {
    out += " (";
    out += severity_name(severity);
    out += ")";
  }
  if (!text.empty()) {
    out += ": ";
    out += text;
  }
  return out;
}

json::Value AlarmTransition::audit_detail() const {
  json::Value d = json::Value::object();
  d.set("id", alarm_name(id));
  d.set("severity", severity_name(severity));
  d.set("text", text);
  return d;
}

std::optional<AlarmTransition> AlarmTracker::update(AlarmId id, Severity severity, TimePoint now, bool condition,
                                                    Clock::duration raise_after, Clock::duration clear_after,
                                                    const std::string& text) {
  if (condition) {
    m_gone_since.reset();
    if (!m_condition_since) m_condition_since = now;
    if (m_active) {
      m_text = text;  // keep the text current (days left, age) while raised
      return std::nullopt;
    }
    if (now - *m_condition_since < raise_after) return std::nullopt;
    m_active = true;
    m_since = now;
    m_text = text;
    return AlarmTransition{id, true, severity, now, text};
  }
  m_condition_since.reset();
  if (!m_active) return std::nullopt;
  if (!m_gone_since) m_gone_since = now;
  if (now - *m_gone_since < clear_after) return std::nullopt;
  m_active = false;
  m_gone_since.reset();
  return AlarmTransition{id, false, severity, now, m_text};
}

}  // namespace xnode::health
