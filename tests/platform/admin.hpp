// The platform's admin interface (plain HTTP on loopback, JSON): fault injection while it runs and
// inspection of what it stored. Pure like PlatformService: the server turns HTTP into Request.
//
//   GET  /admin/state                       every node and stream: marks and counters; faults
//   GET  /admin/streams/{node}/{code}       one stream: counters, declared gaps, rejections
//   GET  /admin/records/{node}/{code}       the accepted records, NDJSON in seq order
//   GET  /admin/health/{node}               the latest health report as received (404: none)
//   GET  /admin/audit/{node}                audit acked_through and a re-verification of the chain
//   POST /admin/faults/fail   {"count": N, "retry_after_s": S}   answer the next N requests 503
//   POST /admin/faults/drop   {"count": N, "handle": true}       close without answer after reading
//                                                                the next N (handled first unless
//                                                                "handle": false)
//   POST /admin/faults/delay  {"ms": D}                          delay every answer by D ms
//   POST /admin/faults/clear
//   POST /admin/catalog/refuse {"code": C, "reason": R}         422 for catalog PUTs holding resource C
//                                                                (no reason: accepted again)
//   POST /admin/nodes/{node}/disable | /enable
//   POST /admin/nodes/{node}/config {"version": N, "yaml": "…", "signature": "<base64>"}
#pragma once
#include <chrono>
#include <cstdint>

#include "core/base/time.hpp"
#include "tests/platform/http_types.hpp"
#include "tests/platform/platform_service.hpp"

namespace xnode::platform {

// Faults the server applies to XEP requests (not to admin requests). Single-threaded: the server
// and the admin listener run on one io_context.
struct Faults {
  std::int64_t fail_next = 0;
  std::int64_t retry_after_s = 1;
  std::int64_t drop_next = 0;
  bool drop_after_handling = true;
  std::chrono::milliseconds delay{0};

  // What happened so far (for the admin state answer).
  std::int64_t requests = 0;
  std::int64_t failed = 0;
  std::int64_t dropped = 0;
};

// What the server does with one XEP request after faults are applied.
struct Outcome {
  Response response;
  bool drop = false;  // close the connection without an answer
  std::chrono::milliseconds delay{0};
};

// Applies the faults, then the protocol.
Outcome serve_xep(PlatformService& service, Faults& faults, const Request& request, TimePoint now);

class AdminService {
 public:
  AdminService(PlatformService& service, Faults& faults) : m_service(service), m_faults(faults) {}
  Response handle(const Request& request, TimePoint now);

 private:
  PlatformService& m_service;
  Faults& m_faults;
};

}  // namespace xnode::platform
