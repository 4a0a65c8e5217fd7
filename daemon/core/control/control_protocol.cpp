#include "core/control/control_protocol.hpp"

#include <charconv>

#include "core/base/json.hpp"

namespace xnode::control {

namespace {

const char* mode_name(Mode m) { return m == Mode::run ? "run" : "note"; }

// Only the members named may appear: an unknown member is a client of another version.
Expected<void> only_members(const json::Value& v, std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : v.as_object()) {
    bool known = false;
    for (auto a : allowed) known = known || name == a;
    if (!known) return Error("unknown member '" + name + "'");
  }
  return {};
}

Expected<std::string> short_string(const json::Value& v, std::string_view name, std::size_t max) {
  const json::Value* m = v.find(name);
  if (!m) return std::string();
  if (!m->is_string()) return Error(std::string(name) + ": not a string");
  if (m->as_string().size() > max) return Error(std::string(name) + ": longer than " + std::to_string(max) + " bytes");
  return m->as_string();
}

}  // namespace

std::string encode_request(const Request& r) {
  json::Value v = json::Value::object();
  v.set("v", 1);
  v.set("mode", mode_name(r.mode));
  json::Value argv = json::Value::array();
  for (const auto& a : r.argv) argv.push_back(a);
  v.set("argv", std::move(argv));
  if (r.mode == Mode::note) {
    v.set("result", r.result);
    if (!r.detail.empty()) v.set("detail", r.detail);
  }
  return json::serialize(v) + "\n";
}

std::string encode_response(const Response& r) {
  json::Value v = json::Value::object();
  v.set("ok", r.ok);
  v.set("exit", r.exit);
  if (!r.output.empty()) v.set("output", r.output);
  if (!r.error.empty()) v.set("error", r.error);
  return json::serialize(v) + "\n";
}

Expected<Request> decode_request(std::string_view line) {
  if (line.size() > kMaxRequestBytes) return Error("request longer than " + std::to_string(kMaxRequestBytes) + " bytes");
  json::ParseOptions po;
  po.max_depth = 4;
  auto parsed = json::parse(line, po);
  if (!parsed) return Error("request: " + parsed.error().message);
  const json::Value& v = *parsed;
  if (!v.is_object()) return Error("request: not a JSON object");
  if (auto known = only_members(v, {"v", "mode", "argv", "result", "detail"}); !known) return Error("request: " + known.error().message);
  const json::Value* ver = v.find("v");
  if (!ver || !ver->is_integer() || ver->as_int() != 1) return Error("request: v must be 1");
  Request r;
  const std::string mode = v.get_string("mode");
  if (mode == "run") r.mode = Mode::run;
  else if (mode == "note") r.mode = Mode::note;
  else return Error("request: mode must be \"run\" or \"note\"");
  const json::Value* argv = v.find("argv");
  if (!argv || !argv->is_array() || argv->as_array().empty()) return Error("request: argv must be a non-empty array");
  if (argv->as_array().size() > kMaxArgs) return Error("argv: at most " + std::to_string(kMaxArgs) + " words");
  for (const auto& a : argv->as_array()) {
    if (!a.is_string()) return Error("argv: every word must be a string");
    if (a.as_string().empty() || a.as_string().size() > kMaxArgBytes)
      return Error("argv: a word must have 1 to " + std::to_string(kMaxArgBytes) + " bytes");
    r.argv.push_back(a.as_string());
  }
  XNODE_TRY(r.result, short_string(v, "result", 32));
  XNODE_TRY(r.detail, short_string(v, "detail", 1024));
  if (r.mode == Mode::note && r.result.empty()) return Error("request: a note needs a result");
  if (r.mode == Mode::run && (!r.result.empty() || !r.detail.empty()))
    return Error("request: result and detail belong to a note");
  return r;
}

Expected<Response> decode_response(std::string_view line) {
  if (line.size() > kMaxResponseBytes) return Error("response longer than " + std::to_string(kMaxResponseBytes) + " bytes");
  auto parsed = json::parse(line);
  if (!parsed) return Error("response: " + parsed.error().message);
  const json::Value& v = *parsed;
  if (!v.is_object()) return Error("response: not a JSON object");
  const json::Value* ok = v.find("ok");
  const json::Value* ex = v.find("exit");
  if (!ok || !ok->is_bool()) return Error("response: ok must be true or false");
  if (!ex || !ex->is_integer() || !ex->as_int() || *ex->as_int() < 0 || *ex->as_int() > 255)
    return Error("response: exit must be an integer 0..255");
  Response r;
  r.ok = ok->as_bool();
  r.exit = static_cast<int>(*ex->as_int());
  XNODE_TRY(r.output, short_string(v, "output", kMaxResponseBytes));
  XNODE_TRY(r.error, short_string(v, "error", kMaxResponseBytes));
  return r;
}

Expected<std::optional<std::string_view>> take_line(std::string_view buffer, std::size_t max_bytes) {
  const auto nl = buffer.find('\n');
  if (nl != std::string_view::npos && nl <= max_bytes) return std::optional<std::string_view>(buffer.substr(0, nl));
  if (buffer.size() > max_bytes) return Error("line longer than " + std::to_string(max_bytes) + " bytes");
  return std::optional<std::string_view>();
}

std::string command_text(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

bool is_mutating(const std::vector<std::string>& argv) {
  return argv.size() >= 2 && argv[0] == "quarantine" && (argv[1] == "retry" || argv[1] == "purge");
}

Expected<QuarantineCommand> parse_quarantine_command(const std::vector<std::string>& argv) {
  if (argv.size() < 2 || argv[0] != "quarantine" || (argv[1] != "retry" && argv[1] != "purge"))
    return Error("not a quarantine retry or purge command");
  QuarantineCommand c;
  c.action = argv[1] == "retry" ? QuarantineCommand::Action::retry : QuarantineCommand::Action::purge;
  for (std::size_t i = 2; i < argv.size(); ++i) {
    const std::string& w = argv[i];
    if (w == "--all") {
      c.all = true;
    } else if (w == "--source" || w == "--before") {
      if (i + 1 >= argv.size()) return Error(w + " needs a value");
      const std::string& value = argv[++i];
      if (w == "--source") {
        if (c.action != QuarantineCommand::Action::retry) return Error("--source goes with quarantine retry");
        c.source = value;
      } else {
        if (c.action != QuarantineCommand::Action::purge) return Error("--before goes with quarantine purge");
        c.before = parse_rfc3339(value);
        if (!c.before) return Error("--before: not an RFC 3339 time: " + value);
      }
    } else if (!w.empty() && w[0] != '-') {
      if (c.id) return Error("one ID at most");
      std::int64_t id = 0;
      auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), id);
      if (ec != std::errc() || p != w.data() + w.size() || id <= 0) return Error("not a quarantine ID: " + w);
      c.id = id;
    } else {
      return Error("unknown option " + w);
    }
  }
  const int selectors = (c.id ? 1 : 0) + (c.all ? 1 : 0) + (c.before ? 1 : 0);
  if (selectors != 1)
    return Error(c.action == QuarantineCommand::Action::retry ? "quarantine retry needs ID or --all [--source S]"
                                                             : "quarantine purge needs ID, --all or --before TIME");
  if (!c.source.empty() && !c.all) return Error("--source goes with --all");
  return c;
}

}  // namespace xnode::control
