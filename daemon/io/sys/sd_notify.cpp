#include "io/sys/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace xnode::io {

SystemdNotifier::SystemdNotifier() {
  if (const char* s = std::getenv("NOTIFY_SOCKET")) m_address = s;
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  bool for_us = !pid || std::strtoll(pid, nullptr, 10) == static_cast<long long>(::getpid());
  if (usec && for_us) {
    long long v = std::strtoll(usec, nullptr, 10);
    if (v > 0) m_watchdog = std::chrono::microseconds(v);
  }
}

SystemdNotifier::SystemdNotifier(std::string socket_address) : m_address(std::move(socket_address)) {}

bool SystemdNotifier::notify(std::string_view state) const {
  if (m_address.empty() || m_address.size() >= sizeof(sockaddr_un::sun_path)) return false;
  if (m_address[0] != '/' && m_address[0] != '@') return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, m_address.data(), m_address.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + m_address.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ssize_t n;
  do {
    n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  return n == static_cast<ssize_t>(state.size());
}

bool SystemdNotifier::reloading() const {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  long long usec = static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  return notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

bool SystemdNotifier::status(std::string_view line) const {
  std::string msg = "STATUS=";
  for (char c : line) msg.push_back(c == '\n' ? ' ' : c);
  return notify(msg);
}

}  // namespace xnode::io
