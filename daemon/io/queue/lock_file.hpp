// An exclusive, advisory lock on `<path>.lock` (flock, non-blocking) holding the owner's pid, so
// that a second xnoded on the same state fails at once with a message naming the first one.
// The kernel drops the lock when the process dies, so a crash never leaves a stale lock behind.
#pragma once
#include <string>

#include "core/base/expected.hpp"

namespace xnode::io {

class LockFile {
 public:
  LockFile() = default;
  ~LockFile();
  LockFile(LockFile&& other) noexcept;
  LockFile& operator=(LockFile&& other) noexcept;
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;

  // `what` names the locked thing in the error, e.g. "queue /var/lib/xnode/queue.db".
  // Error: "<what> is in use by another xnoded (pid N)".
  static Expected<LockFile> acquire(const std::string& lock_path, const std::string& what);
  void release();

 private:
  int m_fd = -1;
};

}  // namespace xnode::io
