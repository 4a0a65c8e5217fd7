// Keeps the platform's copy of the department's slice equal to the department's files
// (platform-api.md §3.2). Pure: the uplink asks poll(now) what to send, performs it, and hands the
// answer back; every decision is made here, from injected time, with no I/O.
//
// The department's files are the source of truth for its slice (domain.md Art. 6–7, 12): on a
// version conflict the node fetches the platform's copy, reports how it drifted (for the audit
// trail), re-bases on the platform's version and sends its own slice again.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/base/json.hpp"
#include "core/base/time.hpp"
#include "core/catalog/problem.hpp"
#include "core/catalog/resource.hpp"

namespace xnode::catalog {

struct CatalogRequest {
  enum class Kind { put, get };
  Kind kind = Kind::put;
  std::string body;               // PUT: {"base_version","sha256","resources"}; GET: empty
  std::int64_t base_version = 0;  // PUT only
  std::string sha256;             // PUT only: the hash of the slice sent
};

// How the platform's copy differs from the local slice, by resource code (sorted).
struct CatalogDrift {
  std::vector<std::string> only_local;     // the platform lacks them
  std::vector<std::string> only_platform;  // the department's files no longer have them
  std::vector<std::string> changed;        // same code, different content
  bool platform_unreadable = false;        // the platform's resources could not be read
  bool empty() const { return only_local.empty() && only_platform.empty() && changed.empty() && !platform_unreadable; }
};

// What an answer meant, for the audit trail and the alarms.
struct CatalogSyncEvent {
  enum class Kind {
    stored,      // PUT 200: the platform holds our slice at `version`
    conflict,    // PUT 409: our base was stale; a GET follows
    reconciled,  // GET 200: `drift` says how the platform's copy differed; a PUT follows unless equal
    rejected,    // PUT 422 (or 400): `problems`; `affected_codes` are held back until the files change
    failed,      // transport error, 5xx, 429…: retried at `retry_at`
  };
  Kind kind = Kind::failed;
  std::int64_t version = 0;
  CatalogDrift drift;
  Problems problems;
  std::vector<std::string> affected_codes;  // 422: resources named by the problems
  bool whole_slice_affected = false;        // 422/400 with problems not tied to a known resource
  TimePoint retry_at{};
  std::string message;
};

class CatalogSync {
 public:
  // The last state the platform confirmed (persisted by the caller across restarts).
  struct Confirmed {
    std::int64_t version = 0;
    std::string sha256;
    friend bool operator==(const Confirmed&, const Confirmed&) = default;
  };

  explicit CatalogSync(std::optional<Confirmed> confirmed = std::nullopt);

  // The local slice, at start and after every valid reload of the catalog files.
  void set_local(const Slice& slice);
  // `catalog_version` of a hello answer (§3.1).
  void on_hello(std::int64_t platform_version);

  // The request to send now, if any; marks it in flight until the answer is handed back.
  std::optional<CatalogRequest> poll(TimePoint now);

  // The answer to the request in flight: HTTP status and parsed JSON body (null when none/unparseable).
  CatalogSyncEvent on_response(int status, const json::Value& body, TimePoint now);
  // No answer (connect, TLS, timeout…). `retry_after` from a 429/503 when given.
  CatalogSyncEvent on_failure(TimePoint now, std::optional<std::chrono::seconds> retry_after = std::nullopt);

  // True when the platform is known to hold exactly the local slice.
  bool in_sync() const;
  // Data of a resource named in the last 422 should wait for a corrected slice.
  bool resource_held(std::string_view code) const;
  const std::optional<Confirmed>& confirmed() const { return m_confirmed; }
  const std::string& local_sha256() const { return m_local_sha; }

 private:
  CatalogSyncEvent on_put_answer(int status, const json::Value& body, TimePoint now);
  CatalogSyncEvent on_get_answer(int status, const json::Value& body, TimePoint now);
  CatalogSyncEvent fail(TimePoint now, std::optional<std::chrono::seconds> retry_after, std::string message);

  Slice m_local;
  std::string m_local_sha;
  bool m_has_local = false;
  std::optional<Confirmed> m_confirmed;
  std::optional<std::int64_t> m_platform_version;
  bool m_need_get = false;
  std::optional<CatalogRequest::Kind> m_in_flight;
  std::string m_in_flight_sha;
  std::string m_rejected_sha;  // a slice the platform refused is not resent until it changes
  std::vector<std::string> m_held_codes;
  bool m_hold_all = false;
  int m_failures = 0;
  int m_conflicts = 0;
  TimePoint m_retry_at{};
};

// Back-off after `failures` consecutive failures: 5 s doubling up to 10 min (the caller may add
// jitter when it arms the timer).
std::chrono::seconds catalog_retry_delay(int failures);

}  // namespace xnode::catalog
