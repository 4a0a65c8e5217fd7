// The push intake's HTTP/1.1 server: an acceptor and its connections on one io_context thread,
// plain TCP or the project's mbedTLS stream in the server role. It bounds what a client can make
// it hold (connections, header and body bytes, idle time) and hands complete requests to a
// PushHandler; it knows nothing of sources, tokens or the queue.
//
// One request at a time per connection: the next request is not parsed before the answer of the
// previous one is written (a pipelining client simply waits), so answers keep their order.
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/base/expected.hpp"
#include "drivers/http/http_request.hpp"
#include "drivers/http/listen_address.hpp"

namespace boost::asio {
class io_context;
}

namespace xnode::tls {
class TlsConfig;
}

namespace xnode::drivers::http {

struct Answer {
  std::string bytes;  // a complete HTTP response
  bool keep_alive = true;
};

// Called on the listener's thread.
class PushHandler {
 public:
  virtual ~PushHandler() = default;
  // After the header: an answer refuses the request before its body is read (the connection is
  // then closed); nullopt reads the body.
  virtual std::optional<Answer> check_header(const HttpRequest& request) = 0;
  // A complete request; `reply` must be called exactly once, on the listener's thread.
  virtual void handle(HttpRequest& request, std::function<void(Answer)> reply) = 0;
};

struct ListenerOptions {
  ListenAddress address;
  HttpLimits limits;
  std::size_t max_connections = 32;
  std::chrono::milliseconds idle_timeout{30000};
  std::shared_ptr<tls::TlsConfig> tls;  // null: plain TCP
};

class HttpListener {
 public:
  HttpListener(boost::asio::io_context& io, ListenerOptions options, PushHandler& handler);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Binds and starts accepting; the error names the address.
  Expected<void> start();
  // Closes the acceptor and every connection (on the listener's thread).
  void close();
  std::size_t connections() const;

 // Defined in the .cpp; named here so that its connection classes can refer to it.
  struct Impl;

 private:
  std::shared_ptr<Impl> m_impl;
};

}  // namespace xnode::drivers::http
