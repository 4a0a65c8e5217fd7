// The audit vocabulary (issue #5, platform-api.md §3.6): every operation on exchange data and on the
// node's configuration is one of these actions. The platform and the bureau's tooling read them, so
// they are part of the contract: add new ones, never rename.
#pragma once
#include <string_view>

namespace xnode::audit {

namespace action {
inline constexpr std::string_view config_loaded = "config.loaded";
inline constexpr std::string_view config_refused = "config.refused";
inline constexpr std::string_view catalog_synced = "catalog.synced";
inline constexpr std::string_view catalog_conflict = "catalog.conflict";
inline constexpr std::string_view catalog_refused = "catalog.refused";
inline constexpr std::string_view batch_sent = "batch.sent";      // one event a batch, not a record
inline constexpr std::string_view batch_acked = "batch.acked";
inline constexpr std::string_view records_quarantined = "records.quarantined";
inline constexpr std::string_view quarantine_expired = "quarantine.expired";  // removed by quarantine.retention
inline constexpr std::string_view gap_declared = "gap.declared";
inline constexpr std::string_view link_up = "link.up";
inline constexpr std::string_view link_down = "link.down";
inline constexpr std::string_view tls_refused = "tls.refused";
inline constexpr std::string_view alarm_raised = "alarm.raised";
inline constexpr std::string_view alarm_cleared = "alarm.cleared";
inline constexpr std::string_view operator_command = "operator.command";  // detail.uid = calling uid
inline constexpr std::string_view node_started = "node.started";
inline constexpr std::string_view node_stopped = "node.stopped";
inline constexpr std::string_view audit_pruned = "audit.pruned";
// Events the store could not keep (in-memory queue full while the disk was stuck or over quota):
// the loss itself is recorded as soon as the store can write again.
inline constexpr std::string_view audit_overflow = "audit.overflow";
}  // namespace action

namespace result {
inline constexpr std::string_view ok = "ok";
inline constexpr std::string_view refused = "refused";
inline constexpr std::string_view failed = "failed";
inline constexpr std::string_view conflict = "conflict";
}  // namespace result

// The daemon's own actor name; operator commands use operator_actor(uid).
inline constexpr std::string_view daemon_actor = "xnoded";

}  // namespace xnode::audit
