#include "app/hooks.hpp"

#include "core/audit/actions.hpp"
#include "core/base/log.hpp"

namespace xnode::app {

// --- catalog ------------------------------------------------------------------------------------

CatalogHookAdapter::CatalogHookAdapter(catalog::CatalogSync& sync, health::HealthModel& health, AuditFn audit,
                                       std::function<void(const catalog::CatalogSync::Confirmed&)> persist)
    : m_sync(sync), m_health(health), m_audit(std::move(audit)), m_persist(std::move(persist)) {}

std::int64_t CatalogHookAdapter::version() const {
  const auto& c = m_sync.confirmed();
  return c ? c->version : 0;
}

bool CatalogHookAdapter::needs_sync(TimePoint now) {
  if (!m_pending) m_pending = m_sync.poll(now);
  return m_pending.has_value();
}

void CatalogHookAdapter::sync_requested(std::string_view stream) {
  log::warning("catalog", "platform does not know stream " + std::string(stream) +
                              ": checking that the platform holds the department's slice");
  m_sync.on_hello(-1);  // an impossible version: the next poll re-checks with the platform
}

uplink::HookRequest CatalogHookAdapter::next_request() {
  uplink::HookRequest r;
  r.target = "/xep/v1/catalog";
  if (m_pending && m_pending->kind == catalog::CatalogRequest::Kind::put) {
    r.method = "PUT";
    r.body = std::move(m_pending->body);
  } else {
    r.method = "GET";
  }
  m_pending.reset();
  return r;
}

uplink::HookOutcome CatalogHookAdapter::on_response(TimePoint now, int status, const json::Value& body,
                                                    std::string_view) {
  return handle(m_sync.on_response(status, body, now), now);
}

void CatalogHookAdapter::on_failure(TimePoint now, std::optional<Seconds> retry_after) {
  m_pending.reset();
  handle(m_sync.on_failure(now, retry_after), now);
}

static json::Value codes_json(const std::vector<std::string>& codes) {
  json::Value a = json::Value::array();
  for (const auto& c : codes) a.push_back(c);
  return a;
}

uplink::HookOutcome CatalogHookAdapter::handle(const catalog::CatalogSyncEvent& ev, TimePoint now) {
  using K = catalog::CatalogSyncEvent::Kind;
  (void)now;
  switch (ev.kind) {
    case K::stored: {
      json::Value d = json::Value::object();
      d.set("version", static_cast<long long>(ev.version));
      m_audit(std::string(audit::action::catalog_synced), "catalog", "ok", std::move(d));
      m_health.catalog_accepted();
      log::notice("catalog", "platform holds the department's slice at version " + std::to_string(ev.version));
      if (m_sync.confirmed()) m_persist(*m_sync.confirmed());
      return uplink::HookOutcome::done;
    }
    case K::conflict: {
      json::Value d = json::Value::object();
      d.set("message", ev.message);
      m_audit(std::string(audit::action::catalog_conflict), "catalog", "conflict", std::move(d));
      log::warning("catalog", "version conflict: fetching the platform's copy to re-base (" + ev.message + ")");
      return uplink::HookOutcome::again;
    }
    case K::reconciled: {
      json::Value d = json::Value::object();
      d.set("only_local", codes_json(ev.drift.only_local));
      d.set("only_platform", codes_json(ev.drift.only_platform));
      d.set("changed", codes_json(ev.drift.changed));
      d.set("platform_version", static_cast<long long>(ev.version));
      m_audit(std::string(audit::action::catalog_conflict), "catalog", "reconciled", std::move(d));
      if (!ev.drift.empty())
        log::warning("catalog", "the platform's copy had drifted from the department's files; sending the files' slice again");
      return uplink::HookOutcome::again;
    }
    case K::rejected: {
      json::Value d = json::Value::object();
      json::Value problems = json::Value::array();
      std::string text;
      for (const auto& p : ev.problems) {
        json::Value o = json::Value::object();
        o.set("code", p.code);
        o.set("field", p.field);
        o.set("reason", p.reason);
        problems.push_back(std::move(o));
        if (text.size() < 400) text += (text.empty() ? "" : "; ") + p.code + ": " + p.field + ": " + p.reason;
      }
      d.set("problems", std::move(problems));
      d.set("message", ev.message);
      m_audit(std::string(audit::action::catalog_refused), "catalog", "refused", std::move(d));
      m_health.catalog_refused(text.empty() ? ev.message : text);
      log::error("catalog", "the platform refused the catalog slice: " + (text.empty() ? ev.message : text));
      return uplink::HookOutcome::refused;
    }
    case K::failed:
      return uplink::HookOutcome::done;
  }
  return uplink::HookOutcome::done;
}

// --- health -------------------------------------------------------------------------------------

HealthHookAdapter::HealthHookAdapter(health::HealthModel& health, std::function<void(TimePoint)> refresh)
    : m_health(health), m_refresh(std::move(refresh)) {}

std::string HealthHookAdapter::report(TimePoint now) {
  if (m_refresh) m_refresh(now);
  return json::serialize(m_health.report_json(now));
}

// --- audit --------------------------------------------------------------------------------------

std::uint64_t AuditHookAdapter::acked_through() const {
  return static_cast<std::uint64_t>(m_store.shipped_through());
}

bool AuditHookAdapter::has_events_after(std::uint64_t seq) const {
  return static_cast<std::uint64_t>(m_store.status().durable_seq) > seq;
}

std::optional<uplink::AuditBatch> AuditHookAdapter::next_batch(std::uint64_t after_seq, std::size_t max_events) {
  auto events = m_store.events_after(static_cast<std::int64_t>(after_seq), max_events);
  if (!events) {
    log::warning("audit", "cannot read audit events to ship: " + events.error().message);
    return std::nullopt;
  }
  uplink::AuditBatch b;
  if (events->empty()) return b;
  if (static_cast<std::uint64_t>(events->front().seq) != after_seq + 1) return std::nullopt;
  b.first_seq = after_seq + 1;
  b.count = events->size();
  for (const auto& e : *events) {
    b.body += audit::to_line(e);
    b.body.push_back('\n');
  }
  return b;
}

void AuditHookAdapter::acknowledged(std::uint64_t seq) {
  auto r = m_store.mark_shipped(static_cast<std::int64_t>(seq));
  if (!r) log::warning("audit", "cannot record the shipped mark: " + r.error().message);
}

}  // namespace xnode::app
