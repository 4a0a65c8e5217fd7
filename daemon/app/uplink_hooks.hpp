// Adapters that plug the other modules into the uplink session's hooks (core/uplink/hooks.hpp):
// catalog::CatalogSync as the CatalogHook, health::HealthModel as the HealthHook (and the sink of
// the session's HealthSample / Alarm actions), io::AuditStore as the AuditHook (and the sink of
// its AuditEvent actions). Wiring only: each decision stays in the module it belongs to.
#pragma once
#include <functional>
#include <optional>

#include "core/audit/audit_event.hpp"
#include "core/catalog/catalog_sync.hpp"
#include "core/health/health_model.hpp"
#include "core/uplink/actions.hpp"
#include "core/uplink/hooks.hpp"
#include "io/stores/audit_store.hpp"

namespace xnode::app {

class CatalogSyncHook final : public uplink::CatalogHook {
 public:
  // `on_event` (optional) hears what each answer meant (audit trail, health model).
  explicit CatalogSyncHook(catalog::CatalogSync& sync,
                           std::function<void(const catalog::CatalogSyncEvent&)> on_event = {});

  std::int64_t version() const override;
  void on_hello(std::int64_t platform_version) override;
  bool needs_sync(TimePoint now) override;
  // CatalogSync keeps the platform equal to the department's files and has no "force": when the
  // platform does not know a stream it believes in sync, a resync cannot help (the resource is
  // held after a 422, or not in the files). The session keeps retrying that stream with back-off.
  void sync_requested(std::string_view stream) override;
  uplink::HookRequest next_request() override;
  uplink::HookOutcome on_response(TimePoint now, int status, const json::Value& body, std::string_view raw) override;
  void on_failure(TimePoint now, std::optional<Seconds> retry_after) override;

 private:
  catalog::CatalogSync& m_sync;
  std::function<void(const catalog::CatalogSyncEvent&)> m_on_event;
  std::optional<catalog::CatalogRequest> m_polled;  // taken by needs_sync, sent by next_request
};

class HealthModelHook final : public uplink::HealthHook {
 public:
  explicit HealthModelHook(health::HealthModel& model) : m_model(model) {}
  std::string report(TimePoint now) override;

 private:
  health::HealthModel& m_model;
};

// The session's health facts into the model.
void feed_health(health::HealthModel& model, const uplink::HealthSample& sample);
// The session's alarms that the model tracks itself (platform_forbidden, catalog_refused,
// audit_chain_broken); others are the session's own and go to the log and the audit trail.
void feed_health(health::HealthModel& model, const uplink::Alarm& alarm, TimePoint now);

class AuditStoreHook final : public uplink::AuditHook {
 public:
  explicit AuditStoreHook(io::AuditStore& store) : m_store(store) {}
  std::uint64_t acked_through() const override;
  bool has_events_after(std::uint64_t seq) const override;
  // A short read of the store's WAL file on the calling thread (at most max_events lines).
  std::optional<uplink::AuditBatch> next_batch(std::uint64_t after_seq, std::size_t max_events) override;
  void acknowledged(std::uint64_t seq) override;

 private:
  io::AuditStore& m_store;
};

// An uplink AuditEvent as the chain's entry (actor "xnoded").
audit::AuditEntry to_audit_entry(const uplink::AuditEvent& event);

}  // namespace xnode::app
