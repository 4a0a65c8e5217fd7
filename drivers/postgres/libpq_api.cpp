#include "drivers/postgres/libpq_api.hpp"

#include <dlfcn.h>

#include <memory>
#include <mutex>
#include <string>

namespace xnode::drivers::postgres {
namespace {

// dlerror() is per-thread state: read it right after the failing call, on the same thread.
std::string last_dl_error() {
  const char* text = ::dlerror();
  return text ? text : "unknown dlopen error";
}

template <typename Function>
bool resolve(void* handle, const char* name, Function& slot, std::string& missing) {
  // POSIX: a data pointer from dlsym converts to a function pointer; reinterpret_cast is the
  // sanctioned spelling of that conversion on every platform the daemon runs on.
  void* address = ::dlsym(handle, name);
  if (!address) {
    if (!missing.empty()) missing += ", ";
    missing += name;
    return false;
  }
  slot = reinterpret_cast<Function>(address);
  return true;
}

}  // namespace

Expected<const LibpqApi*> load_libpq(const char* library) {
  ::dlerror();  // clear a stale message
  // RTLD_LOCAL: libpq's dependencies (libssl 3, libcrypto 3) stay out of the global symbol
  // namespace, so they can never interpose on the daemon's own symbols. RTLD_NOW: a broken
  // library fails here, with a message, rather than on the first query.
  void* handle = ::dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!handle) return make_error(std::string(library) + " not found: install libpq5 (" + last_dl_error() + ")");

  auto api = std::make_unique<LibpqApi>();
  std::string missing;
#define XNODE_RESOLVE(name) resolve(handle, #name, api->name, missing)
  XNODE_RESOLVE(PQconnectdbParams);
  XNODE_RESOLVE(PQstatus);
  XNODE_RESOLVE(PQerrorMessage);
  XNODE_RESOLVE(PQparameterStatus);
  XNODE_RESOLVE(PQfinish);
  XNODE_RESOLVE(PQgetCancel);
  XNODE_RESOLVE(PQcancel);
  XNODE_RESOLVE(PQfreeCancel);
  XNODE_RESOLVE(PQexecParams);
  XNODE_RESOLVE(PQresultStatus);
  XNODE_RESOLVE(PQresultErrorField);
  XNODE_RESOLVE(PQresultErrorMessage);
  XNODE_RESOLVE(PQclear);
  XNODE_RESOLVE(PQntuples);
  XNODE_RESOLVE(PQnfields);
  XNODE_RESOLVE(PQfname);
  XNODE_RESOLVE(PQfnumber);
  XNODE_RESOLVE(PQftype);
  XNODE_RESOLVE(PQgetisnull);
  XNODE_RESOLVE(PQgetvalue);
  XNODE_RESOLVE(PQgetlength);
#undef XNODE_RESOLVE
  if (!missing.empty()) {
    ::dlclose(handle);
    return make_error(std::string(library) + " is not a usable libpq: missing " + missing + " (install libpq5)");
  }
  // The handle is never closed: the table points into the library for the life of the process.
  return api.release();
}

Expected<const LibpqApi*> libpq() {
  static std::mutex mutex;
  static const LibpqApi* loaded = nullptr;
  std::lock_guard lock(mutex);
  if (loaded) return loaded;
  auto api = load_libpq(kLibpqSoname);
  if (!api) return api.error();
  loaded = *api;
  return loaded;
}

}  // namespace xnode::drivers::postgres
