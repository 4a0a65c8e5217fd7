#include "app/daemon.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

#include "app/catalog_watch.hpp"
#include "app/config_file_watch.hpp"
#include "app/config_push.hpp"
#include "app/configuration.hpp"
#include "app/control_commands.hpp"
#include "app/control_server.hpp"
#include "app/quarantine_retention.hpp"
#include "app/uplink_hooks.hpp"
#include "app/intake_pipeline.hpp"
#include "app/metrics_endpoint.hpp"
#include "app/uplink_runner.hpp"
#include "core/audit/actions.hpp"
#include "core/base/log.hpp"
#include "core/catalog/catalog_sync.hpp"
#include "core/catalog/enums.hpp"
#include "core/catalog/overdue.hpp"
#include "core/catalog/slice_hash.hpp"
#include "core/health/health_model.hpp"
#include "drivers/registry.hpp"
#include "io/https/https_client.hpp"
#include "io/queue/queue_store.hpp"
#include "io/stores/audit_store.hpp"
#include "io/sys/sd_notify.hpp"
#include "io/tls/cert_info.hpp"
#include "io/tls/tls_config.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace xnode::app {
namespace {

constexpr const char* kCatalogMarkSource = "_catalog";  // queue marks: the confirmed catalog version
// Queue mark {"_config", "applied", "<version> <sha256>"}: the configuration last applied, so that
// with require_signature an older signed file cannot come back through a restart.
constexpr const char* kConfigMarkSource = "_config";
// Queue marks {"_intake", <stream>, <unix ms>}: when each stream last took a record in, so the
// overdue list (Art. 43) survives a restart. Written at most once a minute: a minute of
// imprecision in a measure of days is nothing, and the intake path stays free of extra writes.
constexpr const char* kIntakeMarkSource = "_intake";
constexpr auto kIntakePersistEvery = std::chrono::seconds(60);
constexpr auto kOverdueEvery = std::chrono::seconds(5);

log::Level to_log_level(config::LogLevel l) {
  switch (l) {
    case config::LogLevel::error: return log::Level::error;
    case config::LogLevel::warning: return log::Level::warning;
    case config::LogLevel::notice: return log::Level::notice;
    case config::LogLevel::info: return log::Level::info;
    case config::LogLevel::debug: return log::Level::debug;
  }
  return log::Level::info;
}

void ensure_parent_dir(const std::string& path) {
  fs::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
  }
}

// Only these differ between two configurations without a restart of the daemon process.
std::string restart_only_differences(const config::Config& a, const config::Config& b) {
  std::string out;
  auto note = [&](bool differs, const char* key) {
    if (differs) out += (out.empty() ? "" : ", ") + std::string(key);
  };
  note(a.node.id != b.node.id, "node.id");
  note(a.queue.path != b.queue.path, "queue.path");
  note(a.queue.durability != b.queue.durability, "queue.durability");
  note(a.queue.max_bytes != b.queue.max_bytes, "queue.max_bytes");
  note(a.queue.on_full != b.queue.on_full, "queue.on_full");
  note(a.queue.linger != b.queue.linger, "queue.linger");
  note(a.audit.path != b.audit.path, "audit.path");
  note(a.audit.max_bytes != b.audit.max_bytes, "audit.max_bytes");
  note(a.audit.retention_days != b.audit.retention_days, "audit.retention_days");
  note(a.health.status_file != b.health.status_file, "health.status_file");
  note(a.health.control_socket != b.health.control_socket, "health.control_socket");
  return out;
}

bool same_source(const config::SourceConfig& a, const config::SourceConfig& b) {
  return a.driver == b.driver && a.resource == b.resource && a.enabled == b.enabled &&
         config::same_values(a.settings, b.settings);
}

}  // namespace

struct Daemon::Impl {
  explicit Impl(std::string path)
      : config_path(std::move(path)),
        signals(io, SIGTERM, SIGINT, SIGHUP),
        tick_timer(io),
        health(health::NodeIdentity{}, Clock::now()) {}

  std::string config_path;
  CheckedConfiguration current;
  asio::io_context io;
  asio::signal_set signals;
  asio::steady_timer tick_timer;
  io::SystemdNotifier notifier;

  std::unique_ptr<io::QueueStore> store;
  std::unique_ptr<io::AuditStore> audit;
  std::unique_ptr<IntakePipeline> pipeline;
  health::HealthModel health;
  catalog::CatalogSync sync;
  std::unique_ptr<CatalogSyncHook> catalog_hook;
  std::unique_ptr<HealthModelHook> health_hook;
  std::unique_ptr<AuditStoreHook> audit_hook;
  std::unique_ptr<https::HttpsClient> client;
  std::unique_ptr<UplinkRunner> runner;
  std::unique_ptr<ControlCommands> control_commands;      // xnodectl's commands, audited with the caller's uid
  std::unique_ptr<ControlServer> control_server;          // health.control_socket
  std::unique_ptr<QuarantineRetention> quarantine_retention;
  std::unique_ptr<MetricsEndpoint> metrics;  // health.prometheus_listen (reload moves it)

  struct RunningSource {
    config::SourceConfig config;
    std::unique_ptr<drivers::DriverContext> context;
    std::unique_ptr<drivers::Driver> driver;
  };
  std::map<std::string, RunningSource> sources;

  std::optional<std::string> config_error;  // the last refused reload
  std::string restart_needed;               // keys changed by a reload that wait for a restart
  io::AuditStoreStatus audit_status_at_open;
  std::string last_status_line;
  std::chrono::steady_clock::time_point last_watchdog{};
  std::chrono::steady_clock::time_point last_stats{};
  std::chrono::steady_clock::time_point last_sample{};  // sample_local_state, every health.probe_interval
  bool queue_changed = false;  // records committed or answered since the last queue figures
  static constexpr std::chrono::seconds kStatusEvery{2};  // status file (xnodectl status)
  bool stopping = false;
  int ticks = 0;
  std::int64_t audit_durable_announced = 0;  // durable_seq the uplink last heard of

  CatalogWatch catalog_watch;                 // edits of catalog.dir, picked up on the tick
  ConfigFileWatch config_watch;               // xnode.yaml (+ .sig) replaced, picked up on the tick
  catalog::LastRecordTimes last_intake;       // per stream, the last committed record's intake time
  std::set<std::string> intake_unsaved;       // streams whose last_intake is newer than its mark
  TimePoint tracking_since{};                 // streams without a record are measured from here
  std::chrono::steady_clock::time_point last_intake_persist{};
  std::chrono::steady_clock::time_point last_overdue{};
  std::optional<TimePoint> review_warned_at;  // the yearly-review warning is logged once a day

  // --- start ---------------------------------------------------------------------------------

  int start() {
    // The file's bytes are read once: the signature is checked over exactly what is validated.
    config_watch = ConfigFileWatch(config_path);
    auto candidate = read_config_file(config_path);
    if (!candidate) {
      log::error("config", candidate.error().message);
      log::error("config", config_path + ": configuration invalid, not starting");
      return 1;
    }
    current = check_configuration_text(candidate->yaml, config_path);
    if (!current.ok()) {
      for (const auto& e : current.errors) log::error("config", e);
      log::error("config", config_path + ": configuration invalid, not starting");
      return 1;
    }
    for (const auto& w : current.warnings) log::warning("config", w);
    const config::Config& cfg = *current.config;
    log::set_level(to_log_level(cfg.log.level));

    try {
      open_stores(cfg);
    } catch (const std::exception& e) {
      log::error("store", e.what());
      return 1;
    }
    if (auto rules = check_start_rules(*candidate, current.version, cfg.config_push, read_applied_version()); !rules) {
      log::error("config", config_path + ": " + rules.error().message);
      log::error("config", config_path + ": configuration refused (config_push.require_signature), not starting");
      json::Value d = json::Value::object();
      d.set("origin", "file");
      d.set("version", static_cast<long long>(current.version));
      d.set("reason", rules.error().message);
      audit_event(std::string(audit::action::config_refused), config_path, "refused", std::move(d));
      return 1;
    }
    persist_applied_version();
    audit_event(std::string(audit::action::config_loaded), config_path, "ok", config_detail());
    audit_event(std::string(audit::action::node_started), cfg.node.id, "ok", json::Value::object());

    health = health::HealthModel(health::NodeIdentity{cfg.node.id, XNODE_VERSION, cfg.uplink.endpoints.front()},
                                 Clock::now(), health_options(cfg));
    health.set_config(current.version, current.sha256, std::nullopt);
    apply_audit_status(audit_status_at_open);
    refresh_tls_dates(cfg);

    pipeline = std::make_unique<IntakePipeline>(*store, [] { return Clock::now(); });
    pipeline->bind(current.slice, cfg.sources);
    pipeline->on_quarantine([this](const std::string& source, std::size_t count, const std::string& reason) {
      json::Value d = json::Value::object();
      d.set("count", static_cast<unsigned long long>(count));
      d.set("first_reason", reason);
      audit_event(std::string(audit::action::records_quarantined), "source:" + source, "ok", std::move(d));
    });

    pipeline->on_committed([this](const std::string& stream, std::uint64_t last_seq) {
      asio::post(io, [this, stream, last_seq, at = Clock::now()] {
        auto& last = last_intake[stream];
        if (at > last) last = at;
        intake_unsaved.insert(stream);
        queue_changed = true;
        if (runner && !stopping) runner->records_committed(stream, last_seq);
      });
    });
    tracking_since = Clock::now();
    read_intake_marks();
    catalog_watch.reset(cfg.catalog.dir);
    sync = catalog::CatalogSync(read_confirmed_catalog());
    sync.set_local(current.slice);

    try {
      start_uplink(cfg);
    } catch (const std::exception& e) {
      log::error("uplink", e.what());
      return 1;
    }

    for (const auto& s : cfg.sources)
      if (s.enabled) start_source(s);
    start_metrics(cfg);

    start_control(cfg);
    signals.async_wait([this](const boost::system::error_code& ec, int sig) { on_signal(ec, sig); });
    schedule_tick();
    runner->start();
    notifier.ready();
    log::notice("xnoded", "ready: node " + cfg.node.id + ", " + std::to_string(cfg.sources.size()) + " source(s), " +
                              std::to_string(current.slice.resources.size()) + " catalog resource(s), config version " +
                              std::to_string(current.version));
    return 0;
  }

  // A monitoring endpoint that cannot bind is logged, not fatal: data delivery matters more.
  void start_metrics(const config::Config& cfg) {
    if (cfg.health.prometheus_listen.empty()) return;
    auto started = MetricsEndpoint::start(io.get_executor(), cfg.health.prometheus_listen,
                                          [this] { return health.prometheus_text(Clock::now()); });
    if (started) metrics = std::move(*started);
    else log::error("metrics", started.error().message);
  }

  // The control socket and the quarantine retention. A socket that cannot be made does not stop
  // the node (data keeps flowing); xnodectl then says the commands that change the node are unavailable.
  void start_control(const config::Config& cfg) {
    control_commands = std::make_unique<ControlCommands>(
        io.get_executor(), *store, *audit, [this]() -> const CheckedConfiguration& { return current; },
        [this](const std::string& stream, std::uint64_t last_seq) {
          if (runner && !stopping) runner->records_committed(stream, last_seq);
        });
    quarantine_retention = std::make_unique<QuarantineRetention>(io.get_executor(), *store, [this](std::uint64_t n, TimePoint cutoff) {
      json::Value d = json::Value::object();
      d.set("removed", static_cast<std::int64_t>(n));
      d.set("before", format_rfc3339(cutoff));
      audit_event(std::string(audit::action::quarantine_expired), "quarantine", "ok", std::move(d));
    });
    if (cfg.health.control_socket.empty()) return;
    try {
      control_server = std::make_unique<ControlServer>(
          io.get_executor(), cfg.health.control_socket,
          [this](const ControlPeer& peer, control::Request r, ControlServer::Reply reply) {
            control_commands->handle(peer, std::move(r), std::move(reply));
          });
    } catch (const std::exception& e) {
      log::error("control", std::string(e.what()) + ": xnodectl commands that change the node are unavailable");
    }
  }

  // Reload: the new address is bound before the old listener closes, so a refused bind (address in
  // use) keeps the endpoint where it was, with an error in the log.
  void reload_metrics(const config::Config& cfg) {
    const std::string& want = cfg.health.prometheus_listen;
    if (metrics ? metrics->listen() == want : want.empty()) return;
    if (want.empty()) {
      metrics.reset();
      log::info("metrics", "Prometheus endpoint closed");
      return;
    }
    auto started = MetricsEndpoint::start(io.get_executor(), want, [this] { return health.prometheus_text(Clock::now()); });
    if (!started) {
      log::error("metrics", started.error().message + (metrics ? "; still serving on " + metrics->listen() : ""));
      return;
    }
    metrics = std::move(*started);
  }

  health::HealthOptions health_options(const config::Config& cfg) {
    health::HealthOptions o;
    o.thresholds.link_down_after = cfg.health.alarms.link_down_after;
    o.thresholds.backlog_age_max = cfg.health.alarms.backlog_age;
    o.thresholds.disk_free_min_bytes = cfg.health.alarms.disk_free_min;
    o.thresholds.cert_expiring_within = cfg.health.alarms.cert_expiry_warning;
    o.thresholds.clock_offset_max = cfg.health.alarms.clock_offset_max;
    o.thresholds.clear_after = cfg.health.alarms.clear_after;
    return o;
  }

  void open_stores(const config::Config& cfg) {
    io::QueueOptions q;
    q.path = cfg.queue.path;
    q.durability = cfg.queue.durability == config::Durability::full ? io::Durability::full : io::Durability::normal;
    q.max_bytes = cfg.queue.max_bytes;
    q.on_full = cfg.queue.on_full == config::OnFull::block ? io::OnFull::block : io::OnFull::drop_oldest;
    q.linger = cfg.queue.linger;
    ensure_parent_dir(q.path);
    store = io::QueueStore::open(q);

    io::AuditStoreOptions a;
    a.path = cfg.audit.path;
    a.durability = q.durability == io::Durability::full ? io::AuditDurability::full : io::AuditDurability::normal;
    a.max_bytes = cfg.audit.max_bytes;
    a.retention_days = static_cast<int>(cfg.audit.retention_days);
    a.lock_wait = std::chrono::seconds(10);  // an xnodectl auditing its own command holds it briefly
    ensure_parent_dir(a.path);
    auto opened = io::AuditStore::open(a, [this](const io::AuditStoreStatus& st) {
      asio::post(io, [this, st] {
        apply_audit_status(st);
      });
    });
    if (!opened) throw std::runtime_error("audit store: " + opened.error().message);
    audit = std::move(*opened);
    const auto st = audit->status();
    if (st.chain_broken) log::error("audit", "the stored audit chain fails verification: " + st.last_error);
    audit_status_at_open = st;
  }

  void apply_audit_status(const io::AuditStoreStatus& st) {
    health.set_audit_chain_broken(st.chain_broken ? std::optional<std::string>("stored audit chain: " + st.last_error)
                                                  : std::nullopt);
    if (st.quota_alarm()) {
      std::string text = std::string("audit store ") + io::quota_state_name(st.quota) + " its quota (" +
                         std::to_string(st.used_bytes) + " of " + std::to_string(st.max_bytes) + " bytes)";
      if (st.stuck) text += ", writes failing: " + st.last_error;
      if (st.overflow_dropped) text += ", " + std::to_string(st.overflow_dropped) + " event(s) lost to overflow";
      health.set_audit_quota(text);
    } else {
      health.set_audit_quota(std::nullopt);
    }
  }

  json::Value config_detail() const {
    json::Value d = json::Value::object();
    d.set("version", static_cast<long long>(current.version));
    d.set("sha256", current.sha256);
    d.set("catalog_sha256", catalog::slice_sha256(current.slice));
    d.set("catalog_resources", static_cast<unsigned long long>(current.slice.resources.size()));
    return d;
  }

  std::optional<catalog::CatalogSync::Confirmed> read_confirmed_catalog() {
    std::promise<std::vector<io::SourceMark>> p;
    auto f = p.get_future();
    store->read_marks(kCatalogMarkSource, [&p](std::vector<io::SourceMark> marks) { p.set_value(std::move(marks)); });
    for (const auto& m : f.get()) {
      if (m.key != "confirmed") continue;
      auto space = m.value.find(' ');
      if (space == std::string::npos) continue;
      catalog::CatalogSync::Confirmed c;
      c.version = std::stoll(m.value.substr(0, space));
      c.sha256 = m.value.substr(space + 1);
      return c;
    }
    return std::nullopt;
  }

  std::optional<std::int64_t> read_applied_version() {
    std::promise<std::vector<io::SourceMark>> p;
    auto f = p.get_future();
    store->read_marks(kConfigMarkSource, [&p](std::vector<io::SourceMark> marks) { p.set_value(std::move(marks)); });
    for (const auto& m : f.get()) {
      if (m.key != "applied") continue;
      try {
        return std::stoll(m.value.substr(0, m.value.find(' ')));
      } catch (const std::exception&) {
        log::warning("config", "ignoring an unreadable applied-configuration mark: " + m.value);
      }
    }
    return std::nullopt;
  }

  void persist_applied_version() {
    io::IntakeBatch b;
    b.marks.push_back({kConfigMarkSource, "applied", std::to_string(current.version) + " " + current.sha256});
    store->submit(std::move(b), [](io::SubmitResult r) {
      if (r.status != io::SubmitStatus::ok)
        log::warning("config", "cannot save the applied configuration version: " + r.error);
    });
  }

  RunningConfig running_config() const {
    return RunningConfig{current.version, current.sha256, current.config->config_push};
  }

  void persist_confirmed(const catalog::CatalogSync::Confirmed& c) {
    io::IntakeBatch b;
    b.marks.push_back({kCatalogMarkSource, "confirmed", std::to_string(c.version) + " " + c.sha256});
    store->submit(std::move(b), [](io::SubmitResult r) {
      if (r.status != io::SubmitStatus::ok) log::warning("catalog", "cannot save the confirmed catalog version: " + r.error);
    });
  }

  // The last intake times saved by an earlier run; the earliest of them also tells since when this
  // node has been tracking, so a restart does not reset the overdue clock of a silent resource.
  void read_intake_marks() {
    std::promise<std::vector<io::SourceMark>> p;
    auto f = p.get_future();
    store->read_marks(kIntakeMarkSource, [&p](std::vector<io::SourceMark> marks) { p.set_value(std::move(marks)); });
    for (const auto& m : f.get()) {
      if (m.key == "_since") {
        try {
          tracking_since = TimePoint(std::chrono::milliseconds(std::stoll(m.value)));
        } catch (const std::exception&) {
          log::warning("catalog", "ignoring an unreadable intake tracking mark: " + m.value);
        }
        continue;
      }
      try {
        last_intake[m.key] = TimePoint(std::chrono::milliseconds(std::stoll(m.value)));
      } catch (const std::exception&) {
        log::warning("catalog", "ignoring an unreadable last-intake mark of " + m.key + ": " + m.value);
      }
    }
    // A first start records when tracking began; later starts keep the stored one.
    io::IntakeBatch b;
    b.marks.push_back({kIntakeMarkSource, "_since", std::to_string(unix_ms(tracking_since)), std::string()});
    store->submit(std::move(b), [](io::SubmitResult) {});  // refused (already set) is the normal case
  }

  static long long unix_ms(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  }

  void persist_intake_times() {
    if (intake_unsaved.empty()) return;
    io::IntakeBatch b;
    for (const auto& stream : intake_unsaved) {
      auto it = last_intake.find(stream);
      if (it != last_intake.end()) b.marks.push_back({kIntakeMarkSource, stream, std::to_string(unix_ms(it->second))});
    }
    intake_unsaved.clear();
    store->submit(std::move(b), [](io::SubmitResult r) {
      if (r.status != io::SubmitStatus::ok)
        log::warning("catalog", "cannot save the streams' last intake times: " + r.error);
    });
  }

  // Overdue resources into the health report (catalog.overdue, the overdue_resources alarm), and
  // the yearly-review warning in the log.
  void refresh_catalog_health(TimePoint now) {
    const config::Config& cfg = *current.config;
    const auto grace = std::chrono::duration_cast<std::chrono::seconds>(cfg.catalog.overdue_grace);
    std::vector<health::OverdueResource> overdue;
    for (auto& o : catalog::overdue_resources(current.slice, last_intake, tracking_since, now, grace))
      overdue.push_back({std::move(o.code), std::string(catalog::code_of(o.update_cycle)), o.last_update});
    const std::int64_t version = sync.confirmed() ? sync.confirmed()->version : 0;
    health.set_catalog(version, std::move(overdue));

    if (review_warned_at && now - *review_warned_at < std::chrono::hours(24)) return;
    auto last_edit = catalog_dir_last_edit(cfg.catalog.dir);
    if (!last_edit) return;
    // "Changed or confirmed": a platform confirmation of this very slice counts as a review only
    // through the files it was made from, so the files' last edit is the measure.
    if (now - *last_edit >= cfg.catalog.review_warning) {
      review_warned_at = now;
      log::warning("catalog", "the catalog slice in " + cfg.catalog.dir + " was last edited " + format_rfc3339(*last_edit) +
                                  ": its yearly review is due (Art. 12); review the resources and save the files");
    }
  }

  https::ClientOptions client_options(const config::Config& cfg) {
    auto tls = tls::TlsConfig::create(uplink_tls_settings(cfg.uplink));
    if (!tls) throw std::runtime_error("uplink TLS: " + tls.error().message);
    https::ClientOptions o;
    o.endpoints = cfg.uplink.endpoints;
    o.proxy = cfg.uplink.proxy;
    o.tls = std::move(*tls);
    o.connect_timeout = cfg.uplink.connect_timeout;
    o.handshake_timeout = cfg.uplink.handshake_timeout;
    o.write_timeout = cfg.uplink.request_timeout;
    o.read_timeout = cfg.uplink.request_timeout;
    o.body_limit = cfg.uplink.max_response_bytes;
    o.user_agent = std::string("xnode/") + XNODE_VERSION;
    o.liveness_interval = cfg.health.probe_interval;  // keep-alive finds a silent cut within it
    return o;
  }

  uplink::SessionConfig session_config(const config::Config& cfg) {
    uplink::SessionConfig s;
    s.node_id = cfg.node.id;
    s.software_version = XNODE_VERSION;
    s.config_version = current.version;
    s.config_sha256 = current.sha256;
    for (const auto& r : current.slice.resources) s.streams.push_back(r.code);
    s.max_batch_records = static_cast<std::size_t>(cfg.uplink.max_batch_records);
    s.max_batch_bytes = static_cast<std::size_t>(cfg.uplink.max_batch_bytes);
    s.backoff_initial = cfg.uplink.backoff_initial;
    s.backoff_cap = cfg.uplink.backoff_max;
    s.forbidden_backoff = cfg.uplink.forbidden_backoff;
    s.default_heartbeat = std::chrono::duration_cast<Seconds>(cfg.health.interval);
    return s;
  }

  void start_uplink(const config::Config& cfg) {
    client = std::make_unique<https::HttpsClient>(io.get_executor(), client_options(cfg));
    catalog_hook = std::make_unique<CatalogSyncHook>(sync, [this](const catalog::CatalogSyncEvent& ev) { on_catalog_event(ev); });
    health_hook = std::make_unique<HealthModelHook>(health);
    audit_hook = std::make_unique<AuditStoreHook>(*audit);

    UplinkRunnerOptions o;
    o.session = session_config(cfg);
    o.gzip_bodies = cfg.uplink.gzip;
    UplinkSinks sinks;
    sinks.alarm = [this](const uplink::Alarm& a) { on_uplink_alarm(a); };
    sinks.audit = [this](const uplink::AuditEvent& e) { audit_event(e.action, e.object, e.result, e.detail); };
    sinks.health = [this](const uplink::HealthSample& h) { on_health_sample(h); };
    // Taken up on the loop, not inside the runner's answer handler: applying replaces the
    // client's options, which is not done from within one of its own completions.
    sinks.config_offered = [this](const uplink::ConfigOffered& c) {
      asio::post(io, [this, c] {
        if (!stopping) on_config_offered(c);
      });
    };
    runner = std::make_unique<UplinkRunner>(io.get_executor(), *client, *store, std::move(o), std::move(sinks),
                                            catalog_hook.get(), health_hook.get(), audit_hook.get());
  }

  // A configuration pulled from the platform (§3.7): the push rules, the full check, then it
  // replaces the file and goes through the SIGHUP reload path; any failure keeps the running one.
  void on_config_offered(const uplink::ConfigOffered& c) {
    log::notice("config", "the platform offers configuration version " + std::to_string(c.version));
    auto refuse = [&](const std::string& reason) {
      log::error("config", "configuration version " + std::to_string(c.version) + " from the platform refused: " + reason +
                               "; keeping version " + std::to_string(current.version));
      config_error = reason;
      health.set_config(current.version, current.sha256, reason);
      json::Value d = json::Value::object();
      d.set("origin", "platform");
      d.set("version", static_cast<long long>(c.version));
      d.set("reason", reason);
      audit_event(std::string(audit::action::config_refused), "platform:config:" + std::to_string(c.version), "refused",
                  std::move(d));
      runner->config_rejected(c.version, reason);
    };
    auto candidate = parse_config_offer(c.body);
    if (!candidate) return refuse(candidate.error().message);
    CheckedConfiguration next = check_configuration_text(candidate->yaml, config_path);
    if (auto rules = check_push_rules(*candidate, next.version, running_config()); !rules)
      return refuse(rules.error().message);
    if (!next.ok()) return refuse(next.errors.empty() ? std::string("invalid") : next.errors.front());
    if (auto w = install_config_file(config_path, candidate->yaml, *candidate->signature); !w)
      return refuse("cannot write the configuration file: " + w.error().message);
    log::notice("config", config_path + ": replaced by version " + std::to_string(next.version) +
                              " from the platform (previous kept as " + config_path + ".prev)");
    if (auto applied = reload(ConfigOrigin::platform); !applied) {
      // reload() reported and audited it; the file goes back to what is running.
      if (auto r = restore_previous_config(config_path); !r)
        log::error("config", "cannot put the previous configuration file back: " + r.error().message);
      config_watch.seen(config_watch.fingerprint());  // our own restore, not an edit to reload
      runner->config_rejected(c.version, applied.error().message);
    }
  }

  void start_source(const config::SourceConfig& s) {
    RunningSource rs;
    rs.config = s;
    rs.context = std::make_unique<drivers::DriverContext>(drivers::DriverContext{
        *pipeline, [this, name = s.name](std::string_view field) { return pipeline->item_type(name, field); },
        [] { return Clock::now(); }});
    auto made = drivers::make_driver(s, *rs.context);
    if (!made) {
      log::error("source", "source " + s.name + ": " + made.error().message);
      health::SourceHealth h;
      h.name = s.name;
      h.state = "error";
      h.last_error = made.error().message;
      health.set_source(h);
      return;
    }
    rs.driver = std::move(*made);
    rs.driver->start();
    log::info("source", "source " + s.name + " (" + s.driver + ") feeds " + s.resource);
    sources[s.name] = std::move(rs);
  }

  void stop_source(const std::string& name) {
    auto it = sources.find(name);
    if (it == sources.end()) return;
    if (it->second.driver) it->second.driver->stop();
    sources.erase(it);
    health.remove_source(name);
  }

  // --- events ----------------------------------------------------------------------------------

  void audit_event(std::string action, std::string object, std::string result, json::Value detail) {
    if (!audit) return;
    audit::AuditEntry e;
    e.actor = std::string(audit::daemon_actor);
    e.action = std::move(action);
    e.object = std::move(object);
    e.result = std::move(result);
    e.detail = std::move(detail);
    auto r = audit->append(std::move(e), Clock::now());
    if (r == io::AppendResult::refused) log::error("audit", "an audit event was refused (defect)");
    if (runner) asio::post(io, [this] { if (runner) runner->audit_appended(); });
  }

  void on_uplink_alarm(const uplink::Alarm& a) {
    feed_health(health, a, Clock::now());
    if (a.id != "platform_forbidden" && a.id != "catalog_refused" && a.id != "audit_chain_broken") {
      // seq_reuse and the session's other alarms are not tracked by the health model: a defect to
      // look at now, so logged loudly and audited.
      (a.raised ? log::error : log::notice)("uplink", std::string("alarm ") + (a.raised ? "raised" : "cleared") + ": " +
                                                          a.id + ": " + a.text);
      json::Value d = json::Value::object();
      d.set("text", a.text);
      audit_event(a.raised ? "alarm.raised" : "alarm.cleared", a.id, "ok", std::move(d));
    }
  }

  static json::Value codes_json(const std::vector<std::string>& codes) {
    json::Value arr = json::Value::array();
    for (const auto& c : codes) arr.push_back(c);
    return arr;
  }

  // What a catalog answer meant: audit trail, log, and the confirmed version kept across restarts.
  void on_catalog_event(const catalog::CatalogSyncEvent& ev) {
    using K = catalog::CatalogSyncEvent::Kind;
    json::Value d = json::Value::object();
    switch (ev.kind) {
      case K::stored:
        d.set("version", static_cast<long long>(ev.version));
        audit_event(std::string(audit::action::catalog_synced), "catalog", "ok", std::move(d));
        health.catalog_accepted();
        log::notice("catalog", "platform holds the department's slice at version " + std::to_string(ev.version));
        if (sync.confirmed()) persist_confirmed(*sync.confirmed());
        break;
      case K::conflict:
        d.set("message", ev.message);
        audit_event(std::string(audit::action::catalog_conflict), "catalog", "conflict", std::move(d));
        log::warning("catalog", "version conflict: fetching the platform's copy to re-base (" + ev.message + ")");
        break;
      case K::reconciled:
        d.set("only_local", codes_json(ev.drift.only_local));
        d.set("only_platform", codes_json(ev.drift.only_platform));
        d.set("changed", codes_json(ev.drift.changed));
        d.set("platform_version", static_cast<long long>(ev.version));
        audit_event(std::string(audit::action::catalog_conflict), "catalog", "reconciled", std::move(d));
        if (!ev.drift.empty())
          log::warning("catalog", "the platform's copy had drifted from the department's files; sending the files' slice again");
        break;
      case K::rejected: {
        json::Value problems = json::Value::array();
        std::string text;
        for (const auto& p : ev.problems) {
          json::Value o = json::Value::object();
          o.set("code", p.code);
          o.set("field", p.field);
          o.set("reason", p.reason);
          problems.push_back(std::move(o));
          if (text.size() < 400) text += (text.empty() ? "" : "; ") + p.to_string();
        }
        d.set("problems", std::move(problems));
        d.set("message", ev.message);
        audit_event(std::string(audit::action::catalog_refused), "catalog", "refused", std::move(d));
        log::error("catalog", "the platform refused the catalog slice: " + (text.empty() ? ev.message : text));
        break;
      }
      case K::failed:
        break;
    }
  }

  void on_health_sample(const uplink::HealthSample& h) {
    using K = uplink::HealthSample::Kind;
    queue_changed = true;  // an answer may have acknowledged or quarantined records
    // link_restored is fed below with the TLS handshake time the sample lacks.
    if (h.kind != K::link_restored) feed_health(health, h);
    switch (h.kind) {
      case K::request_failed:
        // While the link is down, each failed attempt says why it stays down (the operator reads
        // "connect: connection refused", not "not connected yet").
        if (health.link_state() == health::LinkState::down &&
            (h.error == uplink::ErrorClass::dns || h.error == uplink::ErrorClass::connect ||
             h.error == uplink::ErrorClass::tls || h.error == uplink::ErrorClass::timeout))
          health.link_down(h.at, std::string(uplink::error_class_name(h.error)) + ": " + h.detail);
        break;
      case K::request_ok:
      case K::clock_offset:
        break;
      case K::link_lost: {
        json::Value d = json::Value::object();
        d.set("cause", h.detail);
        d.set("class", uplink::error_class_name(h.error));
        audit_event(std::string(audit::action::link_down), client->stats().endpoint, "failed", std::move(d));
        if (h.error == uplink::ErrorClass::tls) {
          json::Value t = json::Value::object();
          t.set("reason", h.detail);
          audit_event(std::string(audit::action::tls_refused), client->stats().endpoint, "refused", std::move(t));
        }
        break;
      }
      case K::link_restored: {
        auto stats = client->stats();
        health.set_endpoint(stats.endpoint);
        health.link_up(h.at, stats.last_handshake);
        json::Value d = json::Value::object();
        d.set("tls_handshake_ms", static_cast<long long>(stats.last_handshake.count()));
        d.set("session_resumed", stats.last_session_resumed);
        audit_event(std::string(audit::action::link_up), stats.endpoint, "ok", std::move(d));
        break;
      }
    }
  }

  void refresh_tls_dates(const config::Config& cfg) {
    std::optional<TimePoint> expires, crl_next;
    if (auto d = tls::read_certificate_dates(cfg.uplink.cert_file)) expires = d->not_after;
    if (!cfg.uplink.crl_file.empty())
      if (auto n = tls::read_crl_next_update(cfg.uplink.crl_file)) crl_next = *n;
    health.set_tls(expires, crl_next);
  }

  void refresh_health(TimePoint now) {
    (void)now;
    for (auto& [name, rs] : sources) {
      if (!rs.driver) continue;
      auto st = rs.driver->status();
      health::SourceHealth h;
      h.name = name;
      h.state = st.state == "error" ? "error" : st.state == "stopped" ? "stopped" : (st.state == "idle" ? "idle" : "ok");
      h.last_ok = st.last_ok;
      if (!st.last_error.empty()) h.last_error = st.last_error;
      health.set_source(h);
    }
    struct statvfs vfs{};
    fs::path dir = fs::path(current.config->queue.path).parent_path();
    if (::statvfs(dir.empty() ? "." : dir.c_str(), &vfs) == 0)
      health.set_disk_free(static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize);
  }

  // health.probe_interval: the local state the health model shows, read again. The certificate and
  // CRL files too, so that a rotated certificate or a fetched CRL shows without a reload.
  void sample_local_state(TimePoint now) {
    queue_changed = false;
    request_queue_stats();
    refresh_health(now);
    refresh_tls_dates(*current.config);
  }

  void request_queue_stats() {
    store->stats([this](io::QueueStats s) {
      asio::post(io, [this, s = std::move(s)] {
        health::QueueSnapshot q;
        for (const auto& st : s.streams) {
          q.records += static_cast<std::int64_t>(st.pending);
          q.bytes += static_cast<std::int64_t>(st.bytes);
          if (st.oldest && (!q.oldest_pending_at || *st.oldest < *q.oldest_pending_at)) q.oldest_pending_at = st.oldest;
          q.streams[st.stream] = {static_cast<std::int64_t>(st.pending), static_cast<std::int64_t>(st.acked_through)};
        }
        health.set_queue(std::move(q));
        health.set_quarantine(static_cast<std::int64_t>(s.quarantine_records));
        last_queue_stats = std::move(s);
      });
    });
  }
  io::QueueStats last_queue_stats;

  // --- periodic work ---------------------------------------------------------------------------

  void schedule_tick() {
    tick_timer.expires_after(std::chrono::seconds(1));
    tick_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      on_tick();
      schedule_tick();
    });
  }

  void on_tick() {
    const TimePoint now = Clock::now();
    const auto steady = std::chrono::steady_clock::now();
    ++ticks;
    if (steady - last_sample >= current.config->health.probe_interval) {
      last_sample = steady;
      sample_local_state(now);
    } else if (queue_changed && steady - last_stats >= kStatusEvery) {
      // Between samples, the queue figures follow deliveries and intake at the status file's pace.
      queue_changed = false;
      request_queue_stats();
    }
    if (steady - last_stats >= kStatusEvery) {
      last_stats = steady;
      write_status_file(now);
    }
    if (catalog_watch.changed()) {
      log::notice("catalog", "the catalog files in " + catalog_watch.dir() + " changed: reloading");
      (void)reload();
    }
    if (config_watch.changed()) {
      log::notice("config", config_path + " was replaced: reloading");
      (void)reload();
    }
    if (steady - last_overdue >= kOverdueEvery) {
      last_overdue = steady;
      refresh_catalog_health(now);
    }
    if (steady - last_intake_persist >= kIntakePersistEvery) {
      last_intake_persist = steady;
      persist_intake_times();
    }
    if (quarantine_retention) quarantine_retention->on_tick(steady, now, current.config->quarantine.retention);
    for (const auto& t : health.evaluate(now)) {
      log::write(t.log_level(), "alarm", t.describe());
      audit_event(t.audit_action(), health::alarm_name(t.id), "ok", t.audit_detail());
    }
    // audit_event() wakes the uplink before the store's writer thread made the event durable, and
    // only durable events are shipped: without this nudge the last events of a burst waited for
    // the next heartbeat (60 s) instead of going at once.
    if (runner && audit) {
      const std::int64_t durable = audit->status().durable_seq;
      if (durable > audit_durable_announced) {
        audit_durable_announced = durable;
        runner->audit_appended();
      }
    }
    if (health.take_state_changed() && runner) runner->state_changed();

    std::string line = health.status_line(now);
    if (line != last_status_line) {
      notifier.status(line);
      last_status_line = std::move(line);
    }
    if (auto wd = notifier.watchdog_interval()) {
      // A ping only while both the network loop (we are in it) and the storage thread are alive:
      // a stuck thread means systemd restarts us.
      const bool store_alive = steady - store->last_alive() < *wd;
      if (store_alive && steady - last_watchdog >= *wd / 2) {
        notifier.watchdog();
        last_watchdog = steady;
      } else if (!store_alive) {
        log::error("xnoded", "the queue store thread has not turned for a watchdog interval: withholding the watchdog ping");
      }
    }
  }

  void write_status_file(TimePoint now) {
    const std::string& path = current.config->health.status_file;
    if (path.empty()) return;
    json::Value doc = health.report_json(now);
    json::Value node = json::Value::object();
    node.set("pid", static_cast<long long>(::getpid()));
    node.set("written_at", format_rfc3339(now));
    node.set("config_path", config_path);
    node.set("restart_needed", restart_needed.empty() ? json::Value() : json::Value(restart_needed));
    node.set("queue_path", current.config->queue.path);
    node.set("audit_path", current.config->audit.path);
    node.set("queue_file_bytes", static_cast<unsigned long long>(last_queue_stats.file_bytes));
    if (quarantine_retention)
      node.set("quarantine_retention_removed", static_cast<unsigned long long>(quarantine_retention->removed_total()));
    json::Value intake = json::Value::array();
    for (const auto& [name, rs] : sources) {
      json::Value s = json::Value::object();
      s.set("name", name);
      s.set("driver", rs.config.driver);
      s.set("resource", rs.config.resource);
      if (rs.driver) {
        auto st = rs.driver->status();
        s.set("state", st.state);
        s.set("records", static_cast<unsigned long long>(st.records));
        s.set("files", static_cast<unsigned long long>(st.files));
        s.set("last_error", st.last_error.empty() ? json::Value() : json::Value(st.last_error));
        if (st.last_ok) s.set("last_ok", format_rfc3339(*st.last_ok));
      }
      auto c = pipeline->counters(name);
      s.set("accepted", static_cast<unsigned long long>(c.accepted));
      s.set("rejected", static_cast<unsigned long long>(c.rejected));
      s.set("not_shared", static_cast<unsigned long long>(c.not_shared));
      s.set("stripped_members", static_cast<unsigned long long>(c.stripped));
      intake.push_back(std::move(s));
    }
    node.set("intake", std::move(intake));
    json::Value streams = json::Value::array();
    for (const auto& st : last_queue_stats.streams) {
      json::Value s = json::Value::object();
      s.set("stream", st.stream);
      s.set("pending", static_cast<unsigned long long>(st.pending));
      s.set("bytes", static_cast<unsigned long long>(st.bytes));
      s.set("stored_bytes", static_cast<unsigned long long>(st.stored_bytes));
      s.set("last_seq", static_cast<unsigned long long>(st.last_seq));
      s.set("acked_through", static_cast<unsigned long long>(st.acked_through));
      s.set("evicted", static_cast<unsigned long long>(st.evicted));
      s.set("oldest", st.oldest ? json::Value(format_rfc3339(*st.oldest)) : json::Value());
      const catalog::Resource* r = current.slice.find(st.stream);
      s.set("shared", r ? r->shared() : true);
      streams.push_back(std::move(s));
    }
    node.set("streams", std::move(streams));
    doc.set("xnoded", std::move(node));
    const std::string text = json::serialize(doc) + "\n";
    ensure_parent_dir(path);
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << text;
      if (!out) return;
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
  }

  // --- signals: stop and reload ----------------------------------------------------------------

  void on_signal(const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      (void)reload();
      signals.async_wait([this](const boost::system::error_code& e, int s) { on_signal(e, s); });
      return;
    }
    log::notice("xnoded", std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
    stop();
  }

  // Re-reads the configuration file and applies it, or keeps the running one and says why.
  Expected<void> reload(ConfigOrigin origin = ConfigOrigin::file) {
    notifier.reloading();
    log::notice("config", "reloading " + config_path);
    const std::string catalog_before = catalog_dir_fingerprint(catalog_watch.dir());
    config_watch.seen(config_watch.fingerprint());  // taken before the read: a later edit still counts
    CheckedConfiguration next;
    auto candidate = read_config_file(config_path);
    if (!candidate) {
      next.errors.push_back(candidate.error().message);
    } else {
      next = check_configuration_text(candidate->yaml, config_path);
      // A pushed file was checked against the platform rules before it was written.
      if (origin == ConfigOrigin::file)
        if (auto rules = check_push_rules(*candidate, next.version, running_config()); !rules) {
          next.errors.insert(next.errors.begin(), config_path + ": " + rules.error().message);
          next.config.reset();
        }
    }
    if (!next.ok()) {
      catalog_watch.seen(catalog_before);
      std::string first = next.errors.empty() ? "invalid" : next.errors.front();
      for (const auto& e : next.errors) log::error("config", e);
      log::error("config", "reload refused: keeping configuration version " + std::to_string(current.version));
      config_error = first;
      health.set_config(current.version, current.sha256, first);
      json::Value d = json::Value::object();
      d.set("errors", static_cast<unsigned long long>(next.errors.size()));
      d.set("first_error", first);
      d.set("origin", origin == ConfigOrigin::platform ? "platform" : "file");
      d.set("version", static_cast<long long>(next.version));
      d.set("reason", first);
      audit_event(std::string(audit::action::config_refused), config_path, "refused", std::move(d));
      notifier.ready();
      return Error(first);
    }
    const config::Config& old_cfg = *current.config;
    const config::Config& cfg = *next.config;
    std::string restart = restart_only_differences(old_cfg, cfg);
    if (!restart.empty())
      log::warning("config", "changes to " + restart + " take effect only after a restart of xnoded");
    restart_needed = restart;
    log::set_level(to_log_level(cfg.log.level));

    // Sources: stop those removed or changed, start those added or changed.
    std::set<std::string> wanted;
    for (const auto& s : cfg.sources)
      if (s.enabled) wanted.insert(s.name);
    for (auto it = sources.begin(); it != sources.end();) {
      const std::string name = it->first;
      ++it;
      const config::SourceConfig* ns = nullptr;
      for (const auto& s : cfg.sources)
        if (s.name == name) ns = &s;
      if (!ns || !ns->enabled || !same_source(*ns, sources[name].config)) stop_source(name);
    }
    pipeline->bind(next.slice, cfg.sources);
    bool catalog_changed = catalog::slice_sha256(next.slice) != catalog::slice_sha256(current.slice);
    sync.set_local(next.slice);

    try {
      client->set_options(client_options(cfg));
    } catch (const std::exception& e) {
      log::error("config", std::string("new uplink settings not usable, keeping the old ones: ") + e.what());
    }
    refresh_tls_dates(cfg);

    current = std::move(next);
    config_error.reset();
    // The files this reload read count as seen (SIGHUP after an edit: no second reload); an edit
    // made while it ran still differs and comes on the next tick. A new directory starts from now.
    if (current.config->catalog.dir != catalog_watch.dir())
      catalog_watch.reset(current.config->catalog.dir);
    else
      catalog_watch.seen(catalog_before);
    health.set_config(current.version, current.sha256, std::nullopt);
    reload_metrics(*current.config);
    for (const auto& s : current.config->sources)
      if (s.enabled && !sources.count(s.name)) start_source(s);
    if (catalog_changed) runner->catalog_changed();
    runner->config_applied(current.version, current.sha256);
    persist_applied_version();
    json::Value detail = config_detail();
    detail.set("origin", origin == ConfigOrigin::platform ? "platform" : "file");
    if (!restart_needed.empty()) detail.set("restart_needed", restart_needed);
    audit_event(std::string(audit::action::config_loaded), config_path, "ok", std::move(detail));
    log::notice("config", "configuration version " + std::to_string(current.version) + " applied");
    notifier.ready();
    return {};
  }

  void stop() {
    if (stopping) return;
    stopping = true;
    notifier.stopping();
    tick_timer.cancel();
    signals.cancel();
    if (control_server) control_server->stop();
    if (metrics) metrics->stop();
    for (auto& [name, rs] : sources)
      if (rs.driver) rs.driver->stop();
    if (runner) runner->stop();
    persist_intake_times();
    audit_event(std::string(audit::action::node_stopped), current.config->node.id, "ok", json::Value::object());
    // close_notify to the platform, bounded: the loop ends when the client is closed.
    client->close([this] { io.stop(); });
    auto guard = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(3));
    guard->async_wait([this, guard](const boost::system::error_code&) { io.stop(); });
  }

  void finish() {
    sources.clear();
    runner.reset();
    client.reset();
    control_server.reset();
    if (store) store->close();
    control_commands.reset();  // after the store: its last callbacks may still name it
    quarantine_retention.reset();
    if (audit) audit->flush(std::chrono::seconds(5));
    audit.reset();
    log::notice("xnoded", "stopped");
  }
};

Daemon::Daemon(std::string config_path) : m_impl(std::make_unique<Impl>(std::move(config_path))) {}
Daemon::~Daemon() = default;

int Daemon::run() {
  int rc = m_impl->start();
  if (rc != 0) {
    m_impl->finish();
    return rc;
  }
  m_impl->io.run();
  m_impl->finish();
  return 0;
}

}  // namespace xnode::app
