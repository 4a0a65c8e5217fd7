#include "app/metrics_endpoint.hpp"

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <set>

#include "core/base/log.hpp"
#include "core/config/rules.hpp"
#include "core/health/metrics_http.hpp"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace xnode::app {

namespace {
constexpr std::size_t kMaxConnections = 4;               // a scraper or two, and an operator's curl
constexpr auto kReadTimeout = std::chrono::seconds(5);   // to send the request head
constexpr auto kWriteTimeout = std::chrono::seconds(5);  // to take the answer
constexpr std::string_view log_category = "metrics";
}  // namespace

struct MetricsEndpoint::Impl : std::enable_shared_from_this<Impl> {
  struct Connection {
    explicit Connection(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
    tcp::socket socket;
    asio::steady_timer timer;
    std::array<char, 1024> chunk{};
    std::string received;
    std::string response;
  };

  Impl(asio::any_io_executor ex, std::string listen_text, Render r)
      : acceptor(ex), retry(ex), listen(std::move(listen_text)), render(std::move(r)) {}

  tcp::acceptor acceptor;
  asio::steady_timer retry;
  std::string listen;
  Render render;
  std::set<std::shared_ptr<Connection>> connections;
  bool stopped = false;

  void accept() {
    acceptor.async_accept([self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
      if (self->stopped || ec == asio::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors and the like: try again a little later, not in a tight loop.
        static log::RateLimit limit(1, std::chrono::minutes(1));
        limit.write(log::Level::warning, log_category, "accept failed: " + ec.message());
        self->retry.expires_after(std::chrono::milliseconds(200));
        self->retry.async_wait([self](const boost::system::error_code& e) {
          if (!e && !self->stopped) self->accept();
        });
        return;
      }
      if (self->connections.size() >= kMaxConnections) {
        boost::system::error_code ignored;
        socket.close(ignored);  // over the bound: refuse rather than queue
      } else {
        self->serve(std::make_shared<Connection>(std::move(socket)));
      }
      self->accept();
    });
  }

  void serve(const std::shared_ptr<Connection>& c) {
    connections.insert(c);
    c->timer.expires_after(kReadTimeout);
    c->timer.async_wait([self = shared_from_this(), c](const boost::system::error_code& ec) {
      if (!ec) self->finish(c);  // too slow: drop the connection
    });
    read(c);
  }

  void read(const std::shared_ptr<Connection>& c) {
    c->socket.async_read_some(asio::buffer(c->chunk), [self = shared_from_this(), c](const boost::system::error_code& ec,
                                                                                     std::size_t n) {
      if (ec) {
        self->finish(c);
        return;
      }
      c->received.append(c->chunk.data(), n);
      const auto request = health::classify_metrics_request(c->received);
      if (request.kind == health::MetricsRequestKind::incomplete) {
        self->read(c);
        return;
      }
      self->respond(c, request.kind);
    });
  }

  void respond(const std::shared_ptr<Connection>& c, health::MetricsRequestKind kind) {
    const bool metrics =
        kind == health::MetricsRequestKind::metrics || kind == health::MetricsRequestKind::metrics_head;
    c->response = health::metrics_response(kind, metrics ? render() : std::string());
    c->received.clear();
    c->timer.expires_after(kWriteTimeout);
    c->timer.async_wait([self = shared_from_this(), c](const boost::system::error_code& ec) {
      if (!ec) self->finish(c);
    });
    asio::async_write(c->socket, asio::buffer(c->response),
                      [self = shared_from_this(), c](const boost::system::error_code&, std::size_t) {
                        boost::system::error_code ignored;
                        c->socket.shutdown(tcp::socket::shutdown_send, ignored);
                        self->finish(c);
                      });
  }

  void finish(const std::shared_ptr<Connection>& c) {
    boost::system::error_code ignored;
    c->timer.cancel();
    c->socket.close(ignored);
    connections.erase(c);
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    retry.cancel();
    auto open = connections;
    for (const auto& c : open) finish(c);
  }
};

MetricsEndpoint::MetricsEndpoint(std::shared_ptr<Impl> impl) : m_impl(std::move(impl)) {}

MetricsEndpoint::~MetricsEndpoint() { stop(); }

const std::string& MetricsEndpoint::listen() const { return m_impl->listen; }

void MetricsEndpoint::stop() {
  if (m_impl) m_impl->stop();
}

Expected<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::start(asio::any_io_executor executor,
                                                                  const std::string& listen, Render render) {
  // The schema accepts loopback addresses only; checked again here because this is what binds.
  auto address = config::parse_loopback_listen(listen);
  if (!address) return make_error("metrics endpoint: " + listen + " is not a loopback address:port");
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address->host, ec);
  if (ec) return make_error("metrics endpoint: " + listen + ": " + ec.message());
  auto impl = std::make_shared<Impl>(executor, listen, std::move(render));
  const tcp::endpoint endpoint(ip, address->port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(static_cast<int>(kMaxConnections), ec);
  if (ec) return make_error("metrics endpoint: cannot listen on " + listen + ": " + ec.message());
  impl->accept();
  log::info(log_category, "Prometheus metrics at http://" + listen + "/metrics");
  return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint(std::move(impl)));
}

}  // namespace xnode::app
