// What the uplink session asks its runner to do. The session never touches a socket, a file or a
// clock: it appends actions to a queue, the runner (daemon/app/uplink_runner) performs them in
// order and reports the outcomes back as events (session.hpp).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/base/json.hpp"
#include "core/base/time.hpp"

namespace xnode::uplink {

using Headers = std::vector<std::pair<std::string, std::string>>;

enum class RequestKind { hello, catalog, health, config, batch, gap, audit };
const char* request_kind_name(RequestKind k);

// Failure classes as the health report counts them (§3.5 errors_24h), plus `protocol` for an
// answer that is not what XEP/1 promises (unparsable body, missing member).
enum class ErrorClass { dns, connect, tls, timeout, http_4xx, http_5xx, protocol };
const char* error_class_name(ErrorClass c);

// Perform one HTTP request. The body is shared, not copied: the session keeps its reference to
// resend or split a batch without reading it from the queue again. The runner answers with
// Session::response or Session::transport_error carrying the same request_id (a response for an
// id the session no longer waits for is ignored).
struct Send {
  std::uint64_t request_id = 0;
  RequestKind kind = RequestKind::hello;
  std::string method;
  std::string target;  // path and query, relative to the endpoint base URL
  Headers headers;     // X-XN-Node always; Content-Type when there is a body; batch headers
  std::shared_ptr<const std::string> body;  // never null; empty for GET
};

// Read records of `stream` with seq > after_seq from the queue (QueueStore::read_batch) and
// answer with Session::batch_loaded(stream, after_seq, …) or Session::load_failed.
struct LoadBatch {
  std::string stream;
  std::uint64_t after_seq = 0;
  std::size_t max_records = 0;
  std::size_t max_bytes = 0;
};

// The platform holds everything of `stream` through `through`: delete it locally.
struct Acknowledge {
  std::string stream;
  std::uint64_t through = 0;
};

// After hello: the platform's high-water mark (QueueStore::reconcile_stream). The runner then
// reports the stream's last_seq with Session::queue_has_data.
struct Reconcile {
  std::string stream;
  std::uint64_t platform_acked_through = 0;
};

// The platform accepted a declared gap (§3.4). When `from_queue`, the gap came from the queue's
// pending gaps (eviction) and the runner calls QueueStore::mark_gap_declared.
struct GapDeclared {
  std::string stream;
  std::uint64_t from_seq = 0;
  std::uint64_t to_seq = 0;
  std::string reason;
  bool from_queue = false;
};

// Keep one record in the local quarantine (source "platform", origin "seq N"): a per-record
// rejection, a batch refused as malformed, or a single record too large to ever send.
struct Quarantine {
  std::string stream;
  std::uint64_t seq = 0;
  std::string reason;
  std::string line;  // the record's NDJSON line as sent, without the newline
};

// Call Session::tick(now) at `at` (one timer: a new ArmTimer replaces the previous one).
struct ArmTimer {
  TimePoint at{};
};

// Raise or clear an alarm of the health report. Ids: platform_forbidden, seq_reuse,
// audit_chain_broken, unknown_stream, catalog_refused, platform_defect, queue_read_failed,
// config_refused.
struct Alarm {
  std::string id;
  bool raised = true;
  std::string text;
};

// Append one event to the audit chain (core/audit adds seq, time, actor, prev and hash).
struct AuditEvent {
  std::string action;  // e.g. "batch.acked", "gap.declared", "batch.quarantined"
  std::string object;  // e.g. "<stream>:41874-41999"
  std::string result;  // "ok", "rejected", "failed"
  json::Value detail = json::Value::object();
};

// A fact for the health model: one request's outcome, a link change, or the clock offset.
struct HealthSample {
  enum class Kind { request_ok, request_failed, link_lost, link_restored, clock_offset };
  Kind kind = Kind::request_ok;
  TimePoint at{};
  Millis rtt{0};                              // request_ok, request_failed with an HTTP answer
  ErrorClass error = ErrorClass::protocol;    // request_failed, link_lost
  std::string detail;                          // request_failed, link_lost: the cause
  Millis clock_offset{0};                      // clock_offset: platform time minus node time
};

// The platform offers a signed configuration (§3.7, the 200 body verbatim). The app verifies the
// signature, validates and applies it, then calls Session::config_applied or config_rejected.
struct ConfigOffered {
  std::int64_t version = 0;
  std::string body;
};

using Action = std::variant<Send, LoadBatch, Acknowledge, Reconcile, GapDeclared, Quarantine, ArmTimer,
                            Alarm, AuditEvent, HealthSample, ConfigOffered>;

}  // namespace xnode::uplink
