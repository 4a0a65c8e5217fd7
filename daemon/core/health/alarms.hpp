// Alarms of the health model (issue #5): each is raised when its condition has held for its
// raise delay and cleared only once the condition has been gone for `clear_after` — hysteresis,
// so a flapping link or a value hovering at its threshold does not flood the bureau's console
// and the audit trail.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/json.hpp"
#include "core/base/log.hpp"
#include "core/base/time.hpp"

namespace xnode::health {

enum class AlarmId : std::uint8_t {
  link_down,           // link down longer than link_down_after
  backlog_age,         // oldest queued record older than backlog_age_max
  disk_free,           // free space on the state volume below disk_free_min_bytes
  cert_expiring,       // client certificate expires within cert_expiring_within (or has expired)
  crl_stale,           // CRL past its next update
  clock_offset,        // |clock offset| above clock_offset_max
  overdue_resources,   // catalog resources whose data is older than their update cycle
  platform_forbidden,  // 403 from the platform (identity_mismatch / forbidden)
  catalog_refused,     // the platform refused the catalog slice (422 / 400)
  audit_chain_broken,  // stored chain fails verification, or the platform's 409 cannot be resolved
  audit_quota,         // audit store near/over quota, stuck, or events overflowed
  source_error,        // a source (driver) reports an error
};
inline constexpr std::size_t alarm_count = 12;
inline constexpr std::array<AlarmId, alarm_count> all_alarms = {
    AlarmId::link_down,         AlarmId::backlog_age,        AlarmId::disk_free,       AlarmId::cert_expiring,
    AlarmId::crl_stale,         AlarmId::clock_offset,       AlarmId::overdue_resources, AlarmId::platform_forbidden,
    AlarmId::catalog_refused,   AlarmId::audit_chain_broken, AlarmId::audit_quota,     AlarmId::source_error};

enum class Severity : std::uint8_t { warning, critical };

const char* alarm_name(AlarmId id);  // "link_down" — the id in the §3.5 report
const char* severity_name(Severity s);
Severity default_severity(AlarmId id);
std::optional<AlarmId> parse_alarm_name(std::string_view name);

struct AlarmThresholds {
  Clock::duration link_down_after = std::chrono::minutes(2);
  Clock::duration backlog_age_max = std::chrono::hours(1);
  std::uint64_t disk_free_min_bytes = 512ull << 20;
  Clock::duration cert_expiring_within = std::chrono::hours(24 * 30);
  Clock::duration clock_offset_max = std::chrono::seconds(2);
  // How long any other condition must hold before its alarm is raised.
  Clock::duration raise_after = std::chrono::seconds(0);
  // How long a condition must be gone before its alarm is cleared.
  Clock::duration clear_after = std::chrono::minutes(1);
};

// One raise or clear: the caller logs it (log_level) and audits it (alarm.raised / .cleared).
struct AlarmTransition {
  AlarmId id;
  bool raised = true;
  Severity severity = Severity::warning;
  TimePoint at{};
  std::string text;
  const char* audit_action() const { return raised ? "alarm.raised" : "alarm.cleared"; }
  // Critical raise → error, warning raise → warning, clear → notice (systemd priorities 3/4/5).
  log::Level log_level() const {
    return raised ? (severity == Severity::critical ? log::Level::error : log::Level::warning) : log::Level::notice;
  }
  // The same as a systemd priority number (3/4/5).
  int log_priority() const { return static_cast<int>(log_level()); }
  // The audit event's detail: {"id", "severity", "text"}; the object is the alarm id.
  json::Value audit_detail() const;
  std::string describe() const;  // "alarm raised: link_down (critical): link down for 2 min: …"
};

// One alarm's hysteresis.
class AlarmTracker {
 public:
  // Feeds the condition as seen at `now`; returns a transition when the alarm changes.
  std::optional<AlarmTransition> update(AlarmId id, Severity severity, TimePoint now, bool condition,
                                        Clock::duration raise_after, Clock::duration clear_after,
                                        const std::string& text);
  bool active() const { return m_active; }
  TimePoint since() const { return m_since; }
  const std::string& text() const { return m_text; }

 private:
  bool m_active = false;
  TimePoint m_since{};
  std::optional<TimePoint> m_condition_since;
  std::optional<TimePoint> m_gone_since;
  std::string m_text;
};

}  // namespace xnode::health
