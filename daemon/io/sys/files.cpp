#include "io/sys/files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

namespace xnode::io {
namespace {

std::string errno_text(int error) { return std::strerror(error); }

FileIdentity from_stat(const struct stat& st) {
  FileIdentity id;
  id.device = static_cast<std::uint64_t>(st.st_dev);
  id.inode = static_cast<std::uint64_t>(st.st_ino);
  id.size = static_cast<std::uint64_t>(st.st_size);
  id.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  id.regular = S_ISREG(st.st_mode);
  return id;
}

std::string base_name(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string parent_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

class Fd {
 public:
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd() {
    if (m_fd >= 0) ::close(m_fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return m_fd; }
  int release() { return std::exchange(m_fd, -1); }

 private:
  int m_fd;
};

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

Expected<void> copy_file_synced(const std::string& from, const std::string& to) {
  Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return make_error("cannot open " + from + ": " + errno_text(errno));
  Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  if (out.get() < 0) return make_error("cannot create " + to + ": " + errno_text(errno));
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(in.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::unlink(to.c_str());
      return make_error("cannot read " + from + ": " + errno_text(e));
    }
    if (n == 0) break;
    if (!write_all(out.get(), buffer, static_cast<std::size_t>(n))) {
      int e = errno;
      ::unlink(to.c_str());
      return make_error("cannot write " + to + ": " + errno_text(e));
    }
  }
  if (::fsync(out.get()) != 0) {
    int e = errno;
    ::unlink(to.c_str());
    return make_error("cannot fsync " + to + ": " + errno_text(e));
  }
  return {};
}

}  // namespace

std::string FileIdentity::key(const std::string& name) const {
  return name + "|" + std::to_string(device) + ":" + std::to_string(inode) + "|" + std::to_string(size) + "|" +
         std::to_string(mtime_ns);
}

Expected<FileIdentity> identity_of_fd(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return make_error(std::string("fstat: ") + errno_text(errno));
  return from_stat(st);
}

Expected<FileIdentity> identity_of_path(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return make_error("cannot stat " + path + ": " + errno_text(errno));
  return from_stat(st);
}

Expected<void> make_directories(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error("cannot create directory " + dir + ": " + ec.message());
  return {};
}

Expected<std::string> move_into_directory(const std::string& path, const std::string& dir) {
  auto made = make_directories(dir);
  if (!made) return made.error();
  const std::string name = base_name(path);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    std::string target = dir + "/" + (attempt == 0 ? name : name + "." + std::to_string(attempt));
    // link + unlink instead of rename: rename would silently replace a file of the same name.
    if (::link(path.c_str(), target.c_str()) == 0) {
      if (::unlink(path.c_str()) != 0) return make_error("cannot remove " + path + ": " + errno_text(errno));
      sync_directory(dir);
      sync_directory(parent_of(path));
      return target;
    }
    int e = errno;
    if (e == EEXIST) continue;
    if (e == EXDEV || e == EPERM || e == ENOTSUP) {
      // Another file system (or one without hard links): copy, sync, then drop the original.
      struct stat st;
      if (::lstat(target.c_str(), &st) == 0) continue;
      auto copied = copy_file_synced(path, target);
      if (!copied) return copied.error();
      if (::unlink(path.c_str()) != 0) return make_error("cannot remove " + path + ": " + errno_text(errno));
      sync_directory(dir);
      sync_directory(parent_of(path));
      return target;
    }
    return make_error("cannot move " + path + " into " + dir + ": " + errno_text(e));
  }
  return make_error("cannot move " + path + " into " + dir + ": too many files named " + name);
}

Expected<void> check_private_file(const std::string& what, const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return make_error(what + " " + path + ": " + std::strerror(errno));
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(what + " " + path + " is open to group/others (mode " + mode + "); chmod 600 it");
  }
  return {};
}

Expected<void> write_file_atomically(const std::string& path, const std::string& content) {
  const std::string temporary = path + ".tmp";
  Fd out(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (out.get() < 0) return make_error("cannot create " + temporary + ": " + errno_text(errno));
  if (!write_all(out.get(), content.data(), content.size()) || ::fsync(out.get()) != 0) {
    int e = errno;
    ::unlink(temporary.c_str());
    return make_error("cannot write " + temporary + ": " + errno_text(e));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(temporary.c_str());
    return make_error("cannot rename " + temporary + " to " + path + ": " + errno_text(e));
  }
  sync_directory(parent_of(path));
  return {};
}

Expected<void> remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return make_error("cannot delete " + path + ": " + errno_text(errno));
  sync_directory(parent_of(path));
  return {};
}

void sync_directory(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) ::fsync(fd.get());
}

Expected<std::vector<std::string>> list_directory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return make_error("cannot read directory " + dir + ": " + errno_text(errno));
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* entry = ::readdir(d)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  int e = errno;
  ::closedir(d);
  if (e != 0) return make_error("cannot read directory " + dir + ": " + errno_text(e));
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace xnode::io
