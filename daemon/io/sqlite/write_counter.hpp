// Counts the bytes SQLite writes to files (database, WAL, journals), process-wide, by putting a
// thin VFS in front of the default one. For figures on flash wear where the kernel's per-process
// I/O accounting (/proc/self/io write_bytes) is not available (e.g. tmpfs, some containers).
#pragma once
#include <cstdint>

namespace xnode::io::sqlite {

// Registers the counting VFS as SQLite's default. Call before opening any database; later calls
// do nothing. Returns false when SQLite refused the registration.
bool install_write_counter();
// Bytes passed to the files' xWrite since install_write_counter().
std::uint64_t bytes_written();

}  // namespace xnode::io::sqlite
