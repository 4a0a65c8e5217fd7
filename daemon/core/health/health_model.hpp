// The node's health model (issue #5; platform-api.md §3.5; domain.md Ext. 14–22): link state and
// quality, TLS material, queue, disk, sources, catalog, config, audit — and the alarms derived
// from them. Pure: the uplink and the stores feed it events with the time they happened, the
// caller asks for a report at `now`. Not thread-safe: it lives on the daemon's main executor.
//
// Reporting rules it supports:
// - state_changed(): set when the link state changes or an alarm is raised or cleared, so the
//   uplink sends a report at once (§3.5) instead of waiting for the heartbeat;
// - reports are about the present: after an outage the next report carries `last_outage`
//   {start, end, cause}; nothing from the outage is queued for replay.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/json.hpp"
#include "core/base/time.hpp"
#include "core/health/alarms.hpp"
#include "core/health/windows.hpp"

namespace xnode::health {

enum class LinkState : std::uint8_t { up, degraded, down };
const char* link_state_name(LinkState s);

enum class ErrorClass : std::uint8_t { dns, connect, tls, http_4xx, http_5xx, timeout };
inline constexpr std::size_t error_class_count = 6;
const char* error_class_name(ErrorClass c);

struct Outage {
  TimePoint start{};
  TimePoint end{};
  std::string cause;
};

struct StreamState {
  std::int64_t pending = 0;
  std::int64_t acked_through = 0;
};

struct QueueSnapshot {
  std::int64_t records = 0;
  std::int64_t bytes = 0;
  std::optional<TimePoint> oldest_pending_at;  // when the oldest queued record was taken in
  std::map<std::string, StreamState> streams;  // by resource code
};

struct SourceHealth {
  std::string name;
  std::string state = "ok";  // ok | idle | error | stopped
  std::optional<TimePoint> last_ok;
  std::optional<std::string> last_error;
};

struct OverdueResource {
  std::string code;
  std::string update_cycle;
  std::optional<TimePoint> last_update;
};

struct NodeIdentity {
  std::string node_id;
  std::string software_version;
  std::string endpoint;  // the platform base URL
};

struct HealthOptions {
  AlarmThresholds thresholds;
  std::size_t rtt_samples = 256;
  Clock::duration rtt_max_age = std::chrono::minutes(5);
};

class HealthModel {
 public:
  HealthModel(NodeIdentity identity, TimePoint started_at, HealthOptions options = {});

  // --- link (from the uplink) ----------------------------------------------------------------
  // The link is established (TLS handshake done, hello answered). Ends an outage.
  void link_up(TimePoint now, std::optional<Millis> tls_handshake = std::nullopt);
  // Working, but not well (retries, 5xx, busy): counts as up for downtime.
  void link_degraded(TimePoint now, std::string cause);
  // Lost or never established: starts an outage (the first cause is kept).
  void link_down(TimePoint now, std::string cause);
  // A request answered (any status): its round trip.
  void request_completed(TimePoint now, Millis rtt);
  void error(TimePoint now, ErrorClass error_class);
  // From hello (§3.1): the offset is server_time minus the midpoint of the request's round trip.
  void hello_answered(TimePoint sent, TimePoint received, TimePoint server_time);
  // 403 from the platform raises platform_forbidden until a request succeeds again.
  void platform_forbidden(TimePoint now, std::string message);
  void platform_accepted(TimePoint now);  // any 2xx: clears the forbidden condition

  // --- the rest of the node ----------------------------------------------------------------
  void set_tls(std::optional<TimePoint> client_cert_expires, std::optional<TimePoint> crl_next_update);
  void set_queue(QueueSnapshot queue);
  void set_quarantine(std::int64_t records) { m_quarantine = records; }
  void set_disk_free(std::optional<std::uint64_t> bytes) { m_disk_free = bytes; }
  void set_source(SourceHealth source);  // by name, replacing
  void remove_source(const std::string& name);
  void set_catalog(std::int64_t version, std::vector<OverdueResource> overdue);
  void catalog_refused(std::string reason);  // the platform refused the slice
  void catalog_accepted();
  void set_config(std::int64_t version, std::string sha256, std::optional<std::string> last_error);
  // The audit trail's alarms, each with its text, or nullopt when fine. chain_broken comes from
  // the store's tail check, `xnodectl audit verify`, or an unresolvable 409 chain_broken (§3.6);
  // quota from AuditStoreStatus::quota_alarm() (near/over quota, stuck writes, overflow).
  void set_audit_chain_broken(std::optional<std::string> problem) { m_audit_chain_broken = std::move(problem); }
  void set_audit_quota(std::optional<std::string> problem) { m_audit_quota = std::move(problem); }
  void set_endpoint(std::string endpoint) { m_identity.endpoint = std::move(endpoint); }

  // --- alarms and reporting ----------------------------------------------------------------
  // Re-evaluates every alarm at `now`; returns the raises and clears to log and audit. Call it
  // after feeding events and on a periodic tick (≈1 s): hysteresis times run from the first
  // evaluation that sees a condition come or go.
  std::vector<AlarmTransition> evaluate(TimePoint now);
  // True once since the last call when the link state changed or an alarm moved.
  bool take_state_changed();
  bool state_changed() const { return m_state_changed; }

  // The §3.5 health report (also `xnodectl status --json`).
  json::Value report_json(TimePoint now) const;
  // One line for systemd STATUS=: "link up 12ms p50, queue 0 (0 s), 0 alarms".
  std::string status_line(TimePoint now) const;
  // Prometheus text exposition format 0.0.4.
  std::string prometheus_text(TimePoint now) const;

  // Read access for callers and tests.
  LinkState link_state() const { return m_link; }
  TimePoint link_since() const { return m_link_since; }
  const std::string& link_cause() const { return m_link_cause; }
  const std::optional<Outage>& last_outage() const { return m_last_outage; }
  std::optional<std::int64_t> rtt_percentile_ms(TimePoint now, double p) const { return m_rtt.percentile(now, p); }
  std::optional<std::int64_t> clock_offset_ms() const { return m_clock_offset_ms; }
  std::int64_t reconnects_24h(TimePoint now) const { return m_reconnects.total(now); }
  std::int64_t downtime_24h_s(TimePoint now) const;
  std::int64_t errors_24h(TimePoint now, ErrorClass c) const;
  std::optional<std::int64_t> cert_days_left(TimePoint now) const;
  bool alarm_active(AlarmId id) const { return m_alarms[static_cast<std::size_t>(id)].active(); }
  std::vector<AlarmId> active_alarms() const;

 private:
  struct Condition {
    bool on = false;
    std::string text;
  };
  Condition condition(AlarmId id, TimePoint now) const;
  void set_link(TimePoint now, LinkState state, std::string cause);

  NodeIdentity m_identity;
  TimePoint m_started_at;
  HealthOptions m_options;

  LinkState m_link = LinkState::down;
  TimePoint m_link_since;
  std::string m_link_cause = "not connected yet";
  bool m_ever_up = false;
  std::optional<TimePoint> m_outage_start;  // set while down
  std::string m_outage_cause;
  std::optional<Outage> m_last_outage;
  SampleWindow m_rtt;
  std::optional<std::int64_t> m_tls_handshake_ms;
  RollingSum m_reconnects;
  RollingSum m_downtime_ms;
  std::array<RollingSum, error_class_count> m_errors;
  std::optional<std::int64_t> m_clock_offset_ms;
  std::optional<std::string> m_forbidden;

  std::optional<TimePoint> m_cert_expires;
  std::optional<TimePoint> m_crl_next_update;
  QueueSnapshot m_queue;
  std::int64_t m_quarantine = 0;
  std::optional<std::uint64_t> m_disk_free;
  std::vector<SourceHealth> m_sources;
  std::int64_t m_catalog_version = 0;
  std::vector<OverdueResource> m_overdue;
  std::optional<std::string> m_catalog_refused;
  std::int64_t m_config_version = 0;
  std::string m_config_sha256;
  std::optional<std::string> m_config_error;
  std::optional<std::string> m_audit_chain_broken;
  std::optional<std::string> m_audit_quota;

  std::array<AlarmTracker, alarm_count> m_alarms;
  bool m_state_changed = true;  // the first report goes out at once
};

}  // namespace xnode::health
