// The control socket: a unix stream socket (health.control_socket) on the daemon's Asio loop,
// through which xnodectl's commands reach the daemon. The caller is known by SO_PEERCRED (the
// kernel's word for its uid, gid and pid — never what the client says). File mode 0660: root and
// the service group. One request and one response a connection (core/control codec), a request
// read within kReadTimeout, at most kMaxConnections at once (more are answered "busy"), an answer
// within kAnswerTimeout or the connection is closed with an error.
#pragma once
#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/control/control_protocol.hpp"

namespace xnode::app {

struct ControlPeer {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
};

class ControlServer {
 public:
  static constexpr std::size_t kMaxConnections = 8;
  static constexpr std::chrono::seconds kReadTimeout{5};
  static constexpr std::chrono::seconds kAnswerTimeout{120};

  using Reply = std::function<void(control::Response)>;
  // Runs on the loop; calls `reply` once, on the loop, when the command is done.
  using Handler = std::function<void(const ControlPeer&, control::Request, Reply)>;

  // Replaces a stale socket file (a crashed daemon's), refuses a path that is not a socket, and
  // listens. Throws std::runtime_error at start-up when that fails.
  ControlServer(boost::asio::any_io_executor executor, std::string path, Handler handler);
  // Stops listening and removes the socket file.
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  void stop();
  const std::string& path() const { return m_path; }

  struct State;  // the listener, shared with the connections it accepted

 private:
  std::string m_path;
  std::shared_ptr<State> m_state;
};

}  // namespace xnode::app
