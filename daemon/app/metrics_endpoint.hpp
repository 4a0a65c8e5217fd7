// The optional Prometheus endpoint (issue #5; health.prometheus_listen): a tiny HTTP/1.1 server on
// a loopback address, on the daemon's Asio loop, that answers GET /metrics with the health model's
// exposition. Bounded on purpose — it shares the loop with the uplink: at most 4 connections at a
// time (more are closed at once), a request head of at most 8 KiB, 5 s to send it and 5 s to take
// the answer, one request a connection. Request parsing is the pure core/health/metrics_http.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "core/base/expected.hpp"

namespace xnode::app {

class MetricsEndpoint {
 public:
  using Render = std::function<std::string()>;  // the exposition text, on the loop's thread

  // Binds `listen` (`127.x.x.x:port` or `[::1]:port`, as the schema checked) and starts accepting.
  // An error (address in use, not loopback) is returned for the caller to log.
  static Expected<std::unique_ptr<MetricsEndpoint>> start(boost::asio::any_io_executor executor,
                                                          const std::string& listen, Render render);
  ~MetricsEndpoint();  // closes the acceptor and every connection
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  const std::string& listen() const;
  void stop();

 private:
  struct Impl;
  explicit MetricsEndpoint(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> m_impl;
};

}  // namespace xnode::app
