#include "drivers/http/http_listener.hpp"

#include <array>
#include <map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "drivers/http/push_body.hpp"
#include "io/tls/tls_stream.hpp"

namespace xnode::drivers::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;
using tcp = net::ip::tcp;

beast::tcp_stream& lowest(beast::tcp_stream& s) { return s; }
beast::tcp_stream& lowest(tls::TlsStream& s) { return s.next_layer(); }

class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  virtual void close() = 0;
};

}  // namespace

struct HttpListener::Impl : std::enable_shared_from_this<HttpListener::Impl> {
  Impl(net::io_context& io_, ListenerOptions options_, PushHandler& handler_)
      : io(io_), options(std::move(options_)), handler(handler_), acceptor(io_) {}

  net::io_context& io;
  ListenerOptions options;
  PushHandler& handler;
  tcp::acceptor acceptor;
  bool closed = false;
  std::uint64_t next_id = 1;
  std::map<std::uint64_t, std::weak_ptr<ConnectionBase>> connections;

  void accept();
  void forget(std::uint64_t id) { connections.erase(id); }
};

namespace {

template <class Stream>
class Connection final : public ConnectionBase, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  Connection(std::shared_ptr<HttpListener::Impl> owner, std::uint64_t id, Stream stream)
      : m_owner(std::move(owner)), m_id(id), m_stream(std::move(stream)), m_parser(m_owner->options.limits) {}

  void start() {
    if constexpr (std::is_same_v<Stream, tls::TlsStream>) {
      lowest(m_stream).expires_after(m_owner->options.idle_timeout);
      m_stream.async_handshake([self = this->shared_from_this()](error_code ec) {
        if (ec) return self->close();
        self->process();
      });
    } else {
      process();
    }
  }

  void close() override {
    if (m_closed) return;
    m_closed = true;
    error_code ignored;
    lowest(m_stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest(m_stream).close();
    m_owner->forget(m_id);
  }

 private:
  // Feeds what was read and not yet parsed; acts on the parser's state.
  void process() {
    if (m_closed) return;
    if (!m_pending.empty()) {
      const std::size_t used = m_parser.feed(m_pending);
      m_pending.erase(0, used);
    }
    if (m_parser.header_done() && !m_header_checked) {
      m_header_checked = true;
      if (auto refusal = m_owner->handler.check_header(m_parser.request())) {
        refusal->keep_alive = false;  // the body may not have been read: the connection cannot go on
        return write(std::move(*refusal));
      }
    }
    switch (m_parser.state()) {
      case RequestParser::State::error: {
        const int status = m_parser.error_status();
        return write({make_response(status, error_json(m_parser.error_message()), false), false});
      }
      case RequestParser::State::complete: {
        lowest(m_stream).expires_never();
        // The reply holds the connection: no socket operation does while the records commit.
        m_owner->handler.handle(m_parser.request(),
                                [self = this->shared_from_this()](Answer answer) { self->write(std::move(answer)); });
        return;
      }
      case RequestParser::State::body:
        if (!m_continue_checked) {
          m_continue_checked = true;
          const std::string* expect = m_parser.request().header("expect");
          if (expect && (*expect == "100-continue" || *expect == "100-Continue") && m_pending.empty()) {
            m_continue = "HTTP/1.1 100 Continue\r\n\r\n";
            return net::async_write(m_stream, net::buffer(m_continue),
                                    [self = this->shared_from_this()](error_code ec, std::size_t) {
                                      if (ec) return self->close();
                                      self->read();
                                    });
          }
        }
        return read();
      case RequestParser::State::headers:
        return read();
    }
  }

  void read() {
    // One deadline for the whole request, from its first read: a client trickling bytes cannot
    // hold the connection longer than idle_timeout (the timer is not pushed back by each read).
    if (!m_deadline_set) {
      lowest(m_stream).expires_after(m_owner->options.idle_timeout);
      m_deadline_set = true;
    }
    m_stream.async_read_some(net::buffer(m_buffer), [self = this->shared_from_this()](error_code ec, std::size_t n) {
      if (ec) return self->close();  // peer gone, idle timeout, or closed by stop
      self->m_pending.append(self->m_buffer.data(), n);
      self->process();
    });
  }

  void write(Answer answer) {
    if (m_closed) return;
    m_out = std::move(answer.bytes);
    m_keep_alive = answer.keep_alive && m_parser.request().keep_alive;
    lowest(m_stream).expires_after(m_owner->options.idle_timeout);
    net::async_write(m_stream, net::buffer(m_out), [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec || !self->m_keep_alive) return self->finish();
      self->m_parser.reset();
      self->m_deadline_set = false;
      self->m_header_checked = false;
      self->m_continue_checked = false;
      self->process();
    });
  }

  // After the last answer: TLS says close_notify first (bounded by the stream's own timeout).
  void finish() {
    if constexpr (std::is_same_v<Stream, tls::TlsStream>) {
      if (!m_closed) {
        return m_stream.async_shutdown([self = this->shared_from_this()](error_code) { self->close(); });
      }
    }
    close();
  }

  std::shared_ptr<HttpListener::Impl> m_owner;
  const std::uint64_t m_id;
  Stream m_stream;
  RequestParser m_parser;
  std::array<char, 64 * 1024> m_buffer{};
  std::string m_pending;  // read, not yet parsed (the start of a pipelined request)
  std::string m_out;
  std::string m_continue;
  bool m_deadline_set = false;
  bool m_header_checked = false;
  bool m_continue_checked = false;
  bool m_keep_alive = true;
  bool m_closed = false;
};

}  // namespace

void HttpListener::Impl::accept() {
  acceptor.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
    if (self->closed || ec == net::error::operation_aborted) return;
    if (!ec) {
      if (self->connections.size() >= self->options.max_connections) {
        error_code ignored;
        socket.close(ignored);  // over the bound: refused at once, the client retries later
      } else {
        socket.set_option(tcp::no_delay(true), ec);
        const std::uint64_t id = self->next_id++;
        std::shared_ptr<ConnectionBase> c;
        if (self->options.tls) {
          auto conn = std::make_shared<Connection<tls::TlsStream>>(
              self, id, tls::TlsStream(beast::tcp_stream(std::move(socket)), self->options.tls));
          c = conn;
          self->connections.emplace(id, c);
          conn->start();
        } else {
          auto conn = std::make_shared<Connection<beast::tcp_stream>>(self, id, beast::tcp_stream(std::move(socket)));
          c = conn;
          self->connections.emplace(id, c);
          conn->start();
        }
      }
    }
    self->accept();
  });
}

HttpListener::HttpListener(net::io_context& io, ListenerOptions options, PushHandler& handler)
    : m_impl(std::make_shared<Impl>(io, std::move(options), handler)) {}

HttpListener::~HttpListener() = default;

Expected<void> HttpListener::start() {
  Impl& d = *m_impl;
  error_code ec;
  const auto address = net::ip::make_address(d.options.address.host, ec);
  if (ec) return make_error("listen " + d.options.address.host + ": " + ec.message());
  const tcp::endpoint endpoint(address, d.options.address.port);
  const std::string where = (d.options.address.ipv6 ? "[" + d.options.address.host + "]" : d.options.address.host) +
                            ":" + std::to_string(d.options.address.port);
  d.acceptor.open(endpoint.protocol(), ec);
  if (!ec) d.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) d.acceptor.bind(endpoint, ec);
  if (!ec) d.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    d.acceptor.close(ignored);
    return make_error("cannot listen on " + where + ": " + ec.message());
  }
  d.accept();
  return {};
}

void HttpListener::close() {
  Impl& d = *m_impl;
  d.closed = true;
  error_code ignored;
  d.acceptor.close(ignored);
  auto connections = d.connections;  // closing erases entries
  for (auto& [id, weak] : connections)
    if (auto c = weak.lock()) c->close();
  d.connections.clear();
}

std::size_t HttpListener::connections() const { return m_impl->connections.size(); }

}  // namespace xnode::drivers::http
