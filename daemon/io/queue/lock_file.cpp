#include "io/queue/lock_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace xnode::io {

LockFile::~LockFile() { release(); }

LockFile::LockFile(LockFile&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}

LockFile& LockFile::operator=(LockFile&& other) noexcept {
  if (this != &other) {
    release();
    m_fd = std::exchange(other.m_fd, -1);
  }
  return *this;
}

void LockFile::release() {
  if (m_fd >= 0) {
    ::close(m_fd);  // closing the descriptor drops the flock
    m_fd = -1;
  }
}

Expected<LockFile> LockFile::acquire(const std::string& lock_path, const std::string& what) {
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Error("cannot open lock file " + lock_path + ": " + std::strerror(errno));
  LockFile lock;
  lock.m_fd = fd;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) return Error("cannot lock " + lock_path + ": " + std::strerror(err));
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return Error(what + " is in use by another xnoded (pid " + (pid.empty() ? "unknown" : pid) +
                 "); stop it first (lock file " + lock_path + ")");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    return Error("cannot write pid into lock file " + lock_path + ": " + std::strerror(errno));
  return lock;
}

}  // namespace xnode::io
