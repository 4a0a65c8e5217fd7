// HTTP/1.1 client for the platform uplink (XEP/1 §1): keep-alive with one retry on a fresh
// connection when a reused connection fails before any byte of the answer, per-phase timeouts, a
// bounded response, gzip request bodies, HTTP CONNECT tunnelling, ordered endpoint failover.
//
// The work is done by a class template over the stream type (https_client.cpp): the mbedTLS stream
// for https:// endpoints, a plain beast::tcp_stream for http:// endpoints (tests, local tooling).
// This header stays free of Beast so that callers do not pay its compile time.
//
// Requests are performed one at a time, in the order given (HTTP/1.1 without pipelining). Handlers
// run on the client's executor, never inside async_request. Use the client from its executor's
// thread only; destroying it cancels what is pending without calling the handlers.
#pragma once
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "io/https/https_types.hpp"

namespace xnode::https {

// ec is set when no HTTP answer was obtained (response.error_class/error_detail say why); a non-2xx
// status is an answer, not an error.
using RequestHandler = std::function<void(boost::system::error_code ec, Response response)>;

class ClientCore;  // the stream-type specific implementation

class HttpsClient {
 public:
  // Throws std::invalid_argument when an endpoint or the proxy URL cannot be parsed, or an https
  // endpoint is configured without TLS options (a start-up failure).
  HttpsClient(boost::asio::any_io_executor executor, ClientOptions options);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  void async_request(Request request, RequestHandler handler);
  // Sends close_notify and closes the connection after the requests already queued; `done` runs when
  // the connection is closed. The next request opens a new connection.
  void close(std::function<void()> done = {});
  ClientStats stats() const;
  // An idle open connection was found dead (keep-alive gave up on a silent peer, or a reset): it is
  // dropped and `handler` is told why. A connection the platform closed quietly is only dropped.
  void on_connection_lost(std::function<void(ErrorClass error, std::string detail)> handler);
  // New endpoints / proxy / TLS configuration / timeouts, used from the next new connection on (an
  // open connection is kept until it closes). Throws like the constructor.
  void set_options(ClientOptions options);

 private:
  std::shared_ptr<ClientCore> m_core;
};

}  // namespace xnode::https
