#include "drivers/http/http_driver.hpp"

#include <algorithm>
#include <charconv>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/base/log.hpp"
#include "drivers/http/gzip_body.hpp"
#include "drivers/http/push_body.hpp"
#include "io/tls/tls_config.hpp"

namespace xnode::drivers::http {

namespace net = boost::asio;

namespace {

constexpr std::string_view kKeyPrefix = "idem:";
constexpr auto kExpiryInterval = std::chrono::seconds(30);
constexpr auto kStopWait = std::chrono::seconds(30);

Answer json_answer(int status, const std::string& body, std::string_view extra = {}, bool keep_alive = true) {
  return {make_response(status, body, keep_alive, extra), keep_alive};
}

std::string lower_ascii(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

}  // namespace

// What sink callbacks need after the driver may have stopped: the io_context they post to, and
// the count of submits not yet answered (stop() waits for it to reach zero).
struct HttpDriver::Shared {
  net::io_context io{1};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::optional<net::steady_timer> timer;
  std::mutex mutex;
  std::condition_variable cv;
  std::size_t in_flight = 0;
};

HttpDriver::HttpDriver(std::string source, HttpSettings settings, DriverContext& context)
    : m_source(std::move(source)),
      m_settings(std::move(settings)),
      m_sink(context.sink),
      m_clock(context.clock),
      m_shared(std::make_shared<Shared>()) {
  m_status.name = m_source;
  m_status.driver = "http";
  m_status.state = "starting";
}

HttpDriver::~HttpDriver() { stop(); }

void HttpDriver::start() {
  if (m_started) return;
  m_started = true;
  m_shared->work.emplace(m_shared->io.get_executor());
  m_thread = std::thread([this] { run(); });
}

void HttpDriver::stop() {
  if (!m_started || m_stop.exchange(true)) return;
  net::post(m_shared->io, [this] {
    if (m_listener) m_listener->close();
    if (m_shared->timer) m_shared->timer->cancel();
  });
  {
    // Records being committed: their answers may be lost with the connections, never the records.
    std::unique_lock lock(m_shared->mutex);
    m_shared->cv.wait_for(lock, kStopWait, [&] { return m_shared->in_flight == 0; });
  }
  m_shared->work.reset();
  m_shared->io.stop();
  if (m_thread.joinable()) m_thread.join();
  m_listener.reset();
  set_state("stopped");
}

SourceStatus HttpDriver::status() const {
  std::lock_guard lock(m_status_mutex);
  return m_status;
}

void HttpDriver::set_state(const std::string& state, const std::string& error) {
  std::lock_guard lock(m_status_mutex);
  m_status.state = state;
  if (!error.empty()) m_status.last_error = error;
}

void HttpDriver::run() {
  auto marks = wait_for_marks(m_sink, m_source, m_stop);
  if (!marks) return;
  auto token = read_token_file(m_settings.token_file);
  if (!token) {
    log::warning("http", m_source + ": " + token.error().message);
    return set_state("error", token.error().message);
  }
  m_token = std::move(token).value();
  std::shared_ptr<tls::TlsConfig> tls_config;
  if (m_settings.tls()) {
    tls::TlsSettings s;
    s.role = tls::Role::server;
    s.cert_file = m_settings.tls_cert;
    s.key_file = m_settings.tls_key;
    s.ca_file = m_settings.tls_client_ca;
    auto config = tls::TlsConfig::create(s);
    if (!config) {
      log::warning("http", m_source + ": " + config.error().message);
      return set_state("error", config.error().message);
    }
    tls_config = *config;
  }
  load_keys(*marks);
  ListenerOptions options;
  options.address = m_settings.listen;
  options.limits = {m_settings.max_header_bytes, m_settings.max_request_bytes};
  options.max_connections = m_settings.max_connections;
  options.idle_timeout = m_settings.idle_timeout;
  options.tls = std::move(tls_config);
  m_listener = std::make_unique<HttpListener>(m_shared->io, std::move(options), *this);
  m_shared->timer.emplace(m_shared->io);
  if (!open_listener()) {
    // The address may be taken for a moment (a previous instance closing): try again every 2 s.
    std::function<void()> retry = [this, &retry] {
      m_shared->timer->expires_after(std::chrono::seconds(2));
      m_shared->timer->async_wait([this, &retry](boost::system::error_code ec) {
        if (ec || m_stop) return;
        if (open_listener()) return schedule_expiry();
        retry();
      });
    };
    retry();
    if (!m_stop) m_shared->io.run();
    return;
  }
  expire_keys();
  schedule_expiry();
  if (!m_stop) m_shared->io.run();
}

bool HttpDriver::open_listener() {
  auto started = m_listener->start();
  if (!started) {
    log::warning("http", m_source + ": " + started.error().message);
    set_state("error", started.error().message);
    return false;
  }
  log::info("http", m_source + ": listening on " + m_settings.listen.host + ":" + std::to_string(m_settings.listen.port) +
                        (m_settings.tls() ? " (TLS)" : ""));
  std::lock_guard lock(m_status_mutex);
  m_status.state = "idle";
  m_status.last_error.clear();
  return true;
}

void HttpDriver::schedule_expiry() {
  m_shared->timer->expires_after(kExpiryInterval);
  m_shared->timer->async_wait([this](boost::system::error_code ec) {
    if (ec || m_stop) return;
    expire_keys();
    schedule_expiry();
  });
}

void HttpDriver::load_keys(const std::vector<io::SourceMark>& marks) {
  std::vector<std::pair<std::string, Remembered>> loaded;
  for (const auto& m : marks) {
    if (m.key.compare(0, kKeyPrefix.size(), kKeyPrefix) != 0) continue;
    // "<unix ms> <accepted>"; anything else is forgotten (cleared by the first expiry).
    std::int64_t ms = 0;
    std::uint64_t accepted = 0;
    const char* p = m.value.data();
    const char* end = p + m.value.size();
    auto r1 = std::from_chars(p, end, ms);
    bool ok = r1.ec == std::errc() && r1.ptr < end && *r1.ptr == ' ';
    if (ok) {
      auto r2 = std::from_chars(r1.ptr + 1, end, accepted);
      ok = r2.ec == std::errc() && r2.ptr == end;
    }
    Remembered entry;
    entry.at = ok ? from_unix_ms(ms) : TimePoint{};
    entry.committed = true;
    entry.accepted = accepted;
    entry.queued = kUnknown;
    loaded.emplace_back(m.key.substr(kKeyPrefix.size()), entry);
  }
  std::sort(loaded.begin(), loaded.end(), [](const auto& a, const auto& b) { return a.second.at < b.second.at; });
  for (auto& [key, entry] : loaded) {
    m_key_order.emplace_back(key, entry.at);
    m_keys.emplace(key, entry);
  }
  if (!loaded.empty()) log::info("http", m_source + ": " + std::to_string(loaded.size()) + " idempotency key(s) remembered");
}

void HttpDriver::expire_keys() {
  const TimePoint now = m_clock();
  SourceBatch clear;
  clear.source = m_source;
  while (!m_key_order.empty() &&
         (now - m_key_order.front().second > m_settings.idempotency_window || m_key_order.size() > m_settings.idempotency_max_keys)) {
    auto& [key, at] = m_key_order.front();
    auto it = m_keys.find(key);
    if (it != m_keys.end() && it->second.committed && it->second.at == at) m_keys.erase(it);
    clear.marks.push_back({m_source, std::string(kKeyPrefix) + key, ""});
    m_key_order.pop_front();
  }
  if (clear.marks.empty()) return;
  // Not retried: a mark left behind is cleared at the next start (expired by then).
  submit_tracked(std::move(clear), [](const io::SubmitResult&) {});
}

void HttpDriver::submit_tracked(SourceBatch batch, std::function<void(io::SubmitResult)> on_listener_thread) {
  {
    std::lock_guard lock(m_shared->mutex);
    ++m_shared->in_flight;
  }
  m_sink.submit(std::move(batch), [shared = m_shared, done = std::move(on_listener_thread)](io::SubmitResult r) mutable {
    net::post(shared->io, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
    std::lock_guard lock(shared->mutex);
    --shared->in_flight;
    shared->cv.notify_all();
  });
}

std::optional<Answer> HttpDriver::check_header(const HttpRequest& request) {
  const std::string name = records_route(request.target);
  if (name.empty()) return json_answer(404, error_json("no such endpoint: POST /v1/sources/{name}/records"));
  if (name != m_source) return json_answer(404, error_json("unknown source: this listener serves source " + m_source));
  if (request.method != "POST") return json_answer(405, error_json("method not allowed: use POST"), "Allow: POST\r\n");
  const std::string* authorization = request.header("authorization");
  if (!authorization || !bearer_matches(*authorization, m_token))
    return json_answer(401, error_json("missing or wrong bearer token"), "WWW-Authenticate: Bearer\r\n");
  return std::nullopt;
}

void HttpDriver::handle(HttpRequest& request, std::function<void(Answer)> reply) {
  if (auto refusal = check_header(request)) return reply(std::move(*refusal));
  const std::uint64_t request_no = ++m_request_no;

  std::string decoded;
  std::string_view body = request.body;
  if (const std::string* encoding = request.header("content-encoding")) {
    const std::string e = lower_ascii(*encoding);
    if (e == "gzip" || e == "x-gzip") {
      GunzipResult g = gunzip_bounded(request.body, m_settings.max_request_bytes, decoded);
      if (g.status == GunzipStatus::too_large)
        return reply(json_answer(413, error_json("decoded body larger than " + std::to_string(m_settings.max_request_bytes) + " bytes")));
      if (g.status == GunzipStatus::corrupt) return reply(json_answer(400, error_json(g.error)));
      body = decoded;
    } else if (e != "identity") {
      return reply(json_answer(415, error_json("Content-Encoding must be gzip or identity")));
    }
  }

  std::string key;
  if (const std::string* k = request.header("idempotency-key")) {
    if (std::string problem = idempotency_key_problem(*k); !problem.empty()) return reply(json_answer(400, error_json(problem)));
    key = *k;
    auto it = m_keys.find(key);
    if (it != m_keys.end()) {
      if (!it->second.committed)
        return reply(json_answer(409, error_json("a request with this Idempotency-Key is being stored; ask again"),
                                 "Retry-After: 1\r\n"));
      std::string first = it->second.queued == kUnknown ? "{\"accepted\":" + std::to_string(it->second.accepted) + "}"
                                                         : accepted_json(it->second.accepted, it->second.queued);
      first.insert(first.size() - 1, ",\"replayed\":true");
      return reply(json_answer(200, first, "Idempotency-Replayed: true\r\n"));
    }
  }

  PushBody decoded_body = decode_push_body(body, m_settings.max_line_bytes);
  if (!decoded_body.errors.empty())
    return reply(json_answer(400, line_errors_json(decoded_body.errors, decoded_body.records.size())));
  if (decoded_body.records.empty()) return reply(json_answer(400, error_json("the body holds no records")));

  SourceBatch batch;
  batch.source = m_source;
  batch.records.reserve(decoded_body.records.size());
  const std::string origin = "http:" + (key.empty() ? "request-" + std::to_string(request_no) : key) + ":";
  for (auto& r : decoded_body.records)
    batch.records.push_back({origin + std::to_string(r.line), std::move(r.raw), std::move(r.data), r.is_delete});
  const std::uint64_t accepted = batch.records.size();
  const TimePoint now = m_clock();
  if (!key.empty()) {
    batch.marks.push_back({m_source, std::string(kKeyPrefix) + key, std::to_string(to_unix_ms(now)) + " " + std::to_string(accepted)});
    Remembered pending;
    pending.at = now;
    m_keys[key] = pending;
  }

  submit_tracked(std::move(batch), [this, key, accepted, now, reply = std::move(reply)](io::SubmitResult r) {
    if (r.status == io::SubmitStatus::ok) {
      const std::uint64_t queued = r.first_seq.size();
      if (!key.empty()) {
        Remembered& entry = m_keys[key];
        entry.committed = true;
        entry.accepted = accepted;
        entry.queued = queued;
        m_key_order.emplace_back(key, now);
      }
      {
        std::lock_guard lock(m_status_mutex);
        m_status.state = "ok";
        m_status.records += queued;
        m_status.quarantined += accepted - std::min(accepted, queued);
        m_status.files += 1;
        m_status.last_ok = m_clock();
      }
      return reply(json_answer(200, accepted_json(accepted, queued)));
    }
    if (!key.empty()) m_keys.erase(key);  // nothing of it was stored: the key may come again
    if (r.status == io::SubmitStatus::queue_full) {
      set_state("blocked");
      return reply(json_answer(503, error_json("queue full: nothing of this request was stored; send it again later"),
                               "Retry-After: 2\r\n"));
    }
    log::warning("http", m_source + ": records not stored: " + r.error);
    set_state("error", r.error);
    return reply(json_answer(500, error_json("the node could not store the records; send them again later")));
  });
}

Expected<std::unique_ptr<Driver>> make_driver(const config::SourceConfig& source, DriverContext& context) {
  auto settings = settings_from(source.settings);
  if (!settings) return make_error("source " + source.name + ": " + settings.error().message);
  return std::unique_ptr<Driver>(std::make_unique<HttpDriver>(source.name, std::move(settings).value(), context));
}

}  // namespace xnode::drivers::http
