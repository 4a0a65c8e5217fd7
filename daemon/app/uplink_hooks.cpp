#include "app/uplink_hooks.hpp"

#include <utility>

#include "core/base/log.hpp"

namespace xnode::app {

// --- catalog ---------------------------------------------------------------------------------

CatalogSyncHook::CatalogSyncHook(catalog::CatalogSync& sync, std::function<void(const catalog::CatalogSyncEvent&)> on_event)
    : m_sync(sync), m_on_event(std::move(on_event)) {}

std::int64_t CatalogSyncHook::version() const {
  const auto& c = m_sync.confirmed();
  return c ? c->version : 0;
}

void CatalogSyncHook::on_hello(std::int64_t platform_version) { m_sync.on_hello(platform_version); }

bool CatalogSyncHook::needs_sync(TimePoint now) {
  if (!m_polled) m_polled = m_sync.poll(now);
  return m_polled.has_value();
}

void CatalogSyncHook::sync_requested(std::string_view stream) {
  log::warning("uplink", "the platform does not know stream " + std::string(stream) +
                             (m_sync.resource_held(stream) ? " (held after the platform refused its catalog entry)"
                                                           : "; is it in the catalog files?"));
}

uplink::HookRequest CatalogSyncHook::next_request() {
  uplink::HookRequest r;
  r.target = "/xep/v1/catalog";
  if (m_polled && m_polled->kind == catalog::CatalogRequest::Kind::put) {
    r.method = "PUT";
    r.body = std::move(m_polled->body);
  } else {
    r.method = "GET";
  }
  m_polled.reset();
  return r;
}

uplink::HookOutcome CatalogSyncHook::on_response(TimePoint now, int status, const json::Value& body, std::string_view) {
  const catalog::CatalogSyncEvent ev = m_sync.on_response(status, body, now);
  if (m_on_event) m_on_event(ev);
  switch (ev.kind) {
    case catalog::CatalogSyncEvent::Kind::stored: return uplink::HookOutcome::done;
    case catalog::CatalogSyncEvent::Kind::conflict:
    case catalog::CatalogSyncEvent::Kind::reconciled: return uplink::HookOutcome::again;
    case catalog::CatalogSyncEvent::Kind::rejected: return uplink::HookOutcome::refused;
    case catalog::CatalogSyncEvent::Kind::failed: return uplink::HookOutcome::done;  // its own retry time
  }
  return uplink::HookOutcome::done;
}

void CatalogSyncHook::on_failure(TimePoint now, std::optional<Seconds> retry_after) {
  m_polled.reset();
  const catalog::CatalogSyncEvent ev = m_sync.on_failure(now, retry_after);
  if (m_on_event) m_on_event(ev);
}

// --- health ----------------------------------------------------------------------------------

std::string HealthModelHook::report(TimePoint now) { return json::serialize(m_model.report_json(now)); }

namespace {

std::optional<health::ErrorClass> to_health_class(uplink::ErrorClass c) {
  switch (c) {
    case uplink::ErrorClass::dns: return health::ErrorClass::dns;
    case uplink::ErrorClass::connect: return health::ErrorClass::connect;
    case uplink::ErrorClass::tls: return health::ErrorClass::tls;
    case uplink::ErrorClass::timeout: return health::ErrorClass::timeout;
    case uplink::ErrorClass::http_4xx: return health::ErrorClass::http_4xx;
    case uplink::ErrorClass::http_5xx: return health::ErrorClass::http_5xx;
    case uplink::ErrorClass::protocol: return health::ErrorClass::http_5xx;  // the platform misbehaved
  }
  return std::nullopt;
}

}  // namespace

void feed_health(health::HealthModel& model, const uplink::HealthSample& s) {
  using Kind = uplink::HealthSample::Kind;
  switch (s.kind) {
    case Kind::request_ok:
      model.request_completed(s.at, s.rtt);
      model.platform_accepted(s.at);
      // An answer that worked ends a degraded spell (503 busy, 403): otherwise the link read
      // "degraded" with a stale cause until the next reconnect, however well it worked since.
      if (model.link_state() == health::LinkState::degraded) model.link_up(s.at);
      break;
    case Kind::request_failed:
      if (s.rtt.count() > 0) model.request_completed(s.at, s.rtt);
      if (auto c = to_health_class(s.error)) model.error(s.at, *c);
      // An HTTP failure is an answer: the link works, but not well.
      if (s.error == uplink::ErrorClass::http_4xx || s.error == uplink::ErrorClass::http_5xx ||
          s.error == uplink::ErrorClass::protocol)
        model.link_degraded(s.at, s.detail);
      break;
    case Kind::link_lost: model.link_down(s.at, s.detail); break;
    case Kind::link_restored: model.link_up(s.at); break;
    case Kind::clock_offset:
      // The session already took the midpoint of the round trip.
      model.hello_answered(s.at, s.at, s.at + s.clock_offset);
      break;
  }
}

void feed_health(health::HealthModel& model, const uplink::Alarm& a, TimePoint now) {
  if (a.id == "platform_forbidden") {
    if (a.raised) model.platform_forbidden(now, a.text);
    else model.platform_accepted(now);
  } else if (a.id == "catalog_refused") {
    if (a.raised) model.catalog_refused(a.text);
    else model.catalog_accepted();
  } else if (a.id == "audit_chain_broken") {
    model.set_audit_chain_broken(a.raised ? std::optional<std::string>(a.text) : std::nullopt);
  }
}

// --- audit -----------------------------------------------------------------------------------

std::uint64_t AuditStoreHook::acked_through() const {
  const std::int64_t s = m_store.shipped_through();
  return s > 0 ? static_cast<std::uint64_t>(s) : 0;
}

bool AuditStoreHook::has_events_after(std::uint64_t seq) const {
  const std::int64_t durable = m_store.status().durable_seq;
  return durable > 0 && static_cast<std::uint64_t>(durable) > seq;
}

std::optional<uplink::AuditBatch> AuditStoreHook::next_batch(std::uint64_t after_seq, std::size_t max_events) {
  auto events = m_store.events_after(static_cast<std::int64_t>(after_seq), max_events);
  if (!events) {
    log::error("uplink", "reading audit events after " + std::to_string(after_seq) + " failed: " + events.error().message);
    return std::nullopt;
  }
  uplink::AuditBatch b;
  for (const audit::AuditEvent& e : events.value()) {
    if (b.count == 0) b.first_seq = static_cast<std::uint64_t>(e.seq);
    b.body += audit::to_line(e);
    b.body += '\n';
    ++b.count;
  }
  return b;
}

void AuditStoreHook::acknowledged(std::uint64_t seq) {
  auto r = m_store.mark_shipped(static_cast<std::int64_t>(seq));
  if (!r) log::error("uplink", "recording audit events shipped through " + std::to_string(seq) + " failed: " + r.error().message);
}

audit::AuditEntry to_audit_entry(const uplink::AuditEvent& e) {
  audit::AuditEntry a;
  a.actor = "xnoded";
  a.action = e.action;
  a.object = e.object;
  a.result = e.result;
  a.detail = e.detail;
  return a;
}

}  // namespace xnode::app
