// The uplink session: the node's side of XEP/1 (platform-api.md) as a pure state machine.
//
// Like Bitcoin Core's Transport it never touches a socket: events go in (link_up, response,
// transport_error, tick, queue_has_data, batch_loaded, …), actions come out (actions.hpp) and a
// thin runner performs them. Time is passed in with every event; jitter comes from an injected
// Random. Nothing here sleeps, so the tests drive hours of back-off in microseconds.
//
// Flow: hello (§3.1) → catalog sync through the CatalogHook → health report when due → config
// fetch when the platform offers a newer one → declared gaps → data batches (§3.3), streams in
// round-robin, interleaved with audit batches → acknowledge → next.
//
// Concurrency policy: ONE request in flight at a time (XEP/1 over one keep-alive HTTP/1.1
// connection gives no gain from more without pipelining), plus ONE batch read ahead from the
// queue while it is in flight, so the store thread's read overlaps the network round trip.
// Fairness: each stream with data gets one batch a turn, in a fixed rotation; audit shipping
// takes a turn between data batches once its events have waited audit_linger (at once when
// there is no data); health reports and gap declarations go first when due.
//
// Answers (§2): 200 batch → Acknowledge through acked_through, Quarantine for each `rejected`,
// Alarm seq_reuse when mismatches > 0. 409 gap → resend from expected_seq, or declare the gap when
// the queue no longer holds those records. 413 → halve the batch; a single record too large is
// quarantined and declared as a gap, never a stall. 400 malformed on a batch → halved the same way
// until the malformed record stands alone; that record is quarantined and declared as a gap (loss
// visible, never silent) and the good records around it are delivered. 404 unknown_stream → catalog sync, then
// retry that stream with its own back-off. 429/503 → Retry-After (or back-off). 403 → alarm
// platform_forbidden, nothing sent for forbidden_backoff. 5xx, network errors and protocol errors
// → exponential back-off with full jitter, capped; any successful answer resets it. A network
// error also ends the link: the next request is hello again.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/uplink/actions.hpp"
#include "core/uplink/backoff.hpp"
#include "core/uplink/hooks.hpp"

namespace xnode::uplink {

struct SessionConfig {
  std::string node_id;
  std::string software_name = "xnode";
  std::string software_version = "0.0.0";
  std::int64_t config_version = 0;     // the running configuration (hello, If-None-Match)
  std::string config_sha256;           // hex SHA-256 of the configuration file bytes
  std::int64_t catalog_version = 0;    // used only without a CatalogHook
  std::vector<std::string> streams;    // the catalog's streams (more are learnt from the queue)
  std::size_t max_batch_records = 5000;
  std::size_t max_batch_bytes = 4u << 20;  // upper bound; hello's max_batch_bytes lowers it
  std::size_t max_audit_events = 500;
  // While data flows, audit events wait this long to travel together (every acknowledged batch
  // writes one; shipping each alone would double the requests). An idle link ships at once.
  Millis audit_linger{5000};
  Millis backoff_initial{250};
  Millis backoff_cap{10000};               // issue #3: at most 10 s by default
  Millis forbidden_backoff{10 * 60 * 1000};  // after 403
  Seconds max_retry_after{3600};            // a larger Retry-After is clamped to this
  Seconds default_heartbeat{60};            // until hello says otherwise
};

// A run of records as the queue returned it (io::StoredBatch without the io dependency).
struct Batch {
  std::uint64_t first_seq = 0;
  std::uint64_t count = 0;
  std::string body;  // NDJSON, one line a record, each ending in '\n'
};

// A range of seqs the queue evicted and the platform must be told about (io::GapRange).
struct Gap {
  std::string stream;
  std::uint64_t from_seq = 0;
  std::uint64_t to_seq = 0;
  std::string reason;
};

class Session {
 public:
  // Hooks are optional (nullptr: that part is skipped) and must outlive the session.
  Session(SessionConfig config, Random random, CatalogHook* catalog = nullptr, HealthHook* health = nullptr,
          AuditHook* audit = nullptr);

  // --- events --------------------------------------------------------------------------------
  // The runner can send (started, network configured). Hello goes first.
  void link_up(TimePoint now);
  // The runner stops sending (shutdown, endpoint reconfigured). Any request in flight is forgotten.
  void link_down(TimePoint now, std::string_view cause);
  // An HTTP answer to request `request_id` (any status).
  void response(TimePoint now, std::uint64_t request_id, int status, const Headers& headers,
                std::string_view body);
  // No HTTP answer: DNS, connect, TLS, timeout (the HTTPS client already retried once on a fresh
  // connection where XEP/1 allows it).
  void transport_error(TimePoint now, std::uint64_t request_id, ErrorClass error, std::string_view text);
  // The idle connection was found dead between requests (the liveness probe: keep-alive got no
  // answer, or a reset): the link is down and backs off as after a network error. Ignored while a
  // request is in flight (its own answer or error decides) or when the link is already down.
  void connection_lost(TimePoint now, ErrorClass error, std::string_view text);
  // The timer armed by ArmTimer fired (an early or late tick is harmless).
  void tick(TimePoint now);
  // The queue holds records of `stream` up to `last_seq` (after a commit, or from stats at start).
  void queue_has_data(TimePoint now, std::string_view stream, std::uint64_t last_seq);
  // The answer to LoadBatch{stream, after_seq, …}; an empty batch (count 0) when there is none.
  void batch_loaded(TimePoint now, std::string_view stream, std::uint64_t after_seq, Batch batch);
  void load_failed(TimePoint now, std::string_view stream, std::string_view text);
  // The queue evicted records (on_full: drop_oldest) and the platform must be told.
  void pending_gap(TimePoint now, Gap gap);
  // The local catalog slice changed (or a refused one was fixed): ask the hook again.
  void catalog_changed(TimePoint now);
  // New audit events were appended.
  void audit_appended(TimePoint now);
  // Something the health report shows changed (e.g. another module's alarm): report at once.
  void state_changed(TimePoint now);
  // Outcome of a ConfigOffered.
  void config_applied(TimePoint now, std::int64_t version, std::string sha256);
  void config_rejected(TimePoint now, std::int64_t version, std::string_view error);

  // --- actions -------------------------------------------------------------------------------
  bool has_actions() const { return !m_actions.empty(); }
  std::vector<Action> take_actions();

  // --- inspection (tests, status) ------------------------------------------------------------
  bool link_established() const { return m_hello_done; }
  bool request_in_flight() const { return m_inflight.has_value(); }
  // When no request may be sent before (back-off, Retry-After, 403); nullopt when free.
  std::optional<TimePoint> not_before() const { return m_not_before; }
  std::uint64_t acked_through(std::string_view stream) const;
  bool alarm_active(std::string_view id) const { return m_alarms.count(std::string(id)) != 0; }
  Seconds heartbeat_interval() const { return m_heartbeat; }
  std::size_t max_batch_bytes() const { return m_max_batch_bytes; }
  Millis clock_offset() const { return m_clock_offset; }
  const Backoff& backoff() const { return m_backoff; }

 private:
  struct PendingGap {
    std::uint64_t from_seq = 0;
    std::uint64_t to_seq = 0;
    std::string reason;
    bool from_queue = false;
  };
  struct StreamState {
    std::string code;
    std::uint64_t acked_through = 0;   // the platform's high-water mark as last heard
    std::uint64_t local_acked = 0;     // highest Acknowledge emitted
    std::uint64_t last_seq = 0;        // highest seq the queue holds, as last reported
    std::size_t record_limit = 0;      // after 413: records a batch at most (0: no limit)
    std::deque<PendingGap> gaps;       // sorted by from_seq
    std::optional<TimePoint> hold_until;  // unknown_stream: wait for catalog sync and back-off
    Millis hold_delay{0};
  };
  struct InFlight {
    std::uint64_t id = 0;
    RequestKind kind = RequestKind::hello;
    TimePoint sent_at{};
    std::string stream;                       // batch, gap
    std::uint64_t first_seq = 0, count = 0;   // batch, audit
    std::shared_ptr<const std::string> body;  // batch (kept to split or resend)
    PendingGap gap;                           // gap
  };
  struct Loaded {
    std::string stream;
    std::uint64_t after_seq = 0;
    Batch batch;
    std::shared_ptr<const std::string> body;  // batch.body moved here once
  };

  void observe_time(TimePoint now);
  StreamState& stream(std::string_view code);
  StreamState* find_stream(std::string_view code);
  void emit(Action a) { m_actions.push_back(std::move(a)); }
  void pump(TimePoint now);
  void update_timer(TimePoint now);
  InFlight& send(TimePoint now, RequestKind kind, std::string method, std::string target,
                 std::string_view content_type, std::shared_ptr<const std::string> body, Headers extra = {});

  // Request builders.
  void send_hello(TimePoint now);
  void send_catalog(TimePoint now);
  void send_health(TimePoint now);
  void send_config_fetch(TimePoint now);
  bool send_sendable_gap(TimePoint now);
  bool send_audit(TimePoint now);
  bool send_data(TimePoint now);
  void send_batch(TimePoint now, StreamState& s, std::uint64_t first_seq, std::uint64_t count,
                  std::shared_ptr<const std::string> body);
  // Starts the next queue read in the rotation (also while a batch is in flight: read-ahead).
  bool start_load(TimePoint now);
  bool held(const StreamState& s, TimePoint now) const { return s.hold_until && now < *s.hold_until; }
  void hold_stream(TimePoint now, StreamState& s);

  // Answer handling.
  bool handle_generic(TimePoint now, const InFlight& req, int status, const Headers& headers,
                      std::string_view code, std::string_view message, Millis rtt);
  // Each handles the answers of its endpoint that handle_generic left; `body` is the parsed JSON
  // answer (null when absent or unparsable), `raw` the bytes.
  struct Answer {
    int status = 0;
    const json::Value& body;
    std::string_view raw;
    std::string_view code;     // body.error
    std::string_view message;  // body.message
    Millis rtt{0};
  };
  void on_hello(TimePoint now, const InFlight& req, const Answer& a);
  void on_catalog(TimePoint now, const Answer& a);
  void on_health(TimePoint now, const Answer& a);
  void on_config(TimePoint now, const Answer& a);
  void on_batch(TimePoint now, const InFlight& req, const Answer& a);
  void on_gap(TimePoint now, const InFlight& req, const Answer& a);
  void on_audit(TimePoint now, const InFlight& req, const Answer& a);
  void unexpected_answer(TimePoint now, const InFlight& req, const Answer& a);

  void fail(TimePoint now, ErrorClass error, std::string_view detail, Millis rtt);
  void succeed(TimePoint now, Millis rtt);
  void lose_link(TimePoint now, ErrorClass error, std::string_view cause);
  void raise_alarm(TimePoint now, const std::string& id, std::string text);
  void clear_alarm(TimePoint now, const std::string& id);
  void audit(std::string action, std::string object, std::string result, json::Value detail = json::Value::object());
  void note_platform_acked(StreamState& s, std::uint64_t through);
  void add_gap(StreamState& s, PendingGap gap);
  // Gives records up for good: quarantine each line, then declare their range as a gap.
  void drop_records(TimePoint now, StreamState& s, std::uint64_t first_seq, const std::string& body,
                    std::uint64_t count, const std::string& reason);
  void offer_config_version(std::int64_t version);
  // A request ended without an answer for its endpoint's logic (hooks must hear of it).
  void request_failed(TimePoint now, const InFlight& req, std::optional<Seconds> retry_after);

  SessionConfig m_config;
  Backoff m_backoff;
  CatalogHook* m_catalog;
  HealthHook* m_health;
  AuditHook* m_audit;

  std::vector<Action> m_actions;
  std::uint64_t m_next_request_id = 1;
  std::optional<InFlight> m_inflight;

  bool m_link_up = false;
  bool m_hello_done = false;
  std::optional<TimePoint> m_not_before;
  std::optional<TimePoint> m_armed;
  std::optional<TimePoint> m_last_now;
  std::optional<TimePoint> m_outage_start;
  std::string m_outage_cause;

  std::vector<StreamState> m_streams;  // rotation order = order first seen
  std::size_t m_rotation = 0;          // index of the stream whose turn is next
  bool m_audit_turn = false;           // audit shipping takes every other turn
  std::optional<LoadBatch> m_loading;  // at most one read from the queue outstanding
  std::optional<Loaded> m_loaded;      // at most one batch read ahead

  bool m_catalog_refused = false;  // 422 until catalog_changed
  std::optional<TimePoint> m_next_health;
  bool m_config_fetch_wanted = false;
  std::int64_t m_config_refused_version = 0;
  std::uint64_t m_audit_acked = 0;
  bool m_audit_stopped = false;  // chain broken beyond repair
  std::optional<TimePoint> m_audit_pending_since;  // events waiting to ship since

  Seconds m_heartbeat;
  std::size_t m_max_batch_bytes;
  Millis m_clock_offset{0};
  std::map<std::string, std::string> m_alarms;
};

}  // namespace xnode::uplink
