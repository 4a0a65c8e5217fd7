// The session's plug points for work other modules own: catalog sync (core/catalog), the health
// report (core/health) and audit shipping (core/audit). The session decides WHEN to talk to the
// platform and handles every generic answer (back-off, Retry-After, 403, network errors); a hook
// only supplies bodies and interprets the answers specific to its endpoint.
//
// Hooks are called synchronously on the session's thread and must be quick: they work from memory
// or, at most, a short read (the audit store's WAL reader); never the network.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/json.hpp"
#include "core/base/time.hpp"

namespace xnode::uplink {

// A request a hook wants sent. The session adds X-XN-Node and sends it when the link allows.
struct HookRequest {
  std::string method;                           // "PUT", "GET", …
  std::string target;                           // "/xep/v1/catalog"
  std::string content_type = "application/json";  // ignored when body is empty
  std::string body;
};

enum class HookOutcome {
  done,     // this exchange is finished
  again,    // more to send (e.g. a GET after 409 version_conflict, then a PUT): the session asks
            // needs_sync() again at once
  refused,  // the platform refused the slice for good (400/422): the session raises the alarm
            // catalog_refused and stops asking until catalog_changed()
};

// Catalog slice sync (§3.2), e.g. an adapter over catalog::CatalogSync. The session asks
// needs_sync() whenever it could send (after hello, after catalog_changed(), after each answer)
// and, when true, calls next_request() once and sends it. Every request ends with exactly one
// on_response() (an HTTP answer the session does not treat generically: 2xx, 304, 400, 404
// not_found, 409, 422, …) or one on_failure() (network error, 5xx, 429/503, 403, 405, link down):
// the session backs off the link, the hook may keep its own retry time as well.
class CatalogHook {
 public:
  virtual ~CatalogHook() = default;
  // The catalog version this node holds (sent in hello).
  virtual std::int64_t version() const = 0;
  // hello's catalog_version (§3.1): the version the platform holds for this node.
  virtual void on_hello(std::int64_t platform_version) { (void)platform_version; }
  // Non-const: an adapter may take the request from its state machine here.
  virtual bool needs_sync(TimePoint now) = 0;
  // The platform answered 404 unknown_stream for `stream`: sync even if nothing changed locally.
  virtual void sync_requested(std::string_view stream) = 0;
  virtual HookRequest next_request() = 0;
  virtual HookOutcome on_response(TimePoint now, int status, const json::Value& body, std::string_view raw) = 0;
  virtual void on_failure(TimePoint now, std::optional<Seconds> retry_after) = 0;
};

// The health report (§3.5). The session decides the cadence (hello's heartbeat_interval_s, and at
// once on a state change); the hook writes the report body from the health model, which the app
// feeds with the session's HealthSample actions.
class HealthHook {
 public:
  virtual ~HealthHook() = default;
  virtual std::string report(TimePoint now) = 0;
};

// Audit shipping (§3.6). Events are numbered from 1 and hash-chained by core/audit.
struct AuditBatch {
  std::uint64_t first_seq = 0;
  std::uint64_t count = 0;
  std::string body;  // NDJSON, one event a line, each ending in '\n'
};

class AuditHook {
 public:
  virtual ~AuditHook() = default;
  // The highest event seq the platform has acknowledged (persisted by the audit store).
  virtual std::uint64_t acked_through() const = 0;
  virtual bool has_events_after(std::uint64_t seq) const = 0;
  // Events with seq > after_seq, in order, at most max_events; nullopt when the node no longer
  // holds event after_seq + 1 in a form it can send (then a chain_broken cannot be repaired).
  virtual std::optional<AuditBatch> next_batch(std::uint64_t after_seq, std::size_t max_events) = 0;
  // The platform acknowledged everything through `seq`.
  virtual void acknowledged(std::uint64_t seq) = 0;
};

}  // namespace xnode::uplink
