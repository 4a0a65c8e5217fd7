#include "io/sys/wake_event.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace xnode::io {

WakeEvent::WakeEvent() : m_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (m_fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

WakeEvent::~WakeEvent() { ::close(m_fd); }

void WakeEvent::notify() {
  std::uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the waiter wakes anyway.
  while (::write(m_fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

bool WakeEvent::drain() {
  std::uint64_t value = 0;
  for (;;) {
    ssize_t n = ::read(m_fd, &value, sizeof value);
    if (n < 0 && errno == EINTR) continue;
    return n == static_cast<ssize_t>(sizeof value) && value > 0;
  }
}

}  // namespace xnode::io
