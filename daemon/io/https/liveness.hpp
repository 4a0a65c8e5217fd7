// Link liveness on an idle uplink connection (issue #5, health.probe_interval).
//
// A platform or access point that goes silent (packets dropped, no FIN or RST) leaves an idle
// keep-alive connection looking open for hours: nothing is sent on it until the next heartbeat, and
// then the request waits for its own timeout. TCP keep-alive makes the kernel ask the peer while the
// connection is idle; the times are derived from the probe interval so that a silent peer turns
// into a socket error (ETIMEDOUT) within it. The client waits for that error on the idle socket
// (https_client.cpp) and reports the connection lost, so the link reads `down` without any change
// to the protocol.
#pragma once
#include <chrono>

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace xnode::https {

// Linux counts keep-alive times in whole seconds.
struct KeepAliveTimes {
  int idle_s = 0;      // TCP_KEEPIDLE: quiet time before the first probe
  int interval_s = 0;  // TCP_KEEPINTVL: between unanswered probes
  int count = 0;       // TCP_KEEPCNT: unanswered probes before the connection is dead
  std::chrono::seconds total() const { return std::chrono::seconds(idle_s + interval_s * count); }
};

// idle + interval * count ≤ probe_interval (the floor is 2 s: 1 s quiet, one 1 s probe).
KeepAliveTimes keepalive_times(std::chrono::milliseconds probe_interval);

// Sets SO_KEEPALIVE and the three times on a connected socket.
void enable_keepalive(boost::asio::ip::tcp::socket& socket, const KeepAliveTimes& times, boost::system::error_code& ec);

// The socket's pending error (SO_ERROR), e.g. ETIMEDOUT once keep-alive gave up; clears it.
boost::system::error_code pending_socket_error(boost::asio::ip::tcp::socket& socket);

}  // namespace xnode::https
