// The only translation unit of the client that includes Beast's HTTP code (each costs ~20 s).
#include "io/https/https_client.hpp"

#include <deque>
#include <optional>
#include <stdexcept>
#include <variant>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "io/https/liveness.hpp"
#include "io/tls/tls_stream.hpp"

namespace xnode::https {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using net::ip::tcp;

namespace {

inline auto awaitable_ec(error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

struct Parsed {
  std::vector<Url> endpoints;
  std::optional<Url> proxy;
};

Parsed parse_options(const ClientOptions& o) {
  Parsed p;
  for (const auto& text : o.endpoints) {
    auto u = parse_url(text);
    if (!u) throw std::invalid_argument("platform endpoint: " + u.error().message);
    if (u->scheme == "https" && !o.tls) {
      throw std::invalid_argument("platform endpoint " + text + " is https but no TLS configuration is given");
    }
    p.endpoints.push_back(*u);
  }
  if (!o.proxy.empty()) {
    auto u = parse_url(o.proxy);
    if (!u) throw std::invalid_argument("proxy: " + u.error().message);
    if (u->scheme != "http") throw std::invalid_argument("proxy " + o.proxy + ": only http:// CONNECT proxies are supported");
    p.proxy = *u;
  }
  return p;
}

std::string describe(const error_code& ec) {
  std::string m = ec.message();
  return m.empty() ? std::string(ec.category().name()) + ":" + std::to_string(ec.value()) : m;
}

}  // namespace

class ClientCore : public std::enable_shared_from_this<ClientCore> {
 public:
  ClientCore(net::any_io_executor ex, ClientOptions options)
      : m_ex(std::move(ex)), m_options(std::move(options)), m_parsed(parse_options(m_options)) {}

  void request(Request r, RequestHandler h) {
    m_queue.push_back(Item{std::move(r), std::move(h), {}, false});
    start();
  }
  void close(std::function<void()> done) {
    m_queue.push_back(Item{{}, {}, std::move(done), true});
    start();
  }
  void set_options(ClientOptions o) {
    Parsed p = parse_options(o);
    m_options = std::move(o);
    m_parsed = std::move(p);
    m_preferred = 0;
  }
  void on_connection_lost(std::function<void(ErrorClass, std::string)> h) { m_on_lost = std::move(h); }
  ClientStats stats() const {
    ClientStats s = m_stats;
    s.connection_open = !std::holds_alternative<std::monostate>(m_conn);
    return s;
  }
  // The owner is gone: complete nothing more, drop the connection.
  void abandon() {
    m_abandoned = true;
    m_queue.clear();
    drop_connection();
  }

 private:
  struct Item {
    Request request;
    RequestHandler handler;
    std::function<void()> on_closed;
    bool is_close;
  };
  using Connection = std::variant<std::monostate, tls::TlsStream, beast::tcp_stream>;

  void start() {
    if (m_running) return;
    stop_watch();
    m_running = true;
    net::co_spawn(m_ex, [self = shared_from_this()]() -> net::awaitable<void> { co_await self->run(); }, net::detached);
  }

  net::awaitable<void> run() {
    while (!m_queue.empty() && !m_abandoned) {
      Item item = std::move(m_queue.front());
      m_queue.pop_front();
      if (item.is_close) {
        co_await graceful_close();
        if (!m_abandoned && item.on_closed) item.on_closed();
        continue;
      }
      Response response;
      error_code ec = co_await perform(item.request, response);
      if (ec) {
        m_stats.last_error_class = response.error_class;
        m_stats.last_error = response.error_detail;
      }
      if (!m_abandoned) item.handler(ec, std::move(response));
    }
    m_running = false;
    watch_idle();
  }

  // Idle with a connection open and liveness on: wait for its socket to turn readable. Nothing is
  // due on an idle HTTP/1.1 connection, so that is the platform closing it (dropped quietly: the
  // next request opens a new one) or an error: keep-alive gave up on a silent peer, or a reset
  // (reported through on_connection_lost).
  void watch_idle() {
    if (m_options.liveness_interval.count() <= 0 || m_running || m_abandoned ||
        std::holds_alternative<std::monostate>(m_conn))
      return;
    const std::uint64_t gen = ++m_watch_gen;
    lowest().socket().async_wait(tcp::socket::wait_read, [weak = weak_from_this(), gen](error_code ec) {
      auto self = weak.lock();
      if (self && !ec) self->idle_readable(gen);
    });
  }
  void stop_watch() {
    ++m_watch_gen;
    if (std::holds_alternative<std::monostate>(m_conn)) return;
    error_code ignored;
    lowest().socket().cancel(ignored);
  }
  void idle_readable(std::uint64_t gen) {
    if (gen != m_watch_gen || m_running || m_abandoned || std::holds_alternative<std::monostate>(m_conn)) return;
    const error_code err = pending_socket_error(lowest().socket());
    drop_connection();
    if (!err) return;
    m_stats.last_error_class = ErrorClass::connect;
    m_stats.last_error = "idle connection to " + m_stats.endpoint + " lost: " + describe(err);
    if (m_on_lost) m_on_lost(ErrorClass::connect, m_stats.last_error);
  }

  beast::tcp_stream& lowest() {
    if (auto* t = std::get_if<tls::TlsStream>(&m_conn)) return t->next_layer();
    return std::get<beast::tcp_stream>(m_conn);
  }

  void drop_connection() {
    if (!std::holds_alternative<std::monostate>(m_conn)) {
      error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      lowest().close();
    }
    m_conn.emplace<std::monostate>();
  }

  net::awaitable<void> graceful_close() {
    if (auto* t = std::get_if<tls::TlsStream>(&m_conn)) {
      error_code ec;
      co_await t->async_shutdown(awaitable_ec(ec));  // bounded by TlsSettings::shutdown_timeout
    }
    drop_connection();
  }

  net::awaitable<error_code> perform(const Request& request, Response& response) {
    if (m_parsed.endpoints.empty()) {
      response.error_class = ErrorClass::connect;
      response.error_detail = "no platform endpoint configured";
      co_return make_error_code(HttpsErrc::no_endpoints);
    }
    // The body is referred to, not copied (a batch is up to max_batch_bytes); only gzip makes one.
    const std::string compressed = request.gzip ? gzip_compress(request.body_text()) : std::string();
    const std::string_view body = request.gzip ? std::string_view(compressed) : request.body_text();
    for (int attempt = 0;; ++attempt) {
      if (m_abandoned) co_return make_error_code(HttpsErrc::client_closed);
      bool reused = !std::holds_alternative<std::monostate>(m_conn);
      if (!reused) {
        error_code ec = co_await connect(response);
        if (ec) co_return ec;
      }
      bool answer_started = false;
      error_code ec;
      if (auto* t = std::get_if<tls::TlsStream>(&m_conn)) {
        ec = co_await exchange(*t, request, body, response, answer_started);
      } else {
        ec = co_await exchange(std::get<beast::tcp_stream>(m_conn), request, body, response, answer_started);
      }
      response.endpoint = m_stats.endpoint;
      if (!ec) co_return ec;
      drop_connection();
      // A kept-alive connection the platform closed in the meantime fails before any answer byte:
      // every XEP/1 request is safe to resend, once, on a fresh connection. A timeout is not that
      // case (the platform may be busy with it) and is reported instead.
      if (reused && attempt == 0 && !answer_started && ec != beast::error::timeout) {
        ++m_stats.retries;
        continue;
      }
      response.error_class = ec == beast::error::timeout ? ErrorClass::timeout : classify(ec);
      response.error_detail = (answer_started ? "reading the answer from " : "sending the request to ") +
                              m_stats.endpoint + ": " + describe(ec);
      co_return ec;
    }
  }

  // Tries the endpoints in order, starting with the one that worked last.
  net::awaitable<error_code> connect(Response& response) {
    const std::size_t n = m_parsed.endpoints.size();
    error_code last;
    for (std::size_t i = 0; i < n && !m_abandoned; ++i) {
      std::size_t index = (m_preferred + i) % n;
      const Url& endpoint = m_parsed.endpoints[index];
      error_code ec = co_await connect_one(endpoint, response);
      if (!ec) {
        if (index != m_preferred) ++m_stats.failovers;
        m_preferred = index;
        m_stats.endpoint = endpoint.text();
        if (m_stats.connections_opened++ > 0) ++m_stats.reconnects;
        co_return ec;
      }
      last = ec;
      m_stats.last_error_class = response.error_class;
      m_stats.last_error = response.error_detail;
    }
    co_return m_abandoned ? make_error_code(HttpsErrc::client_closed) : last;
  }

  net::awaitable<error_code> connect_one(const Url& endpoint, Response& response) {
    response.endpoint = endpoint.text();
    auto failed = [&](ErrorClass c, const std::string& what, const error_code& ec) {
      response.error_class = ec == beast::error::timeout ? ErrorClass::timeout : c;
      response.error_detail = what + ": " + describe(ec);
      return ec;
    };
    const Url& hop = m_parsed.proxy ? *m_parsed.proxy : endpoint;
    const std::string hop_text = m_parsed.proxy ? "proxy " + hop.text() : endpoint.text();
    error_code ec;
    tcp::resolver resolver(m_ex);
    // getaddrinfo has no timeout of its own: the connect timeout covers resolving too.
    net::steady_timer resolve_deadline(m_ex, m_options.connect_timeout);
    bool resolve_timed_out = false;
    resolve_deadline.async_wait([&resolver, &resolve_timed_out](error_code wait_ec) {
      if (wait_ec) return;
      resolve_timed_out = true;
      resolver.cancel();
    });
    auto results = co_await resolver.async_resolve(hop.host, std::to_string(hop.port), awaitable_ec(ec));
    resolve_deadline.cancel();
    if (resolve_timed_out) ec = beast::error::timeout;
    if (ec) co_return failed(ErrorClass::dns, "resolving " + hop_text, ec);

    beast::tcp_stream tcp_stream(m_ex);
    tcp_stream.expires_after(m_options.connect_timeout);
    co_await tcp_stream.async_connect(results, awaitable_ec(ec));
    if (ec) co_return failed(ErrorClass::connect, "connect to " + hop_text, ec);
    tcp_stream.socket().set_option(tcp::no_delay(true), ec);
    if (m_options.liveness_interval.count() > 0) {
      // Without keep-alive the connection still works; only a silent cut waits for the next request.
      error_code ka;
      enable_keepalive(tcp_stream.socket(), keepalive_times(m_options.liveness_interval), ka);
    }

    if (m_parsed.proxy) {
      ec = co_await open_tunnel(tcp_stream, endpoint, response);
      if (ec) co_return ec;
    }

    if (endpoint.scheme == "https") {
      tls::TlsStream stream(std::move(tcp_stream), m_options.tls);
      stream.next_layer().expires_after(m_options.handshake_timeout);
      co_await stream.async_handshake(awaitable_ec(ec));
      if (ec) {
        std::string detail = stream.verify_failure();
        response.error_class = ec == beast::error::timeout ? ErrorClass::timeout : ErrorClass::tls;
        response.error_detail = "TLS handshake with " + endpoint.text() + ": " + describe(ec) +
                                (detail.empty() ? "" : " (" + detail + ")");
        co_return ec;
      }
      m_stats.last_handshake = stream.handshake_duration();
      m_stats.last_session_resumed = stream.session_resumed();
      m_conn.emplace<tls::TlsStream>(std::move(stream));
    } else {
      m_conn.emplace<beast::tcp_stream>(std::move(tcp_stream));
    }
    m_conn_endpoint = endpoint;
    co_return error_code{};
  }

  net::awaitable<error_code> open_tunnel(beast::tcp_stream& s, const Url& endpoint, Response& response) {
    error_code ec;
    http::request<http::empty_body> req{http::verb::connect, endpoint.host_port(), 11};
    req.set(http::field::host, endpoint.host_port());
    req.set(http::field::user_agent, m_options.user_agent);
    s.expires_after(m_options.connect_timeout);
    co_await http::async_write(s, req, awaitable_ec(ec));
    if (!ec) {
      beast::flat_buffer buffer;
      http::response_parser<http::empty_body> parser;
      parser.skip(true);  // a 2xx answer to CONNECT has no body: the tunnel starts after the header
      co_await http::async_read_header(s, buffer, parser, awaitable_ec(ec));
      if (!ec && parser.get().result_int() / 100 != 2) {
        response.error_class = ErrorClass::connect;
        response.error_detail = "proxy " + m_parsed.proxy->text() + " refused CONNECT " + endpoint.host_port() +
                                ": " + std::to_string(parser.get().result_int()) + " " +
                                std::string(parser.get().reason());
        co_return make_error_code(HttpsErrc::proxy_refused);
      }
      if (!ec && buffer.size() != 0) {
        // Bytes after the header would be the server speaking first, which TLS servers never do.
        response.error_class = ErrorClass::connect;
        response.error_detail = "proxy " + m_parsed.proxy->text() + " sent data before the TLS handshake";
        co_return make_error_code(HttpsErrc::proxy_refused);
      }
    }
    if (ec) {
      response.error_class = ec == beast::error::timeout ? ErrorClass::timeout : ErrorClass::connect;
      response.error_detail = "CONNECT " + endpoint.host_port() + " through proxy " + m_parsed.proxy->text() + ": " + describe(ec);
    }
    co_return ec;
  }

  template <class Stream>
  net::awaitable<error_code> exchange(Stream& stream, const Request& request, std::string_view body,
                                      Response& response, bool& answer_started) {
    const Url& endpoint = m_conn_endpoint;
    // span_body: serialised straight from the caller's buffer, which outlives the write.
    http::request<http::span_body<const char>> req;
    req.version(11);
    req.method_string(request.method);
    req.target(endpoint.base_path + request.target);
    req.set(http::field::host, endpoint.host_port());
    req.set(http::field::user_agent, m_options.user_agent);
    for (const auto& [name, value] : request.headers) req.set(name, value);
    if (request.gzip) req.set(http::field::content_encoding, "gzip");
    req.body() = boost::beast::span<const char>(body.data(), body.size());
    req.keep_alive(true);
    req.prepare_payload();

    error_code ec;
    beast::get_lowest_layer(stream).expires_after(m_options.write_timeout);
    co_await http::async_write(stream, req, awaitable_ec(ec));
    if (ec) co_return ec;

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(m_options.body_limit);
    parser.header_limit(64 * 1024);
    beast::get_lowest_layer(stream).expires_after(m_options.read_timeout);
    // Header first: Beast 1.74 checks the Content-Length against body_limit only when the header
    // is parsed on its own (in eager mode a body arriving with the header slips past the limit).
    co_await http::async_read_header(stream, buffer, parser, awaitable_ec(ec));
    if (!ec) co_await http::async_read(stream, buffer, parser, awaitable_ec(ec));
    if (!ec && parser.get().body().size() > m_options.body_limit) ec = http::error::body_limit;
    beast::get_lowest_layer(stream).expires_never();
    answer_started = parser.got_some() || buffer.size() != 0;
    if (ec) {
      if (ec == http::error::body_limit) {
        response.error_class = ErrorClass::http;
      }
      co_return ec;
    }
    auto& res = parser.get();
    response.status = res.result_int();
    for (const auto& field : res) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(res.body());
    if (!res.keep_alive()) co_await graceful_close();
    co_return ec;
  }

  net::any_io_executor m_ex;
  ClientOptions m_options;
  Parsed m_parsed;
  std::size_t m_preferred = 0;
  Connection m_conn;
  Url m_conn_endpoint;  // where m_conn leads (the endpoint list may change meanwhile)
  std::deque<Item> m_queue;
  bool m_running = false;
  bool m_abandoned = false;
  ClientStats m_stats;
  std::function<void(ErrorClass, std::string)> m_on_lost;  // see HttpsClient::on_connection_lost
  std::uint64_t m_watch_gen = 0;                           // a stale idle watch finds it changed
};

HttpsClient::HttpsClient(net::any_io_executor executor, ClientOptions options)
    : m_core(std::make_shared<ClientCore>(std::move(executor), std::move(options))) {}

HttpsClient::~HttpsClient() { m_core->abandon(); }

void HttpsClient::async_request(Request request, RequestHandler handler) {
  m_core->request(std::move(request), std::move(handler));
}

void HttpsClient::close(std::function<void()> done) { m_core->close(std::move(done)); }

ClientStats HttpsClient::stats() const { return m_core->stats(); }

void HttpsClient::on_connection_lost(std::function<void(ErrorClass, std::string)> handler) {
  m_core->on_connection_lost(std::move(handler));
}

void HttpsClient::set_options(ClientOptions options) { m_core->set_options(std::move(options)); }

}  // namespace xnode::https
