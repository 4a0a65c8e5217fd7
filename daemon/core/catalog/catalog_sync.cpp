#include "core/catalog/catalog_sync.hpp"

#include <algorithm>
#include <charconv>

#include "core/catalog/resource_json.hpp"
#include "core/catalog/slice_hash.hpp"

namespace xnode::catalog {

namespace {
// Conflicts in a row before the node stops and backs off: two nodes (or an operator on the
// platform) fighting over the slice must not turn into a tight loop.
constexpr int kMaxConflictsInRow = 3;

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}
}  // namespace

std::chrono::seconds catalog_retry_delay(int failures) {
  std::chrono::seconds delay(5);
  for (int i = 1; i < failures && delay < std::chrono::minutes(10); ++i) delay *= 2;
  return std::min<std::chrono::seconds>(delay, std::chrono::minutes(10));
}

CatalogSync::CatalogSync(std::optional<Confirmed> confirmed) : m_confirmed(std::move(confirmed)) {}

void CatalogSync::set_local(const Slice& slice) {
  m_local = slice;
  m_local.sort();
  m_local_sha = slice_sha256(m_local);
  m_has_local = true;
  m_conflicts = 0;
}

void CatalogSync::on_hello(std::int64_t platform_version) {
  m_platform_version = platform_version;
  // Someone else changed the platform's copy since we last saw it, or the node lost its state and
  // the platform holds a slice it does not know: look before overwriting, so the drift is known
  // and audited.
  if (m_confirmed ? m_confirmed->version != platform_version : platform_version > 0) m_need_get = true;
}

bool CatalogSync::in_sync() const {
  return m_has_local && m_confirmed && m_confirmed->sha256 == m_local_sha &&
         (!m_platform_version || *m_platform_version == m_confirmed->version);
}

bool CatalogSync::resource_held(std::string_view code) const {
  if (m_rejected_sha.empty() || m_rejected_sha != m_local_sha) return false;
  return m_hold_all || std::binary_search(m_held_codes.begin(), m_held_codes.end(), code);
}

std::optional<CatalogRequest> CatalogSync::poll(TimePoint now) {
  if (m_in_flight || now < m_retry_at) return std::nullopt;
  if (m_need_get) {
    m_in_flight = CatalogRequest::Kind::get;
    return CatalogRequest{CatalogRequest::Kind::get, {}, 0, {}};
  }
  if (!m_has_local || in_sync() || m_local_sha == m_rejected_sha) return std::nullopt;
  CatalogRequest request;
  request.kind = CatalogRequest::Kind::put;
  request.base_version = m_platform_version.value_or(m_confirmed ? m_confirmed->version : 0);
  request.sha256 = m_local_sha;
  json::Value body = json::Value::object();
  body.set("base_version", request.base_version);
  body.set("sha256", m_local_sha);
  body.set("resources", to_json(m_local));
  request.body = json::serialize(body);
  m_in_flight = CatalogRequest::Kind::put;
  m_in_flight_sha = m_local_sha;
  return request;
}

CatalogSyncEvent CatalogSync::on_response(int status, const json::Value& body, TimePoint now) {
  if (!m_in_flight) {
    CatalogSyncEvent event;
    event.message = "catalog answer without a request in flight (ignored)";
    return event;
  }
  const auto kind = *m_in_flight;
  m_in_flight.reset();
  return kind == CatalogRequest::Kind::put ? on_put_answer(status, body, now) : on_get_answer(status, body, now);
}

CatalogSyncEvent CatalogSync::on_failure(TimePoint now, std::optional<std::chrono::seconds> retry_after) {
  m_in_flight.reset();
  return fail(now, retry_after, "no answer from the platform");
}

CatalogSyncEvent CatalogSync::fail(TimePoint now, std::optional<std::chrono::seconds> retry_after,
                                   std::string message) {
  ++m_failures;
  CatalogSyncEvent event;
  event.kind = CatalogSyncEvent::Kind::failed;
  m_retry_at = now + (retry_after ? *retry_after : catalog_retry_delay(m_failures));
  event.retry_at = m_retry_at;
  event.message = std::move(message);
  return event;
}

CatalogSyncEvent CatalogSync::on_put_answer(int status, const json::Value& body, TimePoint now) {
  CatalogSyncEvent event;
  if (status == 200) {
    auto version = body.find("version") ? body.find("version")->as_int() : std::nullopt;
    if (!version) return fail(now, std::nullopt, "catalog PUT answered 200 without a version");
    m_confirmed = Confirmed{*version, m_in_flight_sha};
    m_platform_version = *version;
    m_failures = 0;
    m_conflicts = 0;
    m_rejected_sha.clear();
    m_held_codes.clear();
    m_hold_all = false;
    event.kind = CatalogSyncEvent::Kind::stored;
    event.version = *version;
    event.message = "platform holds catalog slice version " + std::to_string(*version);
    return event;
  }
  if (status == 409) {
    auto current = body.find("current_version") ? body.find("current_version")->as_int() : std::nullopt;
    if (current) m_platform_version = *current;
    if (++m_conflicts > kMaxConflictsInRow) {
      m_conflicts = 0;
      m_need_get = true;
      return fail(now, std::nullopt, "catalog version conflicts keep recurring; backing off");
    }
    m_need_get = true;
    event.kind = CatalogSyncEvent::Kind::conflict;
    event.version = current.value_or(0);
    event.message = "catalog base version stale (platform at " + std::to_string(event.version) + "); fetching";
    return event;
  }
  if (status == 422 || status == 400) {
    // Permanent for this slice: held until the files change (an edit gives a new hash).
    m_rejected_sha = m_in_flight_sha;
    m_failures = 0;
    event.kind = CatalogSyncEvent::Kind::rejected;
    m_held_codes.clear();
    m_hold_all = false;
    if (const json::Value* problems = body.find("problems"); problems && problems->is_array()) {
      for (const auto& p : problems->as_array()) {
        Problem problem{p.get_string("code"), p.get_string("field"), p.get_string("reason")};
        std::string code = problem.code;
        if (!code.empty() && code[0] == '#') {
          // `#index` names a position in the resources array we sent (sorted by code).
          std::int64_t index = -1;
          const char* digits = code.data() + 1;
          auto parsed = std::from_chars(digits, code.data() + code.size(), index);
          if (parsed.ec != std::errc() || parsed.ptr != code.data() + code.size()) index = -1;
          if (index >= 0 && static_cast<std::size_t>(index) < m_local.resources.size())
            code = m_local.resources[static_cast<std::size_t>(index)].code;
          else
            code.clear();
        }
        if (!code.empty() && m_local.find(code))
          m_held_codes.push_back(code);
        else
          m_hold_all = true;
        event.problems.push_back(std::move(problem));
      }
    }
    if (event.problems.empty()) m_hold_all = true;  // 400, or a 422 without details
    m_held_codes = sorted_unique(std::move(m_held_codes));
    event.affected_codes = m_held_codes;
    event.whole_slice_affected = m_hold_all;
    event.message = status == 422 ? "platform refused the catalog slice: " + std::to_string(event.problems.size()) +
                                        " problem(s)"
                                  : "platform refused the catalog request as malformed: " + body.get_string("message");
    return event;
  }
  std::optional<std::chrono::seconds> retry_after;
  if (const json::Value* r = body.find("retry_after_s"); r && r->as_int()) retry_after = std::chrono::seconds(*r->as_int());
  return fail(now, retry_after, "catalog PUT answered " + std::to_string(status) + " " + body.get_string("error"));
}

CatalogSyncEvent CatalogSync::on_get_answer(int status, const json::Value& body, TimePoint now) {
  if (status != 200)
    return fail(now, std::nullopt, "catalog GET answered " + std::to_string(status) + " " + body.get_string("error"));
  auto version = body.find("version") ? body.find("version")->as_int() : std::nullopt;
  if (!version) return fail(now, std::nullopt, "catalog GET answered without a version");
  m_need_get = false;
  m_failures = 0;
  m_platform_version = *version;

  CatalogSyncEvent event;
  event.kind = CatalogSyncEvent::Kind::reconciled;
  event.version = *version;
  const json::Value* resources = body.find("resources");
  Slice platform;
  if (resources && resources->is_array()) {
    // Read form only: the platform's copy may follow older rules; what matters is how it differs.
    Problems ignored;
    std::size_t index = 0;
    for (const auto& r : resources->as_array())
      platform.resources.push_back(resource_from_json(r, "#" + std::to_string(index++), ignored));
    platform.sort();
  } else {
    event.drift.platform_unreadable = true;
  }
  if (!event.drift.platform_unreadable) {
    for (const auto& local : m_local.resources) {
      const Resource* theirs = platform.find(local.code);
      if (!theirs)
        event.drift.only_local.push_back(local.code);
      else if (!(*theirs == local))
        event.drift.changed.push_back(local.code);
    }
    for (const auto& theirs : platform.resources)
      if (!m_local.find(theirs.code)) event.drift.only_platform.push_back(theirs.code);
  }
  if (!event.drift.platform_unreadable && event.drift.empty() && m_has_local) {
    m_confirmed = Confirmed{*version, m_local_sha};
    event.message = "platform catalog version " + std::to_string(*version) + " equals the local slice";
  } else {
    event.message = "platform catalog version " + std::to_string(*version) +
                    " differs from the department's files; re-basing and sending the local slice";
  }
  return event;
}

}  // namespace xnode::catalog
