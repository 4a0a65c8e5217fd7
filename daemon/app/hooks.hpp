// The uplink session's plug points (core/uplink/hooks.hpp) implemented with the daemon's parts:
// catalog sync over core/catalog's CatalogSync, the health report over core/health's model, and
// audit shipping over the audit store. They live on the daemon's executor.
#pragma once
#include <functional>
#include <optional>
#include <string>

#include "core/catalog/catalog_sync.hpp"
#include "core/health/health_model.hpp"
#include "core/uplink/hooks.hpp"
#include "io/stores/audit_store.hpp"

namespace xnode::app {

// Records an audit entry (actor xnoded) — the daemon appends it to the audit store.
using AuditFn = std::function<void(std::string action, std::string object, std::string result, json::Value detail)>;

class CatalogHookAdapter final : public uplink::CatalogHook {
 public:
  // `persist` saves the confirmed {version, sha256} so a restart does not resend an unchanged slice.
  CatalogHookAdapter(catalog::CatalogSync& sync, health::HealthModel& health, AuditFn audit,
                     std::function<void(const catalog::CatalogSync::Confirmed&)> persist);

  std::int64_t version() const override;
  bool needs_sync(TimePoint now) override;
  void sync_requested(std::string_view stream) override;
  uplink::HookRequest next_request() override;
  uplink::HookOutcome on_response(TimePoint now, int status, const json::Value& body, std::string_view raw) override;
  void on_failure(TimePoint now, std::optional<Seconds> retry_after) override;

 private:
  uplink::HookOutcome handle(const catalog::CatalogSyncEvent& ev, TimePoint now);

  catalog::CatalogSync& m_sync;
  health::HealthModel& m_health;
  AuditFn m_audit;
  std::function<void(const catalog::CatalogSync::Confirmed&)> m_persist;
  std::optional<catalog::CatalogRequest> m_pending;
};

class HealthHookAdapter final : public uplink::HealthHook {
 public:
  // `refresh` brings the model up to date just before a report is written.
  HealthHookAdapter(health::HealthModel& health, std::function<void(TimePoint)> refresh);
  std::string report(TimePoint now) override;

 private:
  health::HealthModel& m_health;
  std::function<void(TimePoint)> m_refresh;
};

class AuditHookAdapter final : public uplink::AuditHook {
 public:
  explicit AuditHookAdapter(io::AuditStore& store) : m_store(store) {}
  std::uint64_t acked_through() const override;
  bool has_events_after(std::uint64_t seq) const override;
  std::optional<uplink::AuditBatch> next_batch(std::uint64_t after_seq, std::size_t max_events) override;
  void acknowledged(std::uint64_t seq) override;

 private:
  io::AuditStore& m_store;
};

}  // namespace xnode::app
