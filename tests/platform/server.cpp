#include "tests/platform/server.hpp"

#include <charconv>
#include <functional>
#include <map>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/base/log.hpp"

#ifdef XNODE_PLATFORM_TLS
#include "io/tls/tls_config.hpp"
#include "io/tls/tls_stream.hpp"
#endif

namespace xnode::platform {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

Expected<Endpoint> parse_endpoint(const std::string& text) {
  std::string host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return Error("address '" + text + "': expected [IPv6]:PORT");
    host = text.substr(1, close - 1);
    port_text = std::string_view(text).substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) return Error("address '" + text + "': expected HOST:PORT");
    host = text.substr(0, colon);
    port_text = std::string_view(text).substr(colon + 1);
  }
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535)
    return Error("address '" + text + "': the port is not a number 0-65535");
  error_code addr_ec;
  net::ip::make_address(host, addr_ec);
  if (addr_ec) return Error("address '" + text + "': '" + host + "' is not a numeric IP address");
  return Endpoint{host, static_cast<unsigned short>(port)};
}

namespace {

using Handler = std::function<Outcome(Request&)>;

// The open connections, so that stop() can close them; shared with the sessions so that a session
// outliving the server stays valid.
struct Registry {
  std::uint64_t next_id = 0;
  std::map<std::uint64_t, std::function<void()>> closers;
};

struct SessionSettings {
  std::chrono::seconds idle_timeout;
  std::chrono::seconds handshake_timeout;
  std::size_t body_limit;
  bool identity_from_header;  // plain_for_tests
};

log::RateLimit g_conn_log(10, std::chrono::seconds(10));

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, Handler handler, SessionSettings settings, std::shared_ptr<Registry> registry,
          std::string remote)
      : m_stream(std::move(stream)),
        m_timer(m_stream.get_executor()),
        m_handler(std::move(handler)),
        m_settings(settings),
        m_registry(std::move(registry)),
        m_remote(std::move(remote)) {}

  ~Session() { m_registry->closers.erase(m_id); }

  void start() {
    m_id = m_registry->next_id++;
    std::weak_ptr<Session> weak = this->shared_from_this();
    m_registry->closers[m_id] = [weak] {
      if (auto self = weak.lock()) self->close();
    };
    if constexpr (kTls) {
      beast::get_lowest_layer(m_stream).expires_after(m_settings.handshake_timeout);
      m_stream.async_handshake([self = this->shared_from_this()](error_code ec) { self->on_handshake(ec); });
    } else {
      read();
    }
  }

  void close() {
    error_code ignored;
    m_timer.cancel();
    beast::get_lowest_layer(m_stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(m_stream).close();
  }

 private:
#ifdef XNODE_PLATFORM_TLS
  static constexpr bool kTls = std::is_same_v<Stream, tls::TlsStream>;
#else
  static constexpr bool kTls = false;
#endif

  void on_handshake(error_code ec) {
    if constexpr (kTls) {
      if (ec) {
        std::string why = ec.message();
        if (!m_stream.verify_failure().empty()) why += " (" + m_stream.verify_failure() + ")";
        g_conn_log.write(log::Level::warning, "tls", "handshake with " + m_remote + " refused: " + why);
        return close();
      }
      m_cn = m_stream.peer().common_name;
      m_ou = m_stream.peer().organizational_unit;
      log::debug("tls", "node " + m_cn + " connected from " + m_remote + " (" + m_stream.protocol_version() + ", " +
                            m_stream.ciphersuite() + ")");
    }
    read();
  }

  void read() {
    m_parser.emplace();
    m_parser->body_limit(m_settings.body_limit);
    m_parser->header_limit(64 * 1024);
    beast::get_lowest_layer(m_stream).expires_after(m_settings.idle_timeout);
    http::async_read(m_stream, m_buffer, *m_parser,
                     [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset)
      return finish_connection();
    if (ec == http::error::partial_message) {
      // The peer went away mid-request (a node killed or its link cut): nothing to answer.
      log::info("http", "connection from " + m_remote + " closed in the middle of a request");
      return close();
    }
    if (ec == http::error::body_limit) {
      Response r = error_response(413, "too_large", "the request body is above the platform's limit");
      return write(std::move(r), false);
    }
    if (ec) {
      // Not HTTP/1.1 we can read: answer 400 once and close (the stream position is lost).
      g_conn_log.write(log::Level::warning, "http", "bad request from " + m_remote + ": " + ec.message());
      return write(error_response(400, "malformed", "unreadable HTTP request: " + ec.message()), false);
    }
    auto& message = m_parser->get();
    Request request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    request.body = std::move(message.body());
    if (m_settings.identity_from_header) {
      if (const std::string* node = request.header("X-XN-Node")) request.peer_cn = *node;
    } else {
      request.peer_cn = m_cn;
      request.peer_ou = m_ou;
    }
    const bool keep_alive = message.keep_alive();
    Outcome outcome = m_handler(request);
    if (outcome.drop) {
      log::info("faults", "dropping the connection from " + m_remote + " after " + request.method + " " + request.target);
      return close();
    }
    if (outcome.delay.count() > 0) {
      m_timer.expires_after(outcome.delay);
      m_timer.async_wait([self = this->shared_from_this(), r = std::move(outcome.response), keep_alive](error_code wec) mutable {
        if (wec) return self->close();
        self->write(std::move(r), keep_alive);
      });
      return;
    }
    write(std::move(outcome.response), keep_alive);
  }

  void write(Response r, bool keep_alive) {
    m_response = {};
    m_response.result(static_cast<unsigned>(r.status));
    m_response.version(11);
    m_response.set(http::field::server, "xnode-refplatform");
    for (auto& [name, value] : r.headers) m_response.set(name, value);
    m_response.body() = std::move(r.body);
    m_response.keep_alive(keep_alive);
    // A 304 carries no body and no Content-Length (it would describe the representation).
    if (r.status != 304 && r.status != 204) m_response.prepare_payload();
    beast::get_lowest_layer(m_stream).expires_after(std::chrono::seconds(30));
    http::async_write(m_stream, m_response, [self = this->shared_from_this(), keep_alive](error_code ec, std::size_t) {
      if (ec) return self->close();
      if (!keep_alive) return self->finish_connection();
      self->read();
    });
  }

  // An orderly end: close_notify for TLS (bounded by the stream), then the socket.
  void finish_connection() {
    if constexpr (kTls) {
      m_stream.async_shutdown([self = this->shared_from_this()](error_code) { self->close(); });
    } else {
      close();
    }
  }

  Stream m_stream;
  net::steady_timer m_timer;
  Handler m_handler;
  SessionSettings m_settings;
  std::shared_ptr<Registry> m_registry;
  std::string m_remote;
  std::uint64_t m_id = 0;
  std::string m_cn, m_ou;
  beast::flat_buffer m_buffer;
  std::optional<http::request_parser<http::string_body>> m_parser;
  http::response<http::string_body> m_response;
};

std::string remote_of(const tcp::socket& socket) {
  error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

struct Server::Impl {
  net::io_context& io;
  PlatformService& service;
  Faults& faults;
  AdminService admin;
  ServerOptions options;
  std::shared_ptr<Registry> registry = std::make_shared<Registry>();
  std::optional<tcp::acceptor> xep_acceptor, admin_acceptor;
#ifdef XNODE_PLATFORM_TLS
  std::shared_ptr<tls::TlsConfig> tls_config;
#endif

  Impl(net::io_context& i, PlatformService& s, Faults& f, ServerOptions o)
      : io(i), service(s), faults(f), admin(s, f), options(std::move(o)) {}

  Expected<tcp::acceptor> bind(const Endpoint& where) {
    error_code ec;
    tcp::endpoint ep(net::ip::make_address(where.host), where.port);
    tcp::acceptor acceptor(io);
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return Error("cannot listen on " + where.host + ":" + std::to_string(where.port) + ": " + ec.message());
    return acceptor;
  }

  SessionSettings settings() const {
    return SessionSettings{options.idle_timeout, options.handshake_timeout, options.body_limit, options.plain_for_tests};
  }

  Handler xep_handler() {
    return [this](Request& request) { return serve_xep(service, faults, request, Clock::now()); };
  }
  Handler admin_handler() {
    return [this](Request& request) {
      Outcome o;
      o.response = admin.handle(request, Clock::now());
      return o;
    };
  }

  void accept_xep() {
    xep_acceptor->async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !xep_acceptor->is_open()) return;
      if (!ec) {
        std::string remote = remote_of(socket);
        socket.set_option(tcp::no_delay(true), ec);
        beast::tcp_stream next(std::move(socket));
#ifdef XNODE_PLATFORM_TLS
        if (!options.plain_for_tests) {
          std::make_shared<Session<tls::TlsStream>>(tls::TlsStream(std::move(next), tls_config), xep_handler(),
                                                    settings(), registry, remote)
              ->start();
        } else
#endif
        {
          std::make_shared<Session<beast::tcp_stream>>(std::move(next), xep_handler(), settings(), registry, remote)
              ->start();
        }
      } else {
        g_conn_log.write(log::Level::warning, "http", "accept failed: " + ec.message());
      }
      accept_xep();
    });
  }

  void accept_admin() {
    admin_acceptor->async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !admin_acceptor->is_open()) return;
      if (!ec) {
        std::string remote = remote_of(socket);
        SessionSettings s = settings();
        s.identity_from_header = false;
        std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), admin_handler(), s, registry,
                                                     remote)
            ->start();
      }
      accept_admin();
    });
  }
};

Server::Server(net::io_context& io, PlatformService& service, Faults& faults, ServerOptions options)
    : m_impl(std::make_unique<Impl>(io, service, faults, std::move(options))) {}

Server::~Server() = default;

Expected<void> Server::start() {
  Impl& d = *m_impl;
  if (!d.options.plain_for_tests) {
#ifdef XNODE_PLATFORM_TLS
    tls::TlsSettings s;
    s.role = tls::Role::server;
    s.cert_file = d.options.cert_file;
    s.key_file = d.options.key_file;
    s.ca_file = d.options.ca_file;
    s.crl_file = d.options.crl_file;
    auto config = tls::TlsConfig::create(s);
    if (!config) return config.error();
    d.tls_config = *config;
#else
    return Error("this build has no TLS stream (daemon/io/tls); only --plain-for-tests is available");
#endif
  }
  auto xep = d.bind(d.options.listen);
  if (!xep) return xep.error();
  d.xep_acceptor.emplace(std::move(*xep));
  if (d.options.admin) {
    auto admin = d.bind(*d.options.admin);
    if (!admin) return admin.error();
    d.admin_acceptor.emplace(std::move(*admin));
    d.accept_admin();
  }
  d.accept_xep();
  return {};
}

void Server::stop() {
  Impl& d = *m_impl;
  error_code ignored;
  if (d.xep_acceptor) d.xep_acceptor->close(ignored);
  if (d.admin_acceptor) d.admin_acceptor->close(ignored);
  auto closers = d.registry->closers;  // closing erases entries
  for (auto& [id, close] : closers) close();
}

unsigned short Server::port() const {
  error_code ec;
  return m_impl->xep_acceptor ? m_impl->xep_acceptor->local_endpoint(ec).port() : 0;
}

unsigned short Server::admin_port() const {
  error_code ec;
  return m_impl->admin_acceptor ? m_impl->admin_acceptor->local_endpoint(ec).port() : 0;
}

}  // namespace xnode::platform
