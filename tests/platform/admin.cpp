#include "tests/platform/admin.hpp"

#include <string_view>

#include "core/base/log.hpp"
#include "core/base/sha256.hpp"

namespace xnode::platform {

Outcome serve_xep(PlatformService& service, Faults& faults, const Request& request, TimePoint now) {
  Outcome out;
  ++faults.requests;
  out.delay = faults.delay;
  if (faults.drop_next > 0) {
    --faults.drop_next;
    ++faults.dropped;
    out.drop = true;
    // Handling first makes the hard case: the platform stored the batch, the node never heard.
    if (faults.drop_after_handling) service.handle(request, now);
    return out;
  }
  if (faults.fail_next > 0) {
    --faults.fail_next;
    ++faults.failed;
    out.response = error_response(503, "busy", "the platform is busy (injected fault)");
    out.response.set_header("Retry-After", std::to_string(faults.retry_after_s));
    return out;
  }
  out.response = service.handle(request, now);
  return out;
}

namespace {

Response not_found(std::string_view what) { return error_response(404, "not_found", what); }

// Splits "{node}/{code…}" (the code may hold '/' or %2F).
bool node_and_code(std::string_view rest, std::string& node, std::string& code) {
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  node = std::string(rest.substr(0, slash));
  return percent_decode(rest.substr(slash + 1), code) && !code.empty();
}

json::Value faults_json(const Faults& f) {
  return json::Value(json::Object{{"fail_next", f.fail_next}, {"retry_after_s", f.retry_after_s},
                                  {"drop_next", f.drop_next}, {"drop_after_handling", f.drop_after_handling},
                                  {"delay_ms", static_cast<std::int64_t>(f.delay.count())},
                                  {"requests", f.requests}, {"failed", f.failed}, {"dropped", f.dropped}});
}

}  // namespace

Response AdminService::handle(const Request& request, TimePoint now) {
  std::string_view path = request.target;
  if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  constexpr std::string_view prefix = "/admin/";
  if (path.substr(0, prefix.size()) != prefix) return not_found("no such admin path");
  std::string_view rest = path.substr(prefix.size());
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";

  json::Value body = json::Value::object();
  if (post && !request.body.empty()) {
    auto parsed = json::parse(request.body);
    if (!parsed || !parsed->is_object()) return error_response(400, "malformed", "the admin body is not a JSON object");
    body = std::move(parsed).value();
  }
  std::string node, code;

  if (get && rest == "state") {
    json::Value state = m_service.state_report();
    state.set("faults", faults_json(m_faults));
    return json_response(200, state);
  }
  if (get && rest == "ping") return json_response(200, json::Value(json::Object{{"ok", true}}));
  if (get && rest.substr(0, 8) == "streams/") {
    if (!node_and_code(rest.substr(8), node, code)) return not_found("use /admin/streams/{node}/{code}");
    auto report = m_service.stream_report(node, code);
    if (!report) return not_found("no stream " + code + " for node " + node);
    return json_response(200, *report);
  }
  if (get && rest.substr(0, 8) == "records/") {
    if (!node_and_code(rest.substr(8), node, code)) return not_found("use /admin/records/{node}/{code}");
    Response r;
    for (const auto& line : m_service.records(node, code)) {
      r.body += line;
      r.body += '\n';
    }
    r.set_header("Content-Type", "application/x-ndjson");
    return r;
  }
  if (get && rest.substr(0, 7) == "health/") {
    auto report = m_service.latest_health(std::string(rest.substr(7)));
    if (!report) return not_found("no health report from " + std::string(rest.substr(7)));
    Response r;
    r.body = *report;
    r.set_header("Content-Type", "application/json");
    return r;
  }
  if (get && rest.substr(0, 6) == "audit/") return json_response(200, m_service.audit_report(std::string(rest.substr(6))));

  if (post && rest == "faults/fail") {
    m_faults.fail_next = body.get_int("count", 1);
    m_faults.retry_after_s = body.get_int("retry_after_s", 1);
    log::notice("admin", "the next " + std::to_string(m_faults.fail_next) + " request(s) fail with 503");
    return json_response(200, faults_json(m_faults));
  }
  if (post && rest == "faults/drop") {
    m_faults.drop_next = body.get_int("count", 1);
    m_faults.drop_after_handling = body.get_bool("handle", true);
    log::notice("admin", "the connection is dropped after reading each of the next " +
                             std::to_string(m_faults.drop_next) + " request(s)");
    return json_response(200, faults_json(m_faults));
  }
  if (post && rest == "faults/delay") {
    m_faults.delay = std::chrono::milliseconds(body.get_int("ms", 0));
    log::notice("admin", "answers are delayed by " + std::to_string(m_faults.delay.count()) + " ms");
    return json_response(200, faults_json(m_faults));
  }
  if (post && rest == "catalog/refuse") {
    const std::string refused_code = body.get_string("code");
    const std::string reason = body.get_string("reason");
    if (refused_code.empty()) return error_response(400, "malformed", "catalog/refuse needs code (and reason; none lifts it)");
    m_service.refuse_resource(refused_code, reason);
    log::notice("admin", reason.empty() ? "resource " + refused_code + " accepted again"
                                        : "resource " + refused_code + " refused in catalog PUTs: " + reason);
    return json_response(200, json::Value(json::Object{{"code", refused_code}, {"refused", !reason.empty()}}));
  }
  if (post && rest == "faults/clear") {
    m_faults.fail_next = m_faults.drop_next = 0;
    m_faults.delay = std::chrono::milliseconds(0);
    return json_response(200, faults_json(m_faults));
  }
  if (post && rest.substr(0, 6) == "nodes/") {
    std::string_view tail = rest.substr(6);
    auto slash = tail.rfind('/');
    if (slash == std::string_view::npos || slash == 0) return not_found("use /admin/nodes/{node}/{disable|enable|config}");
    node = std::string(tail.substr(0, slash));
    std::string_view action = tail.substr(slash + 1);
    if (action == "disable" || action == "enable") {
      m_service.set_disabled(node, action == "disable", now);
      return json_response(200, json::Value(json::Object{{"node_id", node}, {"disabled", action == "disable"}}));
    }
    if (action == "config") {
      auto version = body.find("version") ? body.find("version")->as_int() : std::nullopt;
      const json::Value* yaml = body.find("yaml");
      const json::Value* signature = body.find("signature");
      if (!version || *version < 1 || !yaml || !yaml->is_string() || !signature || !signature->is_string())
        return error_response(400, "malformed", "config needs version (integer ≥ 1), yaml and signature (strings)");
      // Placed as given, even when inconsistent: tests check that the node refuses such pushes.
      m_service.place_config(node, WaitingConfig{*version, yaml->as_string(), signature->as_string()}, now);
      return json_response(200, json::Value(json::Object{{"node_id", node}, {"version", *version}}));
    }
    return not_found("unknown node action");
  }
  if (!get && !post) return error_response(405, "method_not_allowed", "GET or POST");
  return not_found("no such admin path");
}

}  // namespace xnode::platform
