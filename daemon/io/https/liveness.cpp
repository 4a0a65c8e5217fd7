#include "io/https/liveness.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace xnode::https {

KeepAliveTimes keepalive_times(std::chrono::milliseconds probe_interval) {
  const int p = static_cast<int>(std::max<std::chrono::milliseconds::rep>(1, probe_interval.count() / 1000));
  KeepAliveTimes t;
  // Two unanswered probes tell a lost packet from a dead peer where the interval leaves room for
  // them; the quiet time takes what is left, so a cut is found within one probe interval.
  t.count = p >= 3 ? 2 : 1;
  t.interval_s = std::max(1, p / 4);
  t.idle_s = std::max(1, p - t.interval_s * t.count);
  return t;
}

void enable_keepalive(boost::asio::ip::tcp::socket& socket, const KeepAliveTimes& times, boost::system::error_code& ec) {
  socket.set_option(boost::asio::socket_base::keep_alive(true), ec);
  if (ec) return;
  const int fd = socket.native_handle();
  const int values[3] = {times.idle_s, times.interval_s, times.count};
  const int names[3] = {TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT};
  for (int i = 0; i < 3; ++i) {
    if (::setsockopt(fd, IPPROTO_TCP, names[i], &values[i], sizeof values[i]) != 0) {
      ec.assign(errno, boost::system::system_category());
      return;
    }
  }
}

boost::system::error_code pending_socket_error(boost::asio::ip::tcp::socket& socket) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  return {err, boost::system::system_category()};
}

}  // namespace xnode::https
