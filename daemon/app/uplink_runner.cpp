#include "app/uplink_runner.hpp"

#include <algorithm>
#include <random>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/base/log.hpp"

namespace xnode::app {

namespace {

constexpr const char* kLog = "uplink";

uplink::ErrorClass to_session_class(https::ErrorClass c) {
  switch (c) {
    case https::ErrorClass::dns: return uplink::ErrorClass::dns;
    case https::ErrorClass::connect: return uplink::ErrorClass::connect;
    case https::ErrorClass::tls: return uplink::ErrorClass::tls;
    case https::ErrorClass::timeout: return uplink::ErrorClass::timeout;
    case https::ErrorClass::http:
    case https::ErrorClass::none: return uplink::ErrorClass::protocol;
  }
  return uplink::ErrorClass::protocol;
}

// A peer (or a broken link) can make these repeat many times a second; journald must not flood.
log::RateLimit g_failure_log(5, std::chrono::minutes(1));
log::RateLimit g_quarantine_log(10, std::chrono::minutes(1));

}  // namespace

struct UplinkRunner::State : std::enable_shared_from_this<UplinkRunner::State> {
  State(boost::asio::any_io_executor ex, https::HttpsClient& c, io::QueueStore& q, UplinkRunnerOptions o,
        UplinkSinks s, uplink::CatalogHook* catalog, uplink::HealthHook* health, uplink::AuditHook* audit)
      : executor(ex),
        client(c),
        queue(q),
        options(std::move(o)),
        sinks(std::move(s)),
        rng(std::random_device{}()),
        session(options.session, [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }, catalog,
                health, audit),
        timer(ex),
        health_hook(health) {}

  boost::asio::any_io_executor executor;
  https::HttpsClient& client;
  io::QueueStore& queue;
  UplinkRunnerOptions options;
  UplinkSinks sinks;
  std::mt19937_64 rng;
  uplink::Session session;
  boost::asio::steady_timer timer;
  uplink::HealthHook* health_hook;  // to render a health report when it is sent (see perform(Send))
  bool running = false;
  bool stopping = false;
  bool draining = false;
  std::chrono::steady_clock::time_point last_gap_poll{};
  bool gap_poll_pending = false;

  static TimePoint now() { return Clock::now(); }

  // Runs `fn` on the executor if the runner still exists (store callbacks come from its thread).
  template <typename Fn>
  void post_back(Fn fn) {
    boost::asio::post(executor, [weak = weak_from_this(), fn = std::move(fn)]() mutable {
      if (auto self = weak.lock()) fn(*self);
    });
  }

  void drain() {
    if (draining) return;  // a sink called back into us: the loop below picks the new actions up
    draining = true;
    std::vector<io::QuarantineEntry> quarantine;
    while (session.has_actions()) {
      for (uplink::Action& a : session.take_actions()) std::visit([&](auto& act) { perform(act, quarantine); }, a);
    }
    draining = false;
    if (!quarantine.empty()) submit_quarantine(std::move(quarantine));
  }

  void perform(uplink::Send& s, std::vector<io::QuarantineEntry>&) {
    https::Request r;
    r.method = std::move(s.method);
    r.target = std::move(s.target);
    r.headers = std::move(s.headers);
    r.shared_body = s.body;  // the session's batch itself, not a copy
    // The session renders the report when it decides to send it, which on reconnection is before
    // the link_restored sample queued ahead of this request reached the model: rendered again here,
    // after the samples before it were performed, the first report after an outage is current
    // (link up, last_outage) instead of describing the outage.
    if (s.kind == uplink::RequestKind::health && health_hook) {
      r.shared_body.reset();
      r.body = health_hook->report(now());
    }
    r.gzip = options.gzip_bodies && (s.kind == uplink::RequestKind::batch || s.kind == uplink::RequestKind::audit);
    const std::uint64_t id = s.request_id;
    client.async_request(std::move(r), [weak = weak_from_this(), id](boost::system::error_code ec, https::Response resp) {
      auto self = weak.lock();
      if (!self || !self->running) return;
      if (ec) {
        std::string text = resp.error_detail.empty() ? ec.message() : resp.error_detail;
        self->session.transport_error(now(), id, to_session_class(resp.error_class), text);
      } else {
        self->session.response(now(), id, static_cast<int>(resp.status), resp.headers, resp.body);
      }
      self->drain();
    });
  }

  void perform(uplink::LoadBatch& l, std::vector<io::QuarantineEntry>&) {
    std::string stream = l.stream;
    const std::uint64_t after = l.after_seq;
    queue.read_batch(l.stream, l.after_seq, l.max_records, l.max_bytes,
                     [weak = weak_from_this(), stream, after](Expected<io::StoredBatch> result) mutable {
                       auto self = weak.lock();
                       if (!self) return;
                       self->post_back([stream = std::move(stream), after, result = std::move(result)](State& st) mutable {
                         if (!st.running) return;
                         if (!result) {
                           st.session.load_failed(now(), stream, result.error().message);
                         } else {
                           io::StoredBatch& b = result.value();
                           st.session.batch_loaded(now(), stream, after,
                                                   uplink::Batch{b.first_seq, b.count, std::move(b.body)});
                         }
                         st.drain();
                       });
                     });
  }

  void perform(uplink::Acknowledge& a, std::vector<io::QuarantineEntry>&) {
    std::string what = a.stream + " through " + std::to_string(a.through);
    queue.acknowledge(a.stream, a.through, [what](Expected<void> r) {
      // The platform holds the records; a failed local delete only means they are read and
      // resent once more (the platform counts them as duplicates), so a log line is enough.
      if (!r) log::error(kLog, "acknowledging " + what + " in the queue failed: " + r.error().message);
    });
  }

  void perform(uplink::Reconcile& r, std::vector<io::QuarantineEntry>&) {
    std::string stream = r.stream;
    queue.reconcile_stream(r.stream, r.platform_acked_through,
                           [weak = weak_from_this(), stream](Expected<io::StreamStats> result) mutable {
                             auto self = weak.lock();
                             if (!self) return;
                             self->post_back([stream = std::move(stream), result = std::move(result)](State& st) mutable {
                               if (!st.running) return;
                               if (!result) {
                                 st.session.load_failed(now(), stream, "reconcile: " + result.error().message);
                               } else {
                                 st.session.queue_has_data(now(), stream, result.value().last_seq);
                               }
                               st.drain();
                             });
                           });
  }

  void perform(uplink::GapDeclared& g, std::vector<io::QuarantineEntry>&) {
    log::warning(kLog, "declared loss to the platform: " + g.stream + " seq " + std::to_string(g.from_seq) + "-" +
                           std::to_string(g.to_seq) + " (" + g.reason + ")");
    if (!g.from_queue) return;
    io::GapRange range{g.stream, g.from_seq, g.to_seq, g.reason};
    queue.mark_gap_declared(range, [range](Expected<void> r) {
      // Not marked: it is declared again after a restart, which the platform answers 200.
      if (!r)
        log::error(kLog, "marking the gap " + range.stream + " " + std::to_string(range.from_seq) + "-" +
                             std::to_string(range.to_seq) + " declared failed: " + r.error().message);
    });
  }

  void perform(uplink::Quarantine& q, std::vector<io::QuarantineEntry>& out) {
    io::QuarantineEntry e;
    e.source = "platform";
    e.stream = q.stream;
    e.origin = "seq " + std::to_string(q.seq);
    e.reason = q.reason;
    e.content = std::move(q.line);
    e.at = now();
    g_quarantine_log.write(log::Level::warning, kLog,
                           "quarantined " + q.stream + " seq " + std::to_string(q.seq) + ": " + q.reason);
    out.push_back(std::move(e));
  }

  void perform(uplink::ArmTimer& t, std::vector<io::QuarantineEntry>&) {
    const auto delay = std::max(Clock::duration::zero(), t.at - now());
    timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay));
    timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (ec) return;  // cancelled: re-armed or stopped
      auto self = weak.lock();
      if (!self || !self->running) return;
      self->session.tick(now());
      self->drain();
    });
  }

  void perform(uplink::Alarm& a, std::vector<io::QuarantineEntry>&) {
    if (a.raised) log::warning(kLog, "alarm raised: " + a.id + ": " + a.text);
    else log::notice(kLog, "alarm cleared: " + a.id);
    if (sinks.alarm) sinks.alarm(a);
  }

  void perform(uplink::AuditEvent& e, std::vector<io::QuarantineEntry>&) {
    if (sinks.audit) sinks.audit(e);
  }

  void perform(uplink::HealthSample& h, std::vector<io::QuarantineEntry>&) {
    using Kind = uplink::HealthSample::Kind;
    if (h.kind == Kind::request_failed)
      g_failure_log.write(log::Level::warning, kLog, "request failed (" + std::string(error_class_name(h.error)) +
                                                        "): " + h.detail);
    else if (h.kind == Kind::link_lost && stopping)
      log::info(kLog, "link closed: " + h.detail);
    else if (h.kind == Kind::link_lost)
      log::warning(kLog, "link lost: " + h.detail);
    else if (h.kind == Kind::link_restored)
      log::notice(kLog, h.detail.empty() ? std::string("link established")
                                         : "link restored after: " + h.detail);
    if (sinks.health) sinks.health(h);
  }

  void perform(uplink::ConfigOffered& c, std::vector<io::QuarantineEntry>&) {
    log::notice(kLog, "the platform offers configuration version " + std::to_string(c.version));
    if (sinks.config_offered) sinks.config_offered(c);
  }

  void submit_quarantine(std::vector<io::QuarantineEntry> entries) {
    io::IntakeBatch batch;
    batch.quarantine = std::move(entries);
    const std::size_t n = batch.quarantine.size();
    queue.submit(std::move(batch), [n](io::SubmitResult r) {
      if (r.status != io::SubmitStatus::ok)
        log::error(kLog, "keeping " + std::to_string(n) + " platform-refused records in quarantine failed: " +
                             (r.status == io::SubmitStatus::queue_full ? std::string("queue full") : r.error));
    });
  }

  void poll_gaps(bool force) {
    const auto t = std::chrono::steady_clock::now();
    if (gap_poll_pending || (!force && t - last_gap_poll < options.gap_poll_interval)) return;
    last_gap_poll = t;
    gap_poll_pending = true;
    queue.pending_gaps([weak = weak_from_this()](std::vector<io::GapRange> gaps) mutable {
      auto self = weak.lock();
      if (!self) return;
      self->post_back([gaps = std::move(gaps)](State& st) mutable {
        st.gap_poll_pending = false;
        if (!st.running) return;
        for (auto& g : gaps)
          st.session.pending_gap(now(), uplink::Gap{std::move(g.stream), g.from_seq, g.to_seq, std::move(g.reason)});
        st.drain();
      });
    });
  }
};

UplinkRunner::UplinkRunner(boost::asio::any_io_executor executor, https::HttpsClient& client, io::QueueStore& queue,
                           UplinkRunnerOptions options, UplinkSinks sinks, uplink::CatalogHook* catalog,
                           uplink::HealthHook* health, uplink::AuditHook* audit)
    : m_state(std::make_shared<State>(std::move(executor), client, queue, std::move(options), std::move(sinks), catalog,
                                      health, audit)) {}

UplinkRunner::~UplinkRunner() {
  if (m_state) {
    m_state->running = false;
    m_state->timer.cancel();
  }
}

void UplinkRunner::start() {
  m_state->running = true;
  // The liveness probe (health.probe_interval): a dead idle connection ends the link at once.
  m_state->client.on_connection_lost([weak = std::weak_ptr<State>(m_state)](https::ErrorClass c, std::string text) {
    auto self = weak.lock();
    if (!self || !self->running) return;
    self->session.connection_lost(State::now(), to_session_class(c), text);
    self->drain();
  });
  // The queue's streams first, so that hello lists them and the session knows what is pending.
  m_state->queue.stats([weak = std::weak_ptr<State>(m_state)](io::QueueStats stats) mutable {
    auto self = weak.lock();
    if (!self) return;
    self->post_back([stats = std::move(stats)](State& st) {
      if (!st.running) return;
      const TimePoint now = State::now();
      for (const auto& s : stats.streams) st.session.queue_has_data(now, s.stream, s.last_seq);
      st.session.link_up(now);
      st.drain();
      st.poll_gaps(true);
    });
  });
}

void UplinkRunner::stop() {
  if (!m_state->running) return;
  m_state->stopping = true;
  m_state->session.link_down(State::now(), "the daemon stops");
  m_state->drain();
  m_state->running = false;
  m_state->timer.cancel();
}

void UplinkRunner::records_committed(const std::string& stream, std::uint64_t last_seq) {
  if (!m_state->running) return;
  m_state->session.queue_has_data(State::now(), stream, last_seq);
  m_state->drain();
  m_state->poll_gaps(false);
}

void UplinkRunner::catalog_changed() {
  m_state->session.catalog_changed(State::now());
  m_state->drain();
}

void UplinkRunner::audit_appended() {
  m_state->session.audit_appended(State::now());
  m_state->drain();
}

void UplinkRunner::state_changed() {
  m_state->session.state_changed(State::now());
  m_state->drain();
}

void UplinkRunner::config_applied(std::int64_t version, std::string sha256) {
  m_state->session.config_applied(State::now(), version, std::move(sha256));
  m_state->drain();
}

void UplinkRunner::config_rejected(std::int64_t version, const std::string& error) {
  m_state->session.config_rejected(State::now(), version, error);
  m_state->drain();
}

const uplink::Session& UplinkRunner::session() const { return m_state->session; }

}  // namespace xnode::app
