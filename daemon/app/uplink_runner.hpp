// The uplink's thin Asio layer: it owns a core/uplink Session and performs its actions — HTTP
// requests with the HTTPS client, queue reads, acknowledgements, reconciles, gap marks and
// quarantine entries with the queue store, the one timer — and feeds the outcomes back as events.
// Every decision stays in the session; this file only moves bytes and posts callbacks.
//
// Threads: everything here runs on `executor` (one strand of the daemon's io_context). The queue
// store answers on its own thread; those callbacks are posted back to the executor and dropped
// when the runner is gone (they hold a weak reference only).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "core/uplink/session.hpp"
#include "io/https/https_client.hpp"
#include "io/queue/queue_store.hpp"

namespace xnode::app {

// Where the session's facts go in the rest of the daemon (health model, audit store, config
// applier). Each may be empty. Called on the executor; they may call back into the runner
// (e.g. config_offered → verify → config_applied) — actions raised meanwhile are performed after.
struct UplinkSinks {
  std::function<void(const uplink::Alarm&)> alarm;
  std::function<void(const uplink::AuditEvent&)> audit;
  std::function<void(const uplink::HealthSample&)> health;
  std::function<void(const uplink::ConfigOffered&)> config_offered;
};

struct UplinkRunnerOptions {
  uplink::SessionConfig session;
  bool gzip_bodies = false;  // Content-Encoding: gzip for batch and audit bodies (slow links)
  // The queue does not announce evictions; its pending gaps are polled at most this often while
  // records arrive, and at start.
  std::chrono::seconds gap_poll_interval{5};
};

class UplinkRunner {
 public:
  // The client, queue and hooks must outlive the runner. Jitter comes from a random_device-seeded
  // generator so that the nodes of a city spread out after a common outage.
  UplinkRunner(boost::asio::any_io_executor executor, https::HttpsClient& client, io::QueueStore& queue,
               UplinkRunnerOptions options, UplinkSinks sinks, uplink::CatalogHook* catalog = nullptr,
               uplink::HealthHook* health = nullptr, uplink::AuditHook* audit = nullptr);
  ~UplinkRunner();
  UplinkRunner(const UplinkRunner&) = delete;
  UplinkRunner& operator=(const UplinkRunner&) = delete;

  // Reads the queue's streams and pending gaps, then brings the link up (hello first).
  void start();
  // Stops sending: the request in flight is forgotten (its answer ignored), the timer cancelled.
  void stop();

  // The intake committed records of `stream` through `last_seq` (from the submit completion,
  // posted to the executor). Wakes the session; polls the queue's pending gaps now and then.
  void records_committed(const std::string& stream, std::uint64_t last_seq);
  void catalog_changed();
  void audit_appended();
  void state_changed();
  void config_applied(std::int64_t version, std::string sha256);
  void config_rejected(std::int64_t version, const std::string& error);

  const uplink::Session& session() const;

 private:
  struct State;
  std::shared_ptr<State> m_state;
};

}  // namespace xnode::app
