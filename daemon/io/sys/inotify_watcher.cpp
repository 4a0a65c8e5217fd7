#include "io/sys/inotify_watcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace xnode::io {

bool InotifyEvent::overflow() const { return (mask & IN_Q_OVERFLOW) != 0; }
bool InotifyEvent::watch_gone() const { return (mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) != 0; }
bool InotifyEvent::file_complete() const { return (mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) != 0 && !name.empty(); }

InotifyWatcher::InotifyWatcher() : m_fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  if (m_fd < 0) throw std::system_error(errno, std::generic_category(), "inotify_init1");
}

InotifyWatcher::~InotifyWatcher() {
  if (m_fd >= 0) ::close(m_fd);
}

InotifyWatcher::InotifyWatcher(InotifyWatcher&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}

InotifyWatcher& InotifyWatcher::operator=(InotifyWatcher&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = std::exchange(other.m_fd, -1);
  }
  return *this;
}

Expected<int> InotifyWatcher::add_watch(const std::string& path, std::uint32_t mask) {
  int wd = ::inotify_add_watch(m_fd, path.c_str(), mask);
  if (wd < 0) return make_error("cannot watch " + path + ": " + std::strerror(errno));
  return wd;
}

void InotifyWatcher::remove_watch(int watch) { ::inotify_rm_watch(m_fd, watch); }

bool InotifyWatcher::read_events(std::vector<InotifyEvent>& out, std::error_code& error) {
  // Aligned as the kernel writes struct inotify_event records into it.
  alignas(struct inotify_event) char buffer[16 * 1024];
  for (;;) {
    ssize_t n = ::read(m_fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      error = std::error_code(errno, std::generic_category());
      return false;
    }
    if (n == 0) return true;
    std::size_t at = 0;
    while (at + sizeof(struct inotify_event) <= static_cast<std::size_t>(n)) {
      struct inotify_event header;
      std::memcpy(&header, buffer + at, sizeof header);
      InotifyEvent event;
      event.watch = header.wd;
      event.mask = header.mask;
      if (header.len > 0) event.name.assign(buffer + at + sizeof header, ::strnlen(buffer + at + sizeof header, header.len));
      out.push_back(std::move(event));
      at += sizeof header + header.len;
    }
  }
}

}  // namespace xnode::io
