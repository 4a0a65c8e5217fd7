#include "io/sqlite/write_counter.hpp"

#include <sqlite3.h>

#include <atomic>
#include <mutex>

#include "io/sqlite/database.hpp"

namespace xnode::io::sqlite {

namespace {

std::atomic<std::uint64_t> g_written{0};
sqlite3_vfs* g_real = nullptr;  // the VFS we wrap
sqlite3_vfs g_vfs{};

// Our file object: SQLite allocates szOsFile bytes; the real VFS's file follows ours.
struct CountingFile {
  sqlite3_file base;
  sqlite3_file* real;
};

sqlite3_file* real_of(sqlite3_file* f) { return reinterpret_cast<CountingFile*>(f)->real; }

int c_close(sqlite3_file* f) {
  sqlite3_file* r = real_of(f);
  return r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
}
int c_read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  return real_of(f)->pMethods->xRead(real_of(f), buf, amount, offset);
}
int c_write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  const int rc = real_of(f)->pMethods->xWrite(real_of(f), buf, amount, offset);
  if (rc == SQLITE_OK) g_written.fetch_add(static_cast<std::uint64_t>(amount), std::memory_order_relaxed);
  return rc;
}
int c_truncate(sqlite3_file* f, sqlite3_int64 size) { return real_of(f)->pMethods->xTruncate(real_of(f), size); }
int c_sync(sqlite3_file* f, int flags) { return real_of(f)->pMethods->xSync(real_of(f), flags); }
int c_file_size(sqlite3_file* f, sqlite3_int64* size) { return real_of(f)->pMethods->xFileSize(real_of(f), size); }
int c_lock(sqlite3_file* f, int level) { return real_of(f)->pMethods->xLock(real_of(f), level); }
int c_unlock(sqlite3_file* f, int level) { return real_of(f)->pMethods->xUnlock(real_of(f), level); }
int c_check_reserved(sqlite3_file* f, int* out) {
  return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
int c_file_control(sqlite3_file* f, int op, void* arg) {
  return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
int c_sector_size(sqlite3_file* f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }
int c_device_characteristics(sqlite3_file* f) {
  return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
int c_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return real_of(f)->pMethods->xShmMap(real_of(f), page, size, extend, out);
}
int c_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
void c_shm_barrier(sqlite3_file* f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); }
int c_shm_unmap(sqlite3_file* f, int del) { return real_of(f)->pMethods->xShmUnmap(real_of(f), del); }
int c_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  return real_of(f)->pMethods->xFetch(real_of(f), offset, amount, out);
}
int c_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  return real_of(f)->pMethods->xUnfetch(real_of(f), offset, p);
}

// Version 1 methods for files whose real methods are version 1 (no shared memory, no mmap);
// version 3 for the rest (the unix VFS's database and WAL files).
const sqlite3_io_methods kMethodsV1 = {1, c_close, c_read, c_write, c_truncate, c_sync, c_file_size, c_lock,
                                       c_unlock, c_check_reserved, c_file_control, c_sector_size,
                                       c_device_characteristics, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
const sqlite3_io_methods kMethodsV3 = {3, c_close, c_read, c_write, c_truncate, c_sync, c_file_size, c_lock,
                                       c_unlock, c_check_reserved, c_file_control, c_sector_size,
                                       c_device_characteristics, c_shm_map, c_shm_lock, c_shm_barrier, c_shm_unmap,
                                       c_fetch, c_unfetch};

int c_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* file = reinterpret_cast<CountingFile*>(f);
  file->real = reinterpret_cast<sqlite3_file*>(file + 1);
  file->real->pMethods = nullptr;
  const int rc = g_real->xOpen(g_real, name, file->real, flags, out_flags);
  // SQLite calls xClose only when pMethods is set, even after a failed open.
  if (file->real->pMethods == nullptr) {
    f->pMethods = nullptr;
    return rc;
  }
  f->pMethods = file->real->pMethods->iVersion >= 3 ? &kMethodsV3 : &kMethodsV1;
  return rc;
}

int v_delete(sqlite3_vfs*, const char* name, int sync_dir) { return g_real->xDelete(g_real, name, sync_dir); }
int v_access(sqlite3_vfs*, const char* name, int flags, int* out) { return g_real->xAccess(g_real, name, flags, out); }
int v_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_real->xFullPathname(g_real, name, n, out);
}
void* v_dl_open(sqlite3_vfs*, const char* name) { return g_real->xDlOpen(g_real, name); }
void v_dl_error(sqlite3_vfs*, int n, char* out) { g_real->xDlError(g_real, n, out); }
void (*v_dl_sym(sqlite3_vfs*, void* h, const char* sym))(void) { return g_real->xDlSym(g_real, h, sym); }
void v_dl_close(sqlite3_vfs*, void* h) { g_real->xDlClose(g_real, h); }
int v_randomness(sqlite3_vfs*, int n, char* out) { return g_real->xRandomness(g_real, n, out); }
int v_sleep(sqlite3_vfs*, int us) { return g_real->xSleep(g_real, us); }
int v_current_time(sqlite3_vfs*, double* out) { return g_real->xCurrentTime(g_real, out); }
int v_get_last_error(sqlite3_vfs*, int n, char* out) {
  return g_real->xGetLastError ? g_real->xGetLastError(g_real, n, out) : 0;
}
int v_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) { return g_real->xCurrentTimeInt64(g_real, out); }

}  // namespace

bool install_write_counter() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    install_error_log();  // must precede SQLite's initialisation, which vfs_find triggers
    g_real = sqlite3_vfs_find(nullptr);
    if (!g_real || g_real->iVersion < 2) return;
    g_vfs.iVersion = 2;  // no system-call overrides: those stay with the real VFS
    g_vfs.szOsFile = static_cast<int>(sizeof(CountingFile)) + g_real->szOsFile;
    g_vfs.mxPathname = g_real->mxPathname;
    g_vfs.zName = "xnode-write-counter";
    g_vfs.xOpen = c_open;
    g_vfs.xDelete = v_delete;
    g_vfs.xAccess = v_access;
    g_vfs.xFullPathname = v_full_pathname;
    g_vfs.xDlOpen = v_dl_open;
    g_vfs.xDlError = v_dl_error;
    g_vfs.xDlSym = v_dl_sym;
    g_vfs.xDlClose = v_dl_close;
    g_vfs.xRandomness = v_randomness;
    g_vfs.xSleep = v_sleep;
    g_vfs.xCurrentTime = v_current_time;
    g_vfs.xGetLastError = v_get_last_error;
    g_vfs.xCurrentTimeInt64 = v_current_time_int64;
    ok = sqlite3_vfs_register(&g_vfs, 1) == SQLITE_OK;
  });
  return ok;
}

std::uint64_t bytes_written() { return g_written.load(std::memory_order_relaxed); }

}  // namespace xnode::io::sqlite
