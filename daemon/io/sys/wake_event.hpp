// A wake-up another thread can trigger for a thread that waits in poll(2) on file descriptors
// (eventfd). notify() is safe from any thread and never blocks.
#pragma once

namespace xnode::io {

class WakeEvent {
 public:
  WakeEvent();  // throws std::system_error when no eventfd can be made (start-up failure)
  ~WakeEvent();
  WakeEvent(const WakeEvent&) = delete;
  WakeEvent& operator=(const WakeEvent&) = delete;

  void notify();
  // Clears pending notifications; returns true when there was one.
  bool drain();
  int fd() const { return m_fd; }

 private:
  int m_fd = -1;
};

}  // namespace xnode::io
