#include "app/control_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xnode::app {

namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Waits for `events` on fd until the deadline; false on timeout or error.
bool wait_ready(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

}  // namespace

bool control_call(const std::string& socket_path, const control::Request& request, std::chrono::milliseconds timeout,
                  control::Response& response, ControlCallError& error) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  sockaddr_un addr{};
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) {
    error = {false, "control socket path '" + socket_path + "' is empty or too long"};
    return false;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  Fd s;
  s.fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s.fd < 0) {
    error = {false, std::string("socket: ") + std::strerror(errno)};
    return false;
  }
  if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    error = {e == ENOENT || e == ECONNREFUSED, "cannot connect to " + socket_path + ": " + std::strerror(e)};
    return false;
  }
  const std::string out = control::encode_request(request);
  std::size_t sent = 0;
  while (sent < out.size()) {
    if (!wait_ready(s.fd, POLLOUT, deadline)) {
      error = {false, "sending to " + socket_path + " timed out"};
      return false;
    }
    const ssize_t n = ::send(s.fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = {false, std::string("sending to ") + socket_path + ": " + std::strerror(errno)};
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string in;
  char buf[8192];
  for (;;) {
    auto line = control::take_line(in, control::kMaxResponseBytes);
    if (!line) {
      error = {false, "xnoded's answer: " + line.error().message};
      return false;
    }
    if (line->has_value()) {
      auto r = control::decode_response(**line);
      if (!r) {
        error = {false, "xnoded's answer: " + r.error().message};
        return false;
      }
      response = std::move(*r);
      return true;
    }
    if (!wait_ready(s.fd, POLLIN, deadline)) {
      error = {false, "no answer from xnoded within " + std::to_string(timeout.count() / 1000) + " s"};
      return false;
    }
    const ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = {false, "xnoded closed the connection without an answer"};
      return false;
    }
    in.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace xnode::app
