// The HTTP push driver: a local business system POSTs NDJSON records to
// `/v1/sources/{name}/records` and gets 200 only once they are durably queued (docs/http-push.md).
//
// - One listener per source (its own `listen` address), on one thread running an io_context;
//   the path names the source so that a client sending to the wrong port gets 404, not a mix-up.
// - A request is decoded whole (all or nothing, see push_body.hpp) and submitted to the sink as
//   ONE batch: one queue transaction. The answer waits for the sink's completion: ok → 200,
//   queue_full → 503 + Retry-After (the client holds its records: back-pressure), failed → 500.
// - Idempotency-Key: the key and the counts of its 200 answer are a source mark committed in the
//   same transaction as the records ("idem:<key>" → "<ms> <accepted> <queued>"), so the memory of
//   a key survives a crash exactly when its records do. A resend with a remembered key gets the
//   first answer and stores nothing; one sent while the first is still committing gets 409.
//   Keys are forgotten after idempotency_window (or when more than idempotency_max_keys are held):
//   their marks are cleared on the same thread, every 30 s and at start.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "core/config/config.hpp"
#include "drivers/driver.hpp"
#include "drivers/http/http_listener.hpp"
#include "drivers/http/http_settings.hpp"

namespace xnode::drivers::http {

class HttpDriver final : public Driver, public PushHandler {
 public:
  HttpDriver(std::string source, HttpSettings settings, DriverContext& context);
  ~HttpDriver() override;

  void start() override;
  void stop() override;
  SourceStatus status() const override;

 private:
  struct Shared;
  static constexpr std::uint64_t kUnknown = ~std::uint64_t{0};  // queued count lost in a restart
  struct Remembered {
    TimePoint at{};
    bool committed = false;  // false: the first request is still committing
    std::uint64_t accepted = 0, queued = 0;
  };

  void run();
  bool open_listener();
  void load_keys(const std::vector<io::SourceMark>& marks);
  void expire_keys();
  void schedule_expiry();
  void submit_tracked(SourceBatch batch, std::function<void(io::SubmitResult)> on_listener_thread);

  std::optional<Answer> check_header(const HttpRequest& request) override;
  void handle(HttpRequest& request, std::function<void(Answer)> reply) override;

  void set_state(const std::string& state, const std::string& error = {});

  const std::string m_source;
  const HttpSettings m_settings;
  IntakeSink& m_sink;
  std::function<TimePoint()> m_clock;

  std::shared_ptr<Shared> m_shared;
  std::unique_ptr<HttpListener> m_listener;
  std::thread m_thread;
  std::atomic<bool> m_stop{false};
  bool m_started = false;

  mutable std::mutex m_status_mutex;
  SourceStatus m_status;

  // Listener thread only.
  std::string m_token;
  std::uint64_t m_request_no = 0;
  std::unordered_map<std::string, Remembered> m_keys;
  std::deque<std::pair<std::string, TimePoint>> m_key_order;  // oldest first
};

Expected<std::unique_ptr<Driver>> make_driver(const config::SourceConfig& source, DriverContext& context);

}  // namespace xnode::drivers::http
