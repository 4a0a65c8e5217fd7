// Test harness for uplink::Session: an injected clock, scripted jitter, an in-memory queue that
// answers LoadBatch/Acknowledge/Reconcile the way QueueStore does, and helpers to answer requests.
#pragma once
#include <doctest/doctest.h>

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "core/base/json.hpp"
#include "core/base/sha256.hpp"
#include "core/uplink/session.hpp"

namespace xnode::uplink::test {

inline std::string record_line(std::uint64_t seq, const std::string& key = "k") {
  return "{\"seq\":" + std::to_string(seq) + ",\"op\":\"upsert\",\"key\":\"" + key +
         "\",\"at\":\"2026-03-23T08:00:00Z\",\"data\":{\"v\":" + std::to_string(seq) + "}}";
}

// The QueueStore contract in memory: seqs per stream, acknowledged ones deleted, evictions leave
// a jump in what read_batch returns.
struct MemoryQueue {
  std::map<std::string, std::map<std::uint64_t, std::string>> records;  // stream → seq → line
  std::map<std::string, std::uint64_t> last_seq;
  std::vector<Acknowledge> acks;
  std::vector<Reconcile> reconciles;

  std::uint64_t add(const std::string& stream, std::uint64_t n) {
    std::uint64_t& last = last_seq[stream];
    for (std::uint64_t i = 0; i < n; ++i) {
      ++last;
      records[stream][last] = record_line(last);
    }
    return last;
  }
  void evict(const std::string& stream, std::uint64_t from, std::uint64_t to) {
    for (auto s = from; s <= to; ++s) records[stream].erase(s);
  }
  Batch read(const LoadBatch& l) const {
    Batch b;
    auto it = records.find(l.stream);
    if (it == records.end()) return b;
    for (auto r = it->second.upper_bound(l.after_seq); r != it->second.end(); ++r) {
      if (b.count == 0) b.first_seq = r->first;
      else if (r->first != b.first_seq + b.count) break;  // a run of consecutive records
      if (b.count >= l.max_records || (b.count > 0 && b.body.size() + r->second.size() + 1 > l.max_bytes)) break;
      b.body += r->second;
      b.body += '\n';
      ++b.count;
    }
    return b;
  }
  void acknowledge(const Acknowledge& a) {
    acks.push_back(a);
    auto& m = records[a.stream];
    m.erase(m.begin(), m.upper_bound(a.through));
  }
  void reconcile(const Reconcile& r) {
    reconciles.push_back(r);
    acknowledge(Acknowledge{r.stream, r.platform_acked_through});
    std::uint64_t& last = last_seq[r.stream];
    last = std::max(last, r.platform_acked_through);
  }
};

struct Harness {
  TimePoint now = from_unix_ms(1'790'000'000'000);
  std::deque<double> jitter;  // values handed to the session's Random (0.5 when empty)
  std::unique_ptr<Session> session;
  MemoryQueue queue;
  std::vector<Send> sends;          // every request the session made, in order
  std::vector<Action> others;       // every other action, in order (LoadBatch excluded)
  bool auto_load = true;            // answer LoadBatch from `queue` at once

  explicit Harness(SessionConfig config = default_config(), CatalogHook* catalog = nullptr,
                   HealthHook* health = nullptr, AuditHook* audit = nullptr) {
    session = std::make_unique<Session>(std::move(config), [this] {
      if (jitter.empty()) return 0.5;
      double v = jitter.front();
      jitter.pop_front();
      return v;
    }, catalog, health, audit);
  }

  static SessionConfig default_config() {
    SessionConfig c;
    c.node_id = "gaj-01";
    c.software_version = "0.3.1";
    c.config_version = 12;
    c.config_sha256 = std::string(64, 'a');
    c.catalog_version = 7;
    c.streams = {"101003/11540100MB00000008-00001"};
    c.max_batch_records = 100;
    return c;
  }
  static constexpr const char* kStream = "101003/11540100MB00000008-00001";

  // Performs actions until the session has nothing more to say (queue reads answered at once).
  void drain() {
    for (int guard = 0; guard < 10000 && session->has_actions(); ++guard) {
      for (Action& a : session->take_actions()) {
        if (auto* l = std::get_if<LoadBatch>(&a)) {
          if (auto_load) session->batch_loaded(now, l->stream, l->after_seq, queue.read(*l));
          else pending_loads.push_back(*l);
          continue;
        }
        if (auto* ack = std::get_if<Acknowledge>(&a)) queue.acknowledge(*ack);
        if (auto* r = std::get_if<Reconcile>(&a)) {
          queue.reconcile(*r);
          session->queue_has_data(now, r->stream, queue.last_seq[r->stream]);
        }
        if (auto* s = std::get_if<Send>(&a)) {
          sends.push_back(*s);
          continue;
        }
        others.push_back(std::move(a));
      }
    }
  }
  std::vector<LoadBatch> pending_loads;

  void start() {
    for (const auto& [stream, last] : queue.last_seq) session->queue_has_data(now, stream, last);
    session->link_up(now);
    drain();
  }
  const Send& last() {
    REQUIRE(!sends.empty());
    return sends.back();
  }
  std::size_t sent() const { return sends.size(); }
  void answer(int status, const std::string& body, Headers headers = {}) {
    session->response(now, last().request_id, status, headers, body);
    drain();
  }
  void answer_hello(const std::map<std::string, std::uint64_t>& acked, int heartbeat = 60,
                    std::int64_t config_version = 12, std::uint64_t max_bytes = 4194304) {
    REQUIRE(last().kind == RequestKind::hello);
    json::Value streams = json::Value::object();
    for (const auto& [k, v] : acked) {
      json::Value s = json::Value::object();
      s.set("acked_through", v);
      streams.set(k, std::move(s));
    }
    json::Value b = json::Value::object();
    b.set("server_time", format_rfc3339(now + Millis(1500)));
    b.set("node_id", "gaj-01");
    b.set("catalog_version", 7);
    b.set("streams", std::move(streams));
    b.set("heartbeat_interval_s", heartbeat);
    b.set("max_batch_bytes", max_bytes);
    json::Value c = json::Value::object();
    c.set("version", config_version);
    b.set("config", std::move(c));
    answer(200, json::serialize(b));
  }
  // Answers the batch in flight as fully stored.
  void ack_batch() {
    const Send& s = last();
    REQUIRE(s.kind == RequestKind::batch);
    answer(200, "{\"acked_through\":" + std::to_string(first_seq(s) + count(s) - 1) +
                    ",\"duplicates\":0,\"mismatches\":0,\"rejected\":[]}");
  }
  void advance(Millis d) { now += d; }
  void tick() {
    session->tick(now);
    drain();
  }

  static std::string header(const Send& s, std::string_view name) {
    for (const auto& [k, v] : s.headers)
      if (k == name) return v;
    return {};
  }
  static std::uint64_t first_seq(const Send& s) { return std::stoull(header(s, "X-XN-First-Seq")); }
  static std::uint64_t count(const Send& s) { return std::stoull(header(s, "X-XN-Count")); }

  template <typename T>
  std::vector<T> all() const {
    std::vector<T> out;
    for (const Action& a : others)
      if (auto* t = std::get_if<T>(&a)) out.push_back(*t);
    return out;
  }
  std::vector<Alarm> alarms(const std::string& id) const {
    std::vector<Alarm> out;
    for (const auto& a : all<Alarm>())
      if (a.id == id) out.push_back(a);
    return out;
  }
  std::vector<AuditEvent> audits(const std::string& action) const {
    std::vector<AuditEvent> out;
    for (const auto& a : all<AuditEvent>())
      if (a.action == action) out.push_back(a);
    return out;
  }
};

}  // namespace xnode::uplink::test
