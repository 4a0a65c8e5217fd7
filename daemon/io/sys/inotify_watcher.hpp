// A small RAII wrapper around Linux inotify: watch directories, read what happened to the names in
// them. Non-blocking: poll fd() (directly, or through an Asio posix::stream_descriptor) and call
// read_events() when it is readable. Used by the spool driver and the configuration reload.
#pragma once
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "core/base/expected.hpp"

namespace xnode::io {

struct InotifyEvent {
  int watch = -1;           // the watch descriptor (-1 for a queue overflow)
  std::uint32_t mask = 0;   // IN_* bits
  std::string name;         // name inside the watched directory (empty for the directory itself)

  bool overflow() const;          // events were lost: rescan
  bool watch_gone() const;        // the watched directory was deleted, moved or unmounted
  bool file_complete() const;     // IN_CLOSE_WRITE or IN_MOVED_TO: a name that may now be taken
};

class InotifyWatcher {
 public:
  // Throws std::system_error when inotify is unavailable (a start-up failure).
  InotifyWatcher();
  ~InotifyWatcher();
  InotifyWatcher(InotifyWatcher&& other) noexcept;
  InotifyWatcher& operator=(InotifyWatcher&& other) noexcept;
  InotifyWatcher(const InotifyWatcher&) = delete;
  InotifyWatcher& operator=(const InotifyWatcher&) = delete;

  // Watches `path` for `mask` (IN_* bits); returns the watch descriptor.
  Expected<int> add_watch(const std::string& path, std::uint32_t mask);
  void remove_watch(int watch);

  // Reads every event queued now (never blocks). Returns false with `error` set on a read failure.
  bool read_events(std::vector<InotifyEvent>& out, std::error_code& error);

  int fd() const { return m_fd; }

 private:
  int m_fd = -1;
};

}  // namespace xnode::io
