// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET (a path, or an abstract socket
// when it starts with '@'). Messages: READY=1, RELOADING=1, STOPPING=1, WATCHDOG=1, STATUS=….
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace xnode::io {

class SystemdNotifier {
 public:
  // Reads $NOTIFY_SOCKET and $WATCHDOG_USEC (honouring $WATCHDOG_PID) from the environment.
  SystemdNotifier();
  // For tests: an explicit socket address ("/path" or "@abstract").
  explicit SystemdNotifier(std::string socket_address);

  bool enabled() const { return !m_address.empty(); }
  // Sends `state` (newline-separated assignments). False when not enabled or the send failed.
  bool notify(std::string_view state) const;
  bool ready() const { return notify("READY=1"); }
  bool reloading() const;  // RELOADING=1 with MONOTONIC_USEC (systemd ≥ 253 wants it; 252 ignores it)
  bool stopping() const { return notify("STOPPING=1"); }
  bool watchdog() const { return notify("WATCHDOG=1"); }
  bool status(std::string_view line) const;

  // The watchdog interval systemd expects pings within, if any; ping at half of it.
  std::optional<std::chrono::microseconds> watchdog_interval() const { return m_watchdog; }

 private:
  std::string m_address;
  std::optional<std::chrono::microseconds> m_watchdog;
};

}  // namespace xnode::io
