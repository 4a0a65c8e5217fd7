// libpq, loaded at run time: the postgres driver's one door to libpq.
//
// Why not link it: libpq pulls in libssl, libcrypto, GSSAPI/Kerberos, LDAP, GnuTLS and p11-kit —
// some 4-5 MiB of resident memory and start-up work in every daemon, also in the many that only
// read spool directories, on a gateway with an RSS budget of 16 MiB. So `xnoded` does not link
// libpq; the first postgres source to connect loads libpq.so.5 with dlopen and resolves exactly
// the functions below. libpq-fe.h is included for the types and the signatures only.
#pragma once
#include <libpq-fe.h>

#include "core/base/expected.hpp"

namespace xnode::drivers::postgres {

// The PQ* functions the driver calls, with libpq's own signatures.
struct LibpqApi {
  decltype(&::PQconnectdbParams) PQconnectdbParams;
  decltype(&::PQstatus) PQstatus;
  decltype(&::PQerrorMessage) PQerrorMessage;
  decltype(&::PQparameterStatus) PQparameterStatus;
  decltype(&::PQfinish) PQfinish;
  decltype(&::PQgetCancel) PQgetCancel;
  decltype(&::PQcancel) PQcancel;
  decltype(&::PQfreeCancel) PQfreeCancel;
  decltype(&::PQexecParams) PQexecParams;
  decltype(&::PQresultStatus) PQresultStatus;
  decltype(&::PQresultErrorField) PQresultErrorField;
  decltype(&::PQresultErrorMessage) PQresultErrorMessage;
  decltype(&::PQclear) PQclear;
  decltype(&::PQntuples) PQntuples;
  decltype(&::PQnfields) PQnfields;
  decltype(&::PQfname) PQfname;
  decltype(&::PQfnumber) PQfnumber;
  decltype(&::PQftype) PQftype;
  decltype(&::PQgetisnull) PQgetisnull;
  decltype(&::PQgetvalue) PQgetvalue;
  decltype(&::PQgetlength) PQgetlength;
};

// The library the daemon asks for: the soname of Debian's libpq5 (ABI stable since PostgreSQL 8.4).
inline constexpr const char* kLibpqSoname = "libpq.so.5";

// libpq's function table, loaded on the first call and kept for the life of the process.
// Thread-safe. A failure is not remembered: the next call tries again, so installing libpq5 on a
// running box heals the source at its next retry without a restart.
// Errors: "libpq.so.5 not found: install libpq5 (<dlerror>)", or the missing symbol when the
// library found is not a usable libpq.
Expected<const LibpqApi*> libpq();

// The same for any library path (tests: a missing file, a library without the PQ* symbols).
// Does not touch the process-wide table; a success stays loaded (never dlclose'd).
Expected<const LibpqApi*> load_libpq(const char* library);

}  // namespace xnode::drivers::postgres
