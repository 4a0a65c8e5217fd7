#include "core/uplink/session.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include "core/base/sha256.hpp"

namespace xnode::uplink {

const char* request_kind_name(RequestKind k) {
  switch (k) {
    case RequestKind::hello: return "hello";
    case RequestKind::catalog: return "catalog";
    case RequestKind::health: return "health";
    case RequestKind::config: return "config";
    case RequestKind::batch: return "batch";
    case RequestKind::gap: return "gap";
    case RequestKind::audit: return "audit";
  }
  return "?";
}

const char* error_class_name(ErrorClass c) {
  switch (c) {
    case ErrorClass::dns: return "dns";
    case ErrorClass::connect: return "connect";
    case ErrorClass::tls: return "tls";
    case ErrorClass::timeout: return "timeout";
    case ErrorClass::http_4xx: return "http_4xx";
    case ErrorClass::http_5xx: return "http_5xx";
    case ErrorClass::protocol: return "protocol";
  }
  return "?";
}

namespace {

const json::Value kNull;

// §3.3: `{code}` is URL-encoded (`/` as %2F); everything outside RFC 3986 "unreserved" is escaped.
std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() + 8);
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

const std::string* find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return &v;
  return nullptr;
}

// Retry-After as delta-seconds (the form the platform sends); an HTTP-date is not honoured and
// falls back to the back-off, which is the safe direction.
std::optional<Seconds> retry_after(const Headers& headers) {
  const std::string* v = find_header(headers, "Retry-After");
  if (!v) return std::nullopt;
  std::string_view s = *v;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size() || n < 0) return std::nullopt;
  return Seconds(n);
}

// The `index`-th line of an NDJSON body, without its newline (empty when out of range).
std::string_view nth_line(std::string_view body, std::uint64_t index) {
  std::size_t pos = 0;
  for (std::uint64_t i = 0; i < index; ++i) {
    std::size_t nl = body.find('\n', pos);
    if (nl == std::string_view::npos) return {};
    pos = nl + 1;
  }
  std::size_t nl = body.find('\n', pos);
  return body.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
}

// The first `count` lines of an NDJSON body, newlines included.
std::string first_lines(std::string_view body, std::uint64_t count) {
  std::size_t pos = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::size_t nl = body.find('\n', pos);
    if (nl == std::string_view::npos) return std::string(body);
    pos = nl + 1;
  }
  return std::string(body.substr(0, pos));
}

std::optional<std::uint64_t> get_u64(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  if (!m || !m->is_integer()) return std::nullopt;
  auto i = m->as_int();
  if (!i || *i < 0) return std::nullopt;
  return static_cast<std::uint64_t>(*i);
}

std::string range_text(std::string_view stream, std::uint64_t from, std::uint64_t to) {
  return std::string(stream) + ":" + std::to_string(from) + "-" + std::to_string(to);
}

Millis since(TimePoint now, TimePoint then) {
  return now > then ? std::chrono::duration_cast<Millis>(now - then) : Millis(0);
}

}  // namespace

Session::Session(SessionConfig config, Random random, CatalogHook* catalog, HealthHook* health, AuditHook* audit)
    : m_config(std::move(config)),
      m_backoff(m_config.backoff_initial, m_config.backoff_cap, std::move(random)),
      m_catalog(catalog),
      m_health(health),
      m_audit(audit),
      m_heartbeat(m_config.default_heartbeat),
      m_max_batch_bytes(m_config.max_batch_bytes) {
  if (m_config.max_batch_records == 0) m_config.max_batch_records = 1;
  if (m_config.max_audit_events == 0) m_config.max_audit_events = 1;
  for (const auto& code : m_config.streams) stream(code);
  if (m_audit) m_audit_acked = m_audit->acked_through();
}

std::vector<Action> Session::take_actions() {
  std::vector<Action> out;
  out.swap(m_actions);
  return out;
}

std::uint64_t Session::acked_through(std::string_view code) const {
  for (const auto& s : m_streams)
    if (s.code == code) return s.acked_through;
  return 0;
}

Session::StreamState* Session::find_stream(std::string_view code) {
  for (auto& s : m_streams)
    if (s.code == code) return &s;
  return nullptr;
}

Session::StreamState& Session::stream(std::string_view code) {
  if (StreamState* s = find_stream(code)) return *s;
  StreamState s;
  s.code = std::string(code);
  m_streams.push_back(std::move(s));
  return m_streams.back();
}

// --- events ----------------------------------------------------------------------------------

void Session::link_up(TimePoint now) {
  observe_time(now);
  m_link_up = true;
  pump(now);
}

void Session::link_down(TimePoint now, std::string_view cause) {
  observe_time(now);
  m_link_up = false;
  if (m_inflight) request_failed(now, *m_inflight, std::nullopt);
  m_inflight.reset();  // its answer, if any, will be ignored
  lose_link(now, ErrorClass::connect, cause);
  pump(now);
}

void Session::tick(TimePoint now) {
  observe_time(now);
  // The runner's timer fired, so nothing is armed any more (even if the wall clock says the
  // time is not reached: update_timer arms again for what is still ahead).
  m_armed.reset();
  pump(now);
}

void Session::queue_has_data(TimePoint now, std::string_view code, std::uint64_t last_seq) {
  observe_time(now);
  StreamState& s = stream(code);
  s.last_seq = std::max(s.last_seq, last_seq);
  pump(now);
}

void Session::batch_loaded(TimePoint now, std::string_view code, std::uint64_t after_seq, Batch batch) {
  observe_time(now);
  if (!m_loading || m_loading->stream != code || m_loading->after_seq != after_seq) return;  // stale
  m_loading.reset();
  clear_alarm(now, "queue_read_failed");
  Loaded l;
  l.stream = std::string(code);
  l.after_seq = after_seq;
  l.body = std::make_shared<const std::string>(std::move(batch.body));
  batch.body.clear();
  l.batch = std::move(batch);
  m_loaded = std::move(l);
  pump(now);
}

void Session::load_failed(TimePoint now, std::string_view code, std::string_view text) {
  observe_time(now);
  if (m_loading && m_loading->stream == code) m_loading.reset();
  raise_alarm(now, "queue_read_failed", "reading stream " + std::string(code) + " from the queue failed: " +
                                            std::string(text));
  // The store may recover (disk space freed); retry that stream later, the others go on.
  hold_stream(now, stream(code));
  pump(now);
}

void Session::pending_gap(TimePoint now, Gap gap) {
  observe_time(now);
  if (gap.to_seq < gap.from_seq) return;
  StreamState& s = stream(gap.stream);
  add_gap(s, PendingGap{gap.from_seq, gap.to_seq, std::move(gap.reason), true});
  pump(now);
}

void Session::catalog_changed(TimePoint now) {
  observe_time(now);
  m_catalog_refused = false;
  pump(now);
}

void Session::audit_appended(TimePoint now) {
  observe_time(now);
  pump(now);
}

void Session::state_changed(TimePoint now) {
  observe_time(now);
  m_next_health = now;
  pump(now);
}

void Session::config_applied(TimePoint now, std::int64_t version, std::string sha256) {
  observe_time(now);
  m_config.config_version = version;
  m_config.config_sha256 = std::move(sha256);
  clear_alarm(now, "config_refused");
  json::Value detail = json::Value::object();
  detail.set("version", version);
  detail.set("sha256", m_config.config_sha256);
  audit("config.applied", "config:" + std::to_string(version), "ok", std::move(detail));
  state_changed(now);
}

void Session::config_rejected(TimePoint now, std::int64_t version, std::string_view error) {
  observe_time(now);
  m_config_refused_version = std::max(m_config_refused_version, version);
  json::Value detail = json::Value::object();
  detail.set("error", std::string(error));
  audit("config.rejected", "config:" + std::to_string(version), "rejected", std::move(detail));
  raise_alarm(now, "config_refused",
              "pushed configuration version " + std::to_string(version) + " not applied: " + std::string(error));
  pump(now);
}

void Session::transport_error(TimePoint now, std::uint64_t request_id, ErrorClass error, std::string_view text) {
  observe_time(now);
  if (!m_inflight || m_inflight->id != request_id) return;
  InFlight req = std::move(*m_inflight);
  m_inflight.reset();
  std::string cause = std::string(error_class_name(error)) + ": " + std::string(text);
  request_failed(now, req, std::nullopt);
  lose_link(now, error, cause);
  fail(now, error, std::string(request_kind_name(req.kind)) + " " + cause, Millis(0));
  pump(now);
}

void Session::connection_lost(TimePoint now, ErrorClass error, std::string_view text) {
  observe_time(now);
  if (m_inflight || !m_hello_done) return;
  std::string cause = std::string(error_class_name(error)) + ": " + std::string(text);
  lose_link(now, error, cause);
  fail(now, error, text, Millis(0));
  pump(now);
}

void Session::response(TimePoint now, std::uint64_t request_id, int status, const Headers& headers,
                       std::string_view raw) {
  observe_time(now);
  if (!m_inflight || m_inflight->id != request_id) return;
  InFlight req = std::move(*m_inflight);
  m_inflight.reset();
  const Millis rtt = since(now, req.sent_at);

  json::Value parsed;
  if (!raw.empty()) {
    auto p = json::parse(raw);
    if (p) parsed = std::move(p.value());
  }
  const std::string code = parsed.is_object() ? parsed.get_string("error") : std::string();
  const std::string message = parsed.is_object() ? parsed.get_string("message") : std::string();

  if (!handle_generic(now, req, status, headers, code, message, rtt)) {
    Answer a{status, parsed, raw, code, message, rtt};
    switch (req.kind) {
      case RequestKind::hello: on_hello(now, req, a); break;
      case RequestKind::catalog: on_catalog(now, a); break;
      case RequestKind::health: on_health(now, a); break;
      case RequestKind::config: on_config(now, a); break;
      case RequestKind::batch: on_batch(now, req, a); break;
      case RequestKind::gap: on_gap(now, req, a); break;
      case RequestKind::audit: on_audit(now, req, a); break;
    }
  }
  pump(now);
}

// The session schedules on the wall clock it is given. A gateway box without a battery-backed
// clock may see it step back (NTP after boot): shift every scheduled time by the step, or a
// back-off of seconds would become an hour. A step forward only makes things due early.
void Session::observe_time(TimePoint now) {
  if (m_last_now && now + Seconds(1) < *m_last_now) {
    const auto step = *m_last_now - now;
    auto shift = [&](std::optional<TimePoint>& t) {
      if (t) *t -= step;
    };
    shift(m_not_before);
    shift(m_next_health);
    shift(m_outage_start);
    for (auto& st : m_streams) shift(st.hold_until);
    if (m_inflight) m_inflight->sent_at -= step;
    m_armed.reset();
  }
  m_last_now = now;
}

// --- answers ---------------------------------------------------------------------------------

bool Session::handle_generic(TimePoint now, const InFlight& req, int status, const Headers& headers,
                             std::string_view code, std::string_view message, Millis rtt) {
  const std::string what = std::string(request_kind_name(req.kind)) + ": HTTP " + std::to_string(status) +
                           (code.empty() ? std::string() : " " + std::string(code)) +
                           (message.empty() ? std::string() : " (" + std::string(message) + ")");
  auto ends_without_answer = [&](std::optional<Seconds> ra) { request_failed(now, req, ra); };
  if (status == 403) {
    ends_without_answer(std::nullopt);
    // The bureau disabled this node or its identity does not match: sending more only fills the
    // platform's logs. Wait long, keep the data, tell the operator.
    HealthSample h;
    h.kind = HealthSample::Kind::request_failed;
    h.at = now;
    h.rtt = rtt;
    h.error = ErrorClass::http_4xx;
    h.detail = what;
    emit(std::move(h));
    m_not_before = now + m_config.forbidden_backoff;
    raise_alarm(now, "platform_forbidden", "the platform refuses this node: " + what +
                                               "; check the node certificate and ask the bureau");
    audit("link.forbidden", "platform", "rejected");
    return true;
  }
  if (status == 429 || status == 503) {
    ends_without_answer(retry_after(headers));
    if (auto ra = retry_after(headers)) {
      HealthSample h;
      h.kind = HealthSample::Kind::request_failed;
      h.at = now;
      h.rtt = rtt;
      h.error = status == 429 ? ErrorClass::http_4xx : ErrorClass::http_5xx;
      h.detail = what;
      emit(std::move(h));
      m_not_before = now + std::min<Seconds>(*ra, m_config.max_retry_after);
      return true;
    }
    fail(now, status == 429 ? ErrorClass::http_4xx : ErrorClass::http_5xx, what, rtt);
    return true;
  }
  if (status >= 500) {
    ends_without_answer(std::nullopt);
    fail(now, ErrorClass::http_5xx, what, rtt);
    return true;
  }
  if (status == 405) {
    ends_without_answer(std::nullopt);
    raise_alarm(now, "platform_defect", "request refused as a defect: " + what);
    fail(now, ErrorClass::http_4xx, what, rtt);
    return true;
  }
  if (status < 200) {  // 1xx final answers do not exist; the client should never hand one over
    ends_without_answer(std::nullopt);
    fail(now, ErrorClass::protocol, what, rtt);
    return true;
  }
  return false;
}

void Session::unexpected_answer(TimePoint now, const InFlight& req, const Answer& a) {
  std::string what = std::string(request_kind_name(req.kind)) + ": unexpected answer HTTP " +
                     std::to_string(a.status) + (a.code.empty() ? std::string() : " " + std::string(a.code)) +
                     (a.message.empty() ? std::string() : " (" + std::string(a.message) + ")");
  raise_alarm(now, "platform_defect", what);
  fail(now, a.status >= 400 ? ErrorClass::http_4xx : ErrorClass::protocol, what, a.rtt);
}

void Session::on_hello(TimePoint now, const InFlight& req, const Answer& a) {
  if (a.status != 200) return unexpected_answer(now, req, a);
  const json::Value& b = a.body;
  const json::Value* streams = b.find("streams");
  const json::Value* config = b.find("config");
  auto heartbeat = get_u64(b, "heartbeat_interval_s");
  auto max_bytes = get_u64(b, "max_batch_bytes");
  std::optional<TimePoint> server_time;
  if (const json::Value* t = b.find("server_time"); t && t->is_string()) server_time = parse_rfc3339(t->as_string());
  std::optional<std::uint64_t> config_version = config ? get_u64(*config, "version") : std::nullopt;
  if (!b.is_object() || !streams || !streams->is_object() || !heartbeat || *heartbeat == 0 || !max_bytes ||
      *max_bytes == 0 || !server_time || !config_version) {
    fail(now, ErrorClass::protocol,
         "hello: the answer lacks a required member (streams, heartbeat_interval_s, max_batch_bytes, "
         "server_time, config.version)",
         a.rtt);
    return;
  }
  for (const auto& [code, v] : streams->as_object()) {
    auto acked = get_u64(v, "acked_through");
    if (!acked) {
      fail(now, ErrorClass::protocol, "hello: stream " + code + " without an acked_through", a.rtt);
      return;
    }
  }

  succeed(now, a.rtt);
  m_heartbeat = Seconds(std::min<std::uint64_t>(*heartbeat, 24 * 3600));
  m_max_batch_bytes = std::min<std::size_t>(m_config.max_batch_bytes, static_cast<std::size_t>(*max_bytes));

  // Clock offset: the server read its clock about half a round trip before we got the answer.
  const TimePoint midpoint = req.sent_at + a.rtt / 2;
  m_clock_offset = std::chrono::duration_cast<Millis>(*server_time - midpoint);
  HealthSample clock;
  clock.kind = HealthSample::Kind::clock_offset;
  clock.at = now;
  clock.clock_offset = m_clock_offset;
  emit(std::move(clock));

  // The platform's high-water marks are the truth: streams it does not list hold nothing there.
  for (auto& s : m_streams) s.acked_through = 0;
  for (const auto& [code, v] : streams->as_object()) {
    StreamState& s = stream(code);
    s.acked_through = *get_u64(v, "acked_through");
    // A node that lost its state continues from acked_through + 1; the queue raises its next seq
    // and deletes what the platform already holds.
    emit(Reconcile{code, s.acked_through});
    if (s.acked_through > s.local_acked) s.local_acked = s.acked_through;
  }

  if (m_catalog)
    if (auto cv = get_u64(b, "catalog_version")) m_catalog->on_hello(static_cast<std::int64_t>(*cv));

  m_hello_done = true;
  HealthSample up;
  up.kind = HealthSample::Kind::link_restored;
  up.at = now;
  up.detail = m_outage_cause;
  emit(std::move(up));
  if (m_outage_start) {
    json::Value detail = json::Value::object();
    detail.set("since", format_rfc3339(*m_outage_start));
    detail.set("cause", m_outage_cause);
    audit("link.restored", "platform", "ok", std::move(detail));
  }
  m_outage_start.reset();
  m_outage_cause.clear();
  m_next_health = now;  // a state change: report at once
  offer_config_version(static_cast<std::int64_t>(*config_version));
}

void Session::on_catalog(TimePoint now, const Answer& a) {
  if (!m_catalog) return;
  const HookOutcome outcome = m_catalog->on_response(now, a.status, a.body, a.raw);
  succeed(now, a.rtt);
  switch (outcome) {
    case HookOutcome::done:
      clear_alarm(now, "catalog_refused");
      audit("catalog.synced", "catalog:" + std::to_string(m_catalog->version()), "ok");
      break;
    case HookOutcome::again:
      break;
    case HookOutcome::refused: {
      m_catalog_refused = true;
      json::Value detail = json::Value::object();
      detail.set("status", a.status);
      detail.set("answer", std::string(a.raw.substr(0, 2000)));
      audit("catalog.refused", "catalog", "rejected", std::move(detail));
      // The alarm carries the platform's problems (§3.2: code, field, reason), bounded: the
      // operator reads what to fix without digging the answer out of the audit trail.
      std::string problems;
      if (const json::Value* ps = a.body.find("problems"); ps && ps->is_array())
        for (const auto& p : ps->as_array()) {
          if (problems.size() > 600) {
            problems += "; …";
            break;
          }
          problems += (problems.empty() ? "" : "; ") + p.get_string("code") + ": " + p.get_string("field") + ": " +
                      p.get_string("reason");
        }
      raise_alarm(now, "catalog_refused",
                  "the platform refused the catalog slice (HTTP " + std::to_string(a.status) + " " +
                      std::string(a.code) + "): fix the catalog; " + std::string(a.message) +
                      (problems.empty() ? std::string() : ": " + problems));
      break;
    }
  }
}

void Session::request_failed(TimePoint now, const InFlight& req, std::optional<Seconds> retry_after) {
  if (req.kind == RequestKind::catalog && m_catalog) m_catalog->on_failure(now, retry_after);
}

void Session::on_health(TimePoint now, const Answer& a) {
  if (a.status == 200) {
    succeed(now, a.rtt);
    if (const json::Value* c = a.body.find("config"))
      if (auto v = get_u64(*c, "version")) offer_config_version(static_cast<std::int64_t>(*v));
    return;
  }
  // A refused report is not retried: the next beat sends a fresh one (reports are about the present).
  succeed(now, a.rtt);
  json::Value detail = json::Value::object();
  detail.set("status", a.status);
  detail.set("error", std::string(a.code));
  detail.set("message", std::string(a.message));
  audit("health.refused", "health", "rejected", std::move(detail));
}

void Session::on_config(TimePoint now, const Answer& a) {
  if (a.status == 304 || (a.status == 404 && a.code == "not_found")) {
    succeed(now, a.rtt);
    return;
  }
  if (a.status == 200) {
    auto v = get_u64(a.body, "version");
    if (!v) {
      fail(now, ErrorClass::protocol, "config: the answer has no version", a.rtt);
      return;
    }
    succeed(now, a.rtt);
    audit("config.offered", "config:" + std::to_string(*v), "ok");
    emit(ConfigOffered{static_cast<std::int64_t>(*v), std::string(a.raw)});
    return;
  }
  InFlight req;
  req.kind = RequestKind::config;
  unexpected_answer(now, req, a);
}

void Session::on_batch(TimePoint now, const InFlight& req, const Answer& a) {
  StreamState& s = stream(req.stream);
  const std::uint64_t last = req.first_seq + req.count - 1;
  const std::string object = range_text(s.code, req.first_seq, last);

  if (a.status == 200) {
    auto acked = get_u64(a.body, "acked_through");
    if (!acked) {
      fail(now, ErrorClass::protocol, "batch " + object + ": the answer has no acked_through", a.rtt);
      return;
    }
    succeed(now, a.rtt);
    note_platform_acked(s, *acked);
    std::uint64_t rejected_count = 0;
    if (const json::Value* rejected = a.body.find("rejected"); rejected && rejected->is_array()) {
      for (const json::Value& r : rejected->as_array()) {
        auto seq = get_u64(r, "seq");
        if (!seq || *seq < req.first_seq || *seq > last) continue;
        ++rejected_count;
        emit(Quarantine{s.code, *seq, "platform: " + r.get_string("reason", "rejected"),
                        std::string(nth_line(*req.body, *seq - req.first_seq))});
      }
    }
    const std::uint64_t duplicates = get_u64(a.body, "duplicates").value_or(0);
    const std::uint64_t mismatches = get_u64(a.body, "mismatches").value_or(0);
    json::Value detail = json::Value::object();
    detail.set("acked_through", *acked);
    detail.set("duplicates", duplicates);
    detail.set("rejected", rejected_count);
    audit("batch.acked", object, "ok", std::move(detail));
    if (mismatches > 0) {
      json::Value d = json::Value::object();
      d.set("mismatches", mismatches);
      audit("batch.seq_reuse", object, "failed", std::move(d));
      raise_alarm(now, "seq_reuse",
                  std::to_string(mismatches) + " records of " + object +
                      " reuse sequence numbers the platform holds with other content (a node defect: "
                      "the queue state was lost or copied)");
    }
    // After a split, grow back towards the full batch size one success at a time.
    if (s.record_limit) {
      s.record_limit *= 2;
      if (s.record_limit >= m_config.max_batch_records) s.record_limit = 0;
    }
    s.hold_delay = Millis(0);
    if (std::none_of(m_streams.begin(), m_streams.end(), [](const StreamState& x) { return x.hold_delay.count() > 0; }))
      clear_alarm(now, "unknown_stream");
    return;
  }
  if (a.status == 409 && a.code == "gap") {
    auto expected = get_u64(a.body, "expected_seq");
    if (!expected || *expected == 0 || *expected >= req.first_seq) {
      fail(now, ErrorClass::protocol, "batch " + object + ": 409 gap without a usable expected_seq", a.rtt);
      return;
    }
    succeed(now, a.rtt);
    // The platform is behind us: resend from expected_seq. If the queue no longer holds those
    // records, the read shows the jump and the range is declared as a gap (§3.4).
    s.acked_through = *expected - 1;
    if (s.acked_through > s.local_acked) {
      s.local_acked = s.acked_through;
      emit(Acknowledge{s.code, s.acked_through});
    }
    json::Value detail = json::Value::object();
    detail.set("expected_seq", *expected);
    audit("batch.gap", object, "resend", std::move(detail));
    return;
  }
  if (a.status == 413 || a.status == 400) {
    succeed(now, a.rtt);
    // Both are about this request only: a smaller one may pass. Halving isolates the record at
    // fault (413: one too large; 400: one malformed line) so that the good records around it
    // are delivered instead of being quarantined with it.
    if (req.count > 1) {
      const std::uint64_t half = req.count / 2;
      s.record_limit = static_cast<std::size_t>(half);
      Loaded l;
      l.stream = s.code;
      l.after_seq = req.first_seq - 1;
      l.batch.first_seq = req.first_seq;
      l.batch.count = half;
      l.body = std::make_shared<const std::string>(first_lines(*req.body, half));
      m_loaded = std::move(l);  // a read-ahead, if any, is dropped and read again later
      m_loading.reset();
      json::Value detail = json::Value::object();
      detail.set("records", half);
      detail.set("cause", a.status == 413 ? std::string("too_large") : "malformed: " + std::string(a.message));
      audit("batch.split", object, "retry", std::move(detail));
      return;
    }
    if (a.status == 413)
      drop_records(now, s, req.first_seq, *req.body, 1,
                   "too_large: the record alone (" + std::to_string(req.body->size()) +
                       " bytes) exceeds the platform's max_batch_bytes");
    else
      drop_records(now, s, req.first_seq, *req.body, 1, "malformed: " + std::string(a.message));
    return;
  }
  if (a.status == 404 && a.code == "unknown_stream") {
    succeed(now, a.rtt);
    hold_stream(now, s);
    if (m_catalog) m_catalog->sync_requested(s.code);
    raise_alarm(now, "unknown_stream",
                "the platform does not know stream " + s.code +
                    (m_catalog ? "; catalog sync requested" : "; add the resource to the catalog slice"));
    return;
  }
  unexpected_answer(now, req, a);
}

void Session::on_gap(TimePoint now, const InFlight& req, const Answer& a) {
  StreamState& s = stream(req.stream);
  const std::string object = range_text(s.code, req.gap.from_seq, req.gap.to_seq);
  if (a.status == 200) {
    auto acked = get_u64(a.body, "acked_through");
    if (!acked) {
      fail(now, ErrorClass::protocol, "gap " + object + ": the answer has no acked_through", a.rtt);
      return;
    }
    succeed(now, a.rtt);
    note_platform_acked(s, *acked);
    bool from_queue = req.gap.from_queue;
    // Remove this gap and any identical entry (an eviction gap also seen as a jump in a read).
    for (auto it = s.gaps.begin(); it != s.gaps.end();) {
      if (it->from_seq == req.gap.from_seq && it->to_seq == req.gap.to_seq) {
        from_queue = from_queue || it->from_queue;
        it = s.gaps.erase(it);
      } else {
        ++it;
      }
    }
    emit(GapDeclared{s.code, req.gap.from_seq, req.gap.to_seq, req.gap.reason, from_queue});
    json::Value detail = json::Value::object();
    detail.set("reason", req.gap.reason);
    audit("gap.declared", object, "ok", std::move(detail));
    return;
  }
  if (a.status == 409 && a.code == "gap") {
    auto expected = get_u64(a.body, "expected_seq");
    if (!expected || *expected == 0 || *expected >= req.gap.from_seq) {
      fail(now, ErrorClass::protocol, "gap " + object + ": 409 gap without a usable expected_seq", a.rtt);
      return;
    }
    succeed(now, a.rtt);
    // The platform lacks records before the gap: they go first (or become a gap themselves).
    s.acked_through = *expected - 1;
    return;
  }
  if (a.status == 404 && a.code == "unknown_stream") {
    succeed(now, a.rtt);
    hold_stream(now, s);
    if (m_catalog) m_catalog->sync_requested(s.code);
    raise_alarm(now, "unknown_stream", "the platform does not know stream " + s.code);
    return;
  }
  unexpected_answer(now, req, a);
}

void Session::on_audit(TimePoint now, const InFlight& req, const Answer& a) {
  if (!m_audit) return;
  if (a.status == 200) {
    auto acked = get_u64(a.body, "acked_through");
    if (!acked) {
      fail(now, ErrorClass::protocol, "audit: the answer has no acked_through", a.rtt);
      return;
    }
    succeed(now, a.rtt);
    if (*acked > m_audit_acked) {
      m_audit_acked = *acked;
      m_audit->acknowledged(*acked);
    }
    m_audit_pending_since.reset();
    clear_alarm(now, "audit_chain_broken");
    return;
  }
  if (a.status == 409 && a.code == "chain_broken") {
    succeed(now, a.rtt);
    auto expected = get_u64(a.body, "expected_seq");
    if (expected && *expected >= 1) {
      auto again = m_audit->next_batch(*expected - 1, 1);
      if (again && again->count > 0 && again->first_seq == *expected) {
        m_audit_acked = *expected - 1;
        return;  // the next turn resends from expected_seq
      }
    }
    m_audit_stopped = true;
    json::Value detail = json::Value::object();
    detail.set("expected_seq", expected ? json::Value(*expected) : json::Value());
    detail.set("sent_from", req.first_seq);
    audit("audit.chain_broken", "audit", "failed", std::move(detail));
    raise_alarm(now, "audit_chain_broken",
                "the platform's audit chain does not continue the node's (expected seq " +
                    (expected ? std::to_string(*expected) : std::string("?")) +
                    "); audit shipping stopped, events are kept at the node for inspection");
    return;
  }
  if (a.status == 400) {
    // Sending the same events again would fail the same way: stop and keep them.
    succeed(now, a.rtt);
    m_audit_stopped = true;
    raise_alarm(now, "audit_chain_broken", "the platform refused audit events as malformed: " +
                                               std::string(a.message) + "; events kept at the node");
    return;
  }
  unexpected_answer(now, req, a);
}

// --- outcomes --------------------------------------------------------------------------------

void Session::succeed(TimePoint now, Millis rtt) {
  m_backoff.reset();
  m_not_before.reset();
  clear_alarm(now, "platform_forbidden");
  HealthSample h;
  h.kind = HealthSample::Kind::request_ok;
  h.at = now;
  h.rtt = rtt;
  emit(std::move(h));
}

void Session::fail(TimePoint now, ErrorClass error, std::string_view detail, Millis rtt) {
  m_not_before = now + m_backoff.next_delay();
  HealthSample h;
  h.kind = HealthSample::Kind::request_failed;
  h.at = now;
  h.rtt = rtt;
  h.error = error;
  h.detail = std::string(detail);
  emit(std::move(h));
}

void Session::lose_link(TimePoint now, ErrorClass error, std::string_view cause) {
  if (!m_outage_start) {
    m_outage_start = now;
    m_outage_cause = std::string(cause);
  }
  if (!m_hello_done) return;
  m_hello_done = false;
  HealthSample h;
  h.kind = HealthSample::Kind::link_lost;
  h.at = now;
  h.error = error;
  h.detail = std::string(cause);
  emit(std::move(h));
}

void Session::raise_alarm(TimePoint now, const std::string& id, std::string text) {
  if (m_alarms.count(id)) return;
  m_alarms.emplace(id, text);
  emit(Alarm{id, true, std::move(text)});
  m_next_health = now;  // a state change: report at once
}

void Session::clear_alarm(TimePoint now, const std::string& id) {
  auto it = m_alarms.find(id);
  if (it == m_alarms.end()) return;
  m_alarms.erase(it);
  emit(Alarm{id, false, {}});
  m_next_health = now;
}

void Session::audit(std::string action, std::string object, std::string result, json::Value detail) {
  emit(AuditEvent{std::move(action), std::move(object), std::move(result), std::move(detail)});
}

void Session::note_platform_acked(StreamState& s, std::uint64_t through) {
  s.acked_through = std::max(s.acked_through, through);
  if (s.acked_through > s.local_acked) {
    s.local_acked = s.acked_through;
    emit(Acknowledge{s.code, s.acked_through});
  }
}

void Session::add_gap(StreamState& s, PendingGap gap) {
  for (auto& g : s.gaps) {
    if (g.from_seq == gap.from_seq && g.to_seq == gap.to_seq) {
      g.from_queue = g.from_queue || gap.from_queue;
      return;
    }
  }
  auto pos = std::find_if(s.gaps.begin(), s.gaps.end(), [&](const PendingGap& g) { return g.from_seq > gap.from_seq; });
  s.gaps.insert(pos, std::move(gap));
}

void Session::drop_records(TimePoint now, StreamState& s, std::uint64_t first_seq, const std::string& body,
                           std::uint64_t count, const std::string& reason) {
  (void)now;
  for (std::uint64_t i = 0; i < count; ++i)
    emit(Quarantine{s.code, first_seq + i, reason, std::string(nth_line(body, i))});
  const std::uint64_t last = first_seq + count - 1;
  json::Value detail = json::Value::object();
  detail.set("reason", reason);
  detail.set("records", count);
  audit("batch.quarantined", range_text(s.code, first_seq, last), "rejected", std::move(detail));
  // The platform must not wait for these seqs forever: declare them, so the loss is visible there.
  add_gap(s, PendingGap{first_seq, last, "quarantined at the node: " + reason, false});
}

void Session::hold_stream(TimePoint now, StreamState& s) {
  s.hold_delay = s.hold_delay.count() == 0 ? m_config.backoff_initial
                                           : std::min<Millis>(s.hold_delay * 2, m_config.forbidden_backoff);
  s.hold_until = now + s.hold_delay;
}

void Session::offer_config_version(std::int64_t version) {
  if (version > m_config.config_version && version > m_config_refused_version) m_config_fetch_wanted = true;
}

// --- sending ---------------------------------------------------------------------------------

Session::InFlight& Session::send(TimePoint now, RequestKind kind, std::string method, std::string target,
                                 std::string_view content_type, std::shared_ptr<const std::string> body,
                                 Headers extra) {
  if (!body) body = std::make_shared<const std::string>();
  Send s;
  s.request_id = m_next_request_id++;
  s.kind = kind;
  s.method = std::move(method);
  s.target = std::move(target);
  s.headers.emplace_back("X-XN-Node", m_config.node_id);
  if (!body->empty()) s.headers.emplace_back("Content-Type", std::string(content_type));
  for (auto& h : extra) s.headers.push_back(std::move(h));
  s.body = body;
  InFlight f;
  f.id = s.request_id;
  f.kind = kind;
  f.sent_at = now;
  emit(std::move(s));
  m_inflight = std::move(f);
  return *m_inflight;
}

void Session::send_hello(TimePoint now) {
  json::Value v = json::Value::object();
  v.set("node_id", m_config.node_id);
  json::Value software = json::Value::object();
  software.set("name", m_config.software_name);
  software.set("version", m_config.software_version);
  v.set("software", std::move(software));
  json::Value config = json::Value::object();
  config.set("version", m_config.config_version);
  config.set("sha256", m_config.config_sha256);
  v.set("config", std::move(config));
  v.set("catalog_version", m_catalog ? m_catalog->version() : m_config.catalog_version);
  json::Value streams = json::Value::array();
  for (const auto& s : m_streams) streams.push_back(s.code);
  v.set("streams", std::move(streams));
  v.set("time", format_rfc3339(now));
  send(now, RequestKind::hello, "POST", "/xep/v1/hello", "application/json",
       std::make_shared<const std::string>(json::serialize(v)));
}

void Session::send_catalog(TimePoint now) {
  HookRequest r = m_catalog->next_request();
  send(now, RequestKind::catalog, std::move(r.method), std::move(r.target), r.content_type,
       std::make_shared<const std::string>(std::move(r.body)));
}

void Session::send_health(TimePoint now) {
  m_next_health = now + m_heartbeat;
  send(now, RequestKind::health, "POST", "/xep/v1/health", "application/json",
       std::make_shared<const std::string>(m_health->report(now)));
}

void Session::send_config_fetch(TimePoint now) {
  m_config_fetch_wanted = false;
  send(now, RequestKind::config, "GET", "/xep/v1/config", {}, nullptr,
       Headers{{"If-None-Match", "\"" + std::to_string(m_config.config_version) + "\""}});
}

bool Session::send_sendable_gap(TimePoint now) {
  for (auto& s : m_streams) {
    // Gaps the platform already covers need no request (e.g. an eviction below a newer mark).
    while (!s.gaps.empty() && s.gaps.front().to_seq <= s.acked_through) {
      const PendingGap& g = s.gaps.front();
      if (g.from_queue) emit(GapDeclared{s.code, g.from_seq, g.to_seq, g.reason, true});
      s.gaps.pop_front();
    }
    if (s.gaps.empty() || held(s, now)) continue;
    PendingGap g = s.gaps.front();
    if (g.from_seq > s.acked_through + 1) continue;  // records before it go first
    json::Value v = json::Value::object();
    v.set("from_seq", g.from_seq);
    v.set("to_seq", g.to_seq);
    v.set("reason", g.reason);
    InFlight& f = send(now, RequestKind::gap, "POST", "/xep/v1/streams/" + url_encode(s.code) + "/gaps",
                       "application/json", std::make_shared<const std::string>(json::serialize(v)));
    f.stream = s.code;
    f.gap = std::move(g);
    return true;
  }
  return false;
}

bool Session::send_audit(TimePoint now) {
  if (!m_audit || m_audit_stopped || !m_audit->has_events_after(m_audit_acked)) return false;
  auto batch = m_audit->next_batch(m_audit_acked, m_config.max_audit_events);
  if (!batch || batch->count == 0 || batch->first_seq != m_audit_acked + 1) {
    m_audit_stopped = true;
    raise_alarm(now, "audit_chain_broken",
                "audit event " + std::to_string(m_audit_acked + 1) +
                    " cannot be read for shipping; audit shipping stopped, events are kept at the node");
    return false;
  }
  InFlight& f = send(now, RequestKind::audit, "POST", "/xep/v1/audit", "application/x-ndjson",
                     std::make_shared<const std::string>(std::move(batch->body)));
  f.first_seq = batch->first_seq;
  f.count = batch->count;
  return true;
}

void Session::send_batch(TimePoint now, StreamState& s, std::uint64_t first_seq, std::uint64_t count,
                         std::shared_ptr<const std::string> body) {
  Headers extra;
  extra.emplace_back("X-XN-First-Seq", std::to_string(first_seq));
  extra.emplace_back("X-XN-Count", std::to_string(count));
  extra.emplace_back("X-XN-Body-Sha256", Sha256::hex(*body));
  InFlight& f = send(now, RequestKind::batch, "POST", "/xep/v1/streams/" + url_encode(s.code) + "/batches",
                     "application/x-ndjson", body, std::move(extra));
  f.stream = s.code;
  f.first_seq = first_seq;
  f.count = count;
  f.body = std::move(body);
  start_load(now);  // read the next batch while this one travels
}

bool Session::send_data(TimePoint now) {
  if (m_loaded) {
    Loaded& l = *m_loaded;
    StreamState& s = stream(l.stream);
    if (held(s, now)) {
      m_loaded.reset();
    } else if (l.batch.count == 0) {
      // Nothing after after_seq in the queue: if the queue once held more, it is gone for good.
      if (l.after_seq == s.acked_through && s.last_seq > s.acked_through)
        add_gap(s, PendingGap{s.acked_through + 1, s.last_seq, "records no longer held by the node", false});
      m_loaded.reset();
      if (send_sendable_gap(now)) return true;
    } else if (l.batch.first_seq == s.acked_through + 1) {
      std::uint64_t count = l.batch.count;
      std::shared_ptr<const std::string> body = l.body;
      if (s.record_limit && count > s.record_limit) {
        count = s.record_limit;
        body = std::make_shared<const std::string>(first_lines(*body, count));
      }
      const std::uint64_t first = l.batch.first_seq;
      m_loaded.reset();
      send_batch(now, s, first, count, std::move(body));
      return true;
    } else if (l.after_seq == s.acked_through && l.batch.first_seq > s.acked_through + 1) {
      // The queue no longer holds the records right after the platform's mark (evicted, or
      // deleted locally while the platform lost them): declare them; the batch stays for after.
      add_gap(s, PendingGap{s.acked_through + 1, l.batch.first_seq - 1,
                            "records no longer held by the node (evicted or deleted)", false});
      if (send_sendable_gap(now)) return true;
      m_loaded.reset();
    } else {
      m_loaded.reset();  // read before the platform's mark moved: read again
    }
  }
  start_load(now);
  return false;
}

bool Session::start_load(TimePoint now) {
  if (m_loading || m_loaded || !m_hello_done || m_streams.empty()) return false;
  const std::size_t n = m_streams.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t idx = (m_rotation + i) % n;
    StreamState& s = m_streams[idx];
    if (held(s, now)) continue;
    if (!s.gaps.empty() && s.gaps.front().from_seq <= s.acked_through + 1) continue;  // gap goes first
    std::uint64_t after = s.acked_through;
    if (m_inflight && m_inflight->stream == s.code) {
      // No read-ahead after a split: the size grows back with each success, and a batch read
      // at the old size would hold that growth back by one turn.
      if (m_inflight->kind != RequestKind::batch || s.record_limit) continue;
      after = std::max(after, m_inflight->first_seq + m_inflight->count - 1);  // read ahead
    }
    if (s.last_seq <= after) continue;
    std::size_t limit = m_config.max_batch_records;
    if (s.record_limit) limit = std::min(limit, s.record_limit);
    LoadBatch load{s.code, after, limit, m_max_batch_bytes};
    m_loading = load;
    emit(std::move(load));
    m_rotation = (idx + 1) % n;
    return true;
  }
  return false;
}

// --- the loop --------------------------------------------------------------------------------

void Session::pump(TimePoint now) {
  [&] {
    if (!m_link_up) return;
    if (m_not_before) {
      if (now < *m_not_before) return;
      m_not_before.reset();
    }
    if (m_inflight) {
      if (m_inflight->kind == RequestKind::batch) start_load(now);
      return;
    }
    if (!m_hello_done) return send_hello(now);
    if (m_catalog && !m_catalog_refused && m_catalog->needs_sync(now)) return send_catalog(now);
    if (m_health && m_next_health && now >= *m_next_health) return send_health(now);
    if (m_config_fetch_wanted) return send_config_fetch(now);
    if (send_sendable_gap(now)) return;
    if (m_audit && !m_audit_stopped && m_audit->has_events_after(m_audit_acked)) {
      if (!m_audit_pending_since) m_audit_pending_since = now;
    } else {
      m_audit_pending_since.reset();
    }
    const bool audit_due = m_audit_pending_since && now - *m_audit_pending_since >= m_config.audit_linger;
    if (m_audit_turn && audit_due && send_audit(now)) {
      m_audit_turn = false;
      return;
    }
    if (send_data(now)) {
      m_audit_turn = true;
      return;
    }
    if (m_loading) return;  // the data turn is waiting for the queue; audit does not jump in
    if (send_audit(now)) m_audit_turn = false;
  }();
  update_timer(now);
}

void Session::update_timer(TimePoint now) {
  std::optional<TimePoint> wake;
  auto consider = [&](TimePoint t) {
    if (t > now && (!wake || t < *wake)) wake = t;
  };
  if (m_link_up && !m_inflight) {
    if (m_not_before && *m_not_before > now) {
      consider(*m_not_before);
    } else {
      if (m_health && m_hello_done && m_next_health) consider(*m_next_health);
      for (const auto& s : m_streams)
        if (s.hold_until && (s.last_seq > s.acked_through || !s.gaps.empty())) consider(*s.hold_until);
    }
  }
  if (wake && wake != m_armed) {
    m_armed = wake;
    emit(ArmTimer{*wake});
  }
}

}  // namespace xnode::uplink
