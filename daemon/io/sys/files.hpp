// Small file helpers for the spool driver and friends: the identity of a file (so a renamed-in
// file is known again after a restart), moving a file into a directory without overwriting
// anything, and writing a small file atomically. Directory entries are fsynced where a crash
// could otherwise forget a rename.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/expected.hpp"

namespace xnode::io {

struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  bool regular = false;

  // "<name>|<dev>:<inode>|<size>|<mtime ns>": the same bytes under the same name give the same key.
  std::string key(const std::string& name) const;
};

// Identity of an open file descriptor, or of a path (not following a final symlink).
Expected<FileIdentity> identity_of_fd(int fd);
Expected<FileIdentity> identity_of_path(const std::string& path);

// Creates `dir` and its parents when missing.
Expected<void> make_directories(const std::string& dir);

// Moves `path` into `dir` (created when missing) under its own name, or `<name>.1`, `<name>.2`, …
// when that name is taken. Falls back to copy + fsync + unlink across file systems. Returns the
// new path.
Expected<std::string> move_into_directory(const std::string& path, const std::string& dir);

// A secret (token, password) the service user alone may read: refused with "<what> <path> is open
// to group/others (mode 0644); chmod 600 it", or "<what> <path>: <reason>" when it cannot be
// examined. The caller reads it afterwards.
Expected<void> check_private_file(const std::string& what, const std::string& path);

// Writes `content` to `path` through a temporary file, fsync and rename.
Expected<void> write_file_atomically(const std::string& path, const std::string& content);

// Deletes a file; a file already gone is fine.
Expected<void> remove_file(const std::string& path);

// fsync of a directory, so a rename or unlink in it survives a power loss.
void sync_directory(const std::string& dir);

// Names of the entries of `dir` (no "." and ".."), sorted.
Expected<std::vector<std::string>> list_directory(const std::string& dir);

}  // namespace xnode::io
