// The platform's HTTP/1.1 listeners (Boost.Beast): the XEP listener over the project's mbedTLS
// stream in the server role, requiring a client certificate whose CN is the node id, and the
// plain-HTTP admin listener on loopback. Both run on the caller's io_context (one thread: the
// service is single-threaded). Beast lives in server.cpp only.
//
// Sessions: keep-alive, a connection idle for `idle_timeout` is closed, a body above
// `body_limit` is answered 413 and the connection closed. Fault injection (admin.hpp) applies to
// XEP requests only.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "core/base/expected.hpp"
#include "tests/platform/admin.hpp"
#include "tests/platform/platform_service.hpp"

namespace xnode::platform {

struct Endpoint {
  std::string host;  // numeric address
  unsigned short port = 0;
};
// "127.0.0.1:8443", "[::1]:8443".
Expected<Endpoint> parse_endpoint(const std::string& text);

struct ServerOptions {
  Endpoint listen{"127.0.0.1", 8443};
  std::optional<Endpoint> admin;
  // TLS (required unless plain_for_tests).
  std::string cert_file, key_file, ca_file, crl_file;
  // Plain TCP, node id taken from X-XN-Node: only for tests of the server's HTTP handling.
  bool plain_for_tests = false;
  std::chrono::seconds idle_timeout{120};
  std::chrono::seconds handshake_timeout{10};
  std::size_t body_limit = 16 * 1024 * 1024;  // raw bytes a request body may have
};

class Server {
 public:
  Server(boost::asio::io_context& io, PlatformService& service, Faults& faults, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the TLS policy and binds both listeners; the error says which file or address failed.
  Expected<void> start();
  // Closes the listeners and every open connection.
  void stop();
  unsigned short port() const;
  unsigned short admin_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace xnode::platform
