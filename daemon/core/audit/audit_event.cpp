#include "core/audit/audit_event.hpp"

#include "core/audit/actions.hpp"
#include "core/base/sha256.hpp"

namespace xnode::audit {

namespace {

constexpr std::int64_t max_safe_integer = (std::int64_t{1} << 53) - 1;

Expected<void> check_detail_value(const json::Value& v, std::string& path) {
  switch (v.type()) {
    case json::Type::number: {
      auto i = v.as_int();
      if (!v.is_integer() || !i)
        return make_error(path + ": " + v.number_text() + " is not an integer (audit events hold no fractional numbers)");
      if (*i > max_safe_integer || *i < -max_safe_integer)
        return make_error(path + ": " + v.number_text() + " is outside ±(2^53-1)");
      return {};
    }
    case json::Type::string:
      if (!json::valid_utf8(v.as_string())) return make_error(path + ": not valid UTF-8");
      return {};
    case json::Type::array: {
      std::size_t index = 0;
      for (const auto& e : v.as_array()) {
        std::size_t keep = path.size();
        path += "[" + std::to_string(index++) + "]";
        auto r = check_detail_value(e, path);
        if (!r) return r;
        path.resize(keep);
      }
      return {};
    }
    case json::Type::object:
      for (const auto& [key, member] : v.as_object()) {
        if (!json::valid_utf8(key)) return make_error(path + ": a member name is not valid UTF-8");
        std::size_t keep = path.size();
        path += "." + key;
        auto r = check_detail_value(member, path);
        if (!r) return r;
        path.resize(keep);
      }
      return {};
    default: return {};
  }
}

}  // namespace

AuditEntry operator_command(std::uint32_t uid, std::string command, std::string result, json::Value detail) {
  if (!detail.is_object()) detail = json::Value::object();
  detail.set("uid", static_cast<std::int64_t>(uid));
  detail.set("command", command);
  AuditEntry entry;
  entry.actor = "uid:" + std::to_string(uid);
  entry.action = std::string(action::operator_command);
  entry.object = std::move(command);
  entry.result = std::move(result);
  entry.detail = std::move(detail);
  return entry;
}

bool is_hash_text(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Expected<void> check_values(const AuditEvent& event) {
  struct Field {
    const char* name;
    const std::string* text;
  };
  for (const Field& f : {Field{"actor", &event.actor}, Field{"action", &event.action}, Field{"object", &event.object},
                         Field{"result", &event.result}, Field{"prev", &event.prev}}) {
    if (!json::valid_utf8(*f.text)) return make_error(std::string(f.name) + ": not valid UTF-8");
  }
  if (event.action.empty()) return make_error("action: empty");
  if (!parse_rfc3339(event.at)) return make_error("at: '" + event.at + "' is not an RFC 3339 time");
  if (event.seq < 1 || event.seq > max_safe_integer) return make_error("seq: " + std::to_string(event.seq) + " out of range");
  if (!event.detail.is_object()) return make_error("detail: not a JSON object");
  std::string path = "detail";
  return check_detail_value(event.detail, path);
}

// Members in RFC 8785 order (all ASCII names, so byte order): action, actor, at, detail, object,
// prev, result, seq. Written directly rather than through a json::Value: the store hashes tens of
// thousands of events a second and this avoids building and sorting a document for each.
std::string canonical_unhashed(const AuditEvent& e) {
  std::string out;
  out.reserve(256 + e.object.size());
  out += "{\"action\":";
  json::quote_to(out, e.action);
  out += ",\"actor\":";
  json::quote_to(out, e.actor);
  out += ",\"at\":";
  json::quote_to(out, e.at);
  out += ",\"detail\":";
  json::canonical_to(out, e.detail);
  out += ",\"object\":";
  json::quote_to(out, e.object);
  out += ",\"prev\":";
  json::quote_to(out, e.prev);
  out += ",\"result\":";
  json::quote_to(out, e.result);
  out += ",\"seq\":";
  out += std::to_string(e.seq);
  out += '}';
  return out;
}

std::string compute_hash(const AuditEvent& event) { return Sha256::hex(canonical_unhashed(event)); }

json::Value to_json(const AuditEvent& e) {
  json::Object o;
  o.reserve(9);
  o.emplace_back("seq", json::Value(e.seq));
  o.emplace_back("at", json::Value(e.at));
  o.emplace_back("actor", json::Value(e.actor));
  o.emplace_back("action", json::Value(e.action));
  o.emplace_back("object", json::Value(e.object));
  o.emplace_back("result", json::Value(e.result));
  o.emplace_back("detail", e.detail);
  o.emplace_back("prev", json::Value(e.prev));
  o.emplace_back("hash", json::Value(e.hash));
  return json::Value(std::move(o));
}

std::string to_line(const AuditEvent& e) {
  std::string out;
  out.reserve(320 + e.object.size());
  out += "{\"seq\":";
  out += std::to_string(e.seq);
  out += ",\"at\":";
  json::quote_to(out, e.at);
  out += ",\"actor\":";
  json::quote_to(out, e.actor);
  out += ",\"action\":";
  json::quote_to(out, e.action);
  out += ",\"object\":";
  json::quote_to(out, e.object);
  out += ",\"result\":";
  json::quote_to(out, e.result);
  out += ",\"detail\":";
  json::serialize_to(out, e.detail);
  out += ",\"prev\":";
  json::quote_to(out, e.prev);
  out += ",\"hash\":";
  json::quote_to(out, e.hash);
  out += '}';
  return out;
}

Expected<AuditEvent> from_json(const json::Value& v) {
  if (!v.is_object()) return make_error("audit event: not a JSON object");
  for (const auto& [key, member] : v.as_object()) {
    (void)member;
    if (key != "seq" && key != "at" && key != "actor" && key != "action" && key != "object" && key != "result" &&
        key != "detail" && key != "prev" && key != "hash")
      return make_error("audit event: unknown member '" + key + "' (it would not be covered by the hash)");
  }
  AuditEvent e;
  const json::Value* seq = v.find("seq");
  if (!seq || !seq->is_integer() || !seq->as_int()) return make_error("audit event: seq missing or not an integer");
  e.seq = *seq->as_int();
  auto text = [&](const char* name, std::string& out) -> Expected<void> {
    const json::Value* m = v.find(name);
    if (!m || !m->is_string())
      return make_error("audit event " + std::to_string(e.seq) + ": " + name + " missing or not a string");
    out = m->as_string();
    return {};
  };
  for (auto [name, field] : {std::pair<const char*, std::string*>{"at", &e.at}, {"actor", &e.actor},
                             {"action", &e.action}, {"object", &e.object}, {"result", &e.result},
                             {"prev", &e.prev}, {"hash", &e.hash}}) {
    auto r = text(name, *field);
    if (!r) return r.error();
  }
  const json::Value* detail = v.find("detail");
  if (!detail || !detail->is_object())
    return make_error("audit event " + std::to_string(e.seq) + ": detail missing or not an object");
  e.detail = *detail;
  auto checked = check_values(e);
  if (!checked) return make_error("audit event " + std::to_string(e.seq) + ": " + checked.error().message);
  return e;
}

Expected<AuditEvent> parse_line(std::string_view line) {
  XNODE_TRY(json::Value v, json::parse(line));
  return from_json(v);
}

}  // namespace xnode::audit
