#include "app/ctl.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "app/configuration.hpp"
#include "app/control_client.hpp"

#include <yaml-cpp/yaml.h>
#include "core/base/json.hpp"
#include "core/base/time.hpp"
#include "io/queue/queue_inspect.hpp"
#include "io/stores/audit_reader.hpp"
#include "io/stores/audit_store.hpp"
#include "core/audit/audit_event.hpp"
#include "core/control/control_protocol.hpp"

namespace xnode::app {
namespace {

struct Args {
  std::string config = "/etc/xnode/xnode.yaml";
  std::vector<std::string> words;
  std::map<std::string, std::string> options;  // --name value
  std::map<std::string, bool> flags;           // --json
  std::vector<std::string> argv;               // the command as typed, without -c CONFIG (for the audit)
  bool has(const std::string& f) const { return flags.count(f) != 0; }
  std::string opt(const std::string& name, std::string fallback = {}) const {
    auto it = options.find(name);
    return it == options.end() ? fallback : it->second;
  }
};

const char* kUsage =
    "usage: xnodectl [-c CONFIG] COMMAND\n"
    "  status [--json]                       link, alarms, streams, sources, quarantine\n"
    "  queue streams                         per stream: pending, bytes, oldest, last seq, acked\n"
    "  queue show STREAM [--from SEQ] [--limit N]   pending records as they would be sent\n"
    "  queue gaps                            evicted ranges not yet declared to the platform\n"
    "  quarantine list [--limit N]           newest first\n"
    "  quarantine show ID                    one entry in full\n"
    "  quarantine export                     every entry as NDJSON on stdout\n"
    "  quarantine retry ID|--all [--source S]   check again against today's catalog; queue what passes\n"
    "  quarantine purge ID|--all|--before T     delete entries (T: RFC 3339)\n"
    "  audit verify                          check the audit chain; names an edited, deleted or reordered event\n"
    "  audit export [--since T] [--until T]  events as NDJSON (T: RFC 3339)\n"
    "CONFIG defaults to $XNODE_CONFIG, then /etc/xnode/xnode.yaml.\n"
    "Every command is audited with the calling uid (through xnoded's control socket, or in the audit\n"
    "database when xnoded is not running); retry and purge need a running xnoded.\n";

int fail(const std::string& msg) {
  std::fprintf(stderr, "xnodectl: %s\n", msg.c_str());
  return 1;
}

struct Paths {
  std::string queue, audit, status_file, control_socket;
  std::string error;
};

Paths resolve_paths(const Args& a) {
  // Once a process: the command and its audit note both need the paths (and the warning about a
  // refused configuration is printed once).
  static std::optional<Paths> resolved;
  if (resolved) return *resolved;
  Paths& p = resolved.emplace();
  auto checked = check_configuration(a.config, /*check_tls_files=*/false);
  if (checked.config) {
    p.queue = checked.config->queue.path;
    p.audit = checked.config->audit.path;
    p.status_file = checked.config->health.status_file;
    p.control_socket = checked.config->health.control_socket;
  } else {
    p.error = a.config + ": " + (checked.errors.empty() ? "cannot be read" : checked.errors.front());
    // An operator looks at the node most when a push went wrong: read just the three paths
    // leniently (the daemon keeps running on its last good configuration meanwhile).
    try {
      const YAML::Node root = YAML::LoadFile(a.config);
      const std::filesystem::path base = std::filesystem::path(a.config).parent_path();
      auto path_of = [&](const char* section, const char* key, const char* fallback) {
        std::string v = fallback;
        if (root[section] && root[section][key] && root[section][key].IsScalar()) v = root[section][key].as<std::string>();
        std::filesystem::path fp(v);
        return (fp.is_relative() ? base / fp : fp).string();
      };
      p.queue = path_of("queue", "path", "/var/lib/xnode/queue.db");
      p.audit = path_of("audit", "path", "/var/lib/xnode/audit.db");
      p.status_file = path_of("health", "status_file", "/run/xnode/status.json");
      p.control_socket = path_of("health", "control_socket", "/run/xnode/control.sock");
      std::fprintf(stderr, "xnodectl: warning: %s\n", p.error.c_str());
    } catch (const std::exception&) {
    }
  }
  if (a.options.count("queue")) p.queue = a.opt("queue");
  if (a.options.count("audit")) p.audit = a.opt("audit");
  if (a.options.count("status-file")) p.status_file = a.opt("status-file");
  if (a.options.count("control-socket")) p.control_socket = a.opt("control-socket");
  return p;
}

std::string human_bytes(std::uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string human_age(std::int64_t s) {
  if (s < 0) return "-";
  char buf[32];
  if (s < 120) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  else if (s < 7200) std::snprintf(buf, sizeof buf, "%lldm", static_cast<long long>(s / 60));
  else if (s < 172800) std::snprintf(buf, sizeof buf, "%lldh", static_cast<long long>(s / 3600));
  else std::snprintf(buf, sizeof buf, "%lldd", static_cast<long long>(s / 86400));
  return buf;
}

// A plain text table: columns padded to their widest cell (display width of UTF-8 counted by code point).
void print_table(const std::vector<std::vector<std::string>>& rows) {
  auto width = [](const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s)
      if ((c & 0xC0) != 0x80) ++n;
    return n;
  };
  std::vector<std::size_t> w;
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (w.size() <= i) w.push_back(0);
      w[i] = std::max(w[i], width(r[i]));
    }
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line.append(w[i] - width(r[i]) + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

std::optional<json::Value> read_status_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  auto v = json::parse(ss.str());
  if (!v || !v->is_object()) return std::nullopt;
  return std::move(*v);
}

bool daemon_alive(const json::Value& status) {
  const json::Value* node = status.find("xnoded");
  if (!node) return false;
  auto pid = node->get_int("pid", 0);
  if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) != 0) return false;
  auto written = parse_rfc3339(node->get_string("written_at"));
  return written && Clock::now() - *written < std::chrono::seconds(30);
}

int cmd_status(const Args& a) {
  Paths p = resolve_paths(a);
  if (p.queue.empty()) return fail(p.error);
  std::optional<json::Value> status = p.status_file.empty() ? std::nullopt : read_status_file(p.status_file);
  bool alive = status && daemon_alive(*status);

  auto inspector = io::QueueInspector::open(p.queue);
  std::optional<io::QueueStats> stats;
  if (inspector) {
    auto s = inspector->stats();
    if (s) stats = std::move(*s);
  }
  const TimePoint now = Clock::now();

  if (a.has("json")) {
    json::Value doc = status ? *status : json::Value::object();
    doc.set("daemon_running", alive);
    if (stats) {
      json::Value q = doc.find("queue") ? *doc.find("queue") : json::Value::object();
      std::uint64_t records = 0, bytes = 0;
      std::optional<TimePoint> oldest;
      json::Value streams = json::Value::object();
      for (const auto& st : stats->streams) {
        records += st.pending;
        bytes += st.bytes;
        if (st.oldest && (!oldest || *st.oldest < *oldest)) oldest = st.oldest;
        json::Value s = json::Value::object();
        s.set("pending", static_cast<unsigned long long>(st.pending));
        s.set("acked_through", static_cast<unsigned long long>(st.acked_through));
        s.set("last_seq", static_cast<unsigned long long>(st.last_seq));
        s.set("bytes", static_cast<unsigned long long>(st.bytes));
        s.set("evicted", static_cast<unsigned long long>(st.evicted));
        streams.set(st.stream, std::move(s));
      }
      q.set("records", static_cast<unsigned long long>(records));
      q.set("bytes", static_cast<unsigned long long>(bytes));
      q.set("oldest_age_s", oldest ? static_cast<long long>(std::chrono::duration_cast<Seconds>(now - *oldest).count()) : 0LL);
      q.set("file_bytes", static_cast<unsigned long long>(stats->file_bytes));
      q.set("streams", std::move(streams));
      doc.set("queue", std::move(q));
      json::Value qu = json::Value::object();
      qu.set("records", static_cast<unsigned long long>(stats->quarantine_records));
      doc.set("quarantine", std::move(qu));
    }
    std::printf("%s\n", json::serialize(doc).c_str());
    return 0;
  }

  if (!alive) std::printf("xnoded: NOT RUNNING (no fresh status in %s)\n", p.status_file.c_str());
  if (status) {
    const json::Value* link = status->find("link");
    if (link) {
      std::string line = "link:   " + link->get_string("state", "?");
      if (auto since = parse_rfc3339(link->get_string("since")))
        line += " for " + human_age(std::chrono::duration_cast<Seconds>(now - *since).count());
      if (!link->get_string("endpoint").empty()) line += " — " + link->get_string("endpoint");
      if (const json::Value* rtt = link->find("rtt_ms"); rtt && rtt->find("p50") && !rtt->find("p50")->is_null())
        line += ", rtt p50 " + rtt->find("p50")->number_text() + " ms p95 " + rtt->find("p95")->number_text() + " ms";
      std::printf("%s\n", line.c_str());
      if (link->get_string("state") != "up" && link->find("cause"))
        std::printf("        cause: %s\n", link->get_string("cause").c_str());
    }
    if (const json::Value* node = status->find("xnoded"))
      std::printf("node:   %s, pid %lld, status written %s\n", status->get_string("node_id").c_str(),
                  static_cast<long long>(node->get_int("pid")), node->get_string("written_at").c_str());
    if (const json::Value* cfg = status->find("config")) {
      std::printf("config: version %lld", static_cast<long long>(cfg->get_int("version")));
      if (const json::Value* e = cfg->find("last_error"); e && e->is_string()) std::printf(" — last push refused: %s", e->as_string().c_str());
      std::printf("\n");
    }
    // Settings a reload took in but cannot apply while running: the operator must restart.
    if (const json::Value* node = status->find("xnoded"))
      if (const json::Value* r = node->find("restart_needed"); r && r->is_string() && !r->as_string().empty())
        std::printf("        restart needed for: %s\n", r->as_string().c_str());
    const json::Value* alarms = status->find("alarms");
    if (alarms && alarms->is_array() && !alarms->as_array().empty()) {
      std::printf("alarms:\n");
      for (const auto& al : alarms->as_array())
        std::printf("  %-8s %-20s %s (since %s)\n", al.get_string("severity").c_str(), al.get_string("id").c_str(),
                    al.get_string("text").c_str(), al.get_string("since").c_str());
    } else {
      std::printf("alarms: none\n");
    }
  }

  if (stats) {
    std::printf("\nqueue:  %s on disk (%s)\n", human_bytes(stats->file_bytes).c_str(), p.queue.c_str());
    std::vector<std::vector<std::string>> rows = {{"STREAM", "PENDING", "BYTES", "OLDEST", "LAST SEQ", "ACKED", "EVICTED"}};
    for (const auto& st : stats->streams)
      rows.push_back({st.stream, std::to_string(st.pending), human_bytes(st.bytes),
                      st.oldest ? human_age(std::chrono::duration_cast<Seconds>(now - *st.oldest).count()) : "-",
                      std::to_string(st.last_seq), std::to_string(st.acked_through), std::to_string(st.evicted)});
    if (rows.size() == 1) rows.push_back({"(no streams yet)", "", "", "", "", "", ""});
    print_table(rows);
    std::printf("\nquarantine: %llu record(s)\n", static_cast<unsigned long long>(stats->quarantine_records));
  } else {
    std::printf("\nqueue:  cannot open %s: %s\n", p.queue.c_str(), inspector ? "stats failed" : inspector.error().message.c_str());
  }

  if (status) {
    const json::Value* node = status->find("xnoded");
    const json::Value* intake = node ? node->find("intake") : nullptr;
    if (intake && intake->is_array() && !intake->as_array().empty()) {
      std::printf("\n");
      std::vector<std::vector<std::string>> rows = {{"SOURCE", "DRIVER", "STATE", "QUEUED", "REJECTED", "NOT SHARED", "LAST ERROR"}};
      for (const auto& s : intake->as_array()) {
        const json::Value* err = s.find("last_error");
        rows.push_back({s.get_string("name"), s.get_string("driver"), s.get_string("state", "?"),
                        std::to_string(s.get_int("accepted")), std::to_string(s.get_int("rejected")),
                        std::to_string(s.get_int("not_shared")), err && err->is_string() ? err->as_string() : "-"});
      }
      print_table(rows);
    }
  }
  return alive || !status ? 0 : 3;
}

int cmd_queue(const Args& a) {
  Paths p = resolve_paths(a);
  if (p.queue.empty()) return fail(p.error);
  auto inspector = io::QueueInspector::open(p.queue);
  if (!inspector) return fail(inspector.error().message);
  const std::string sub = a.words.size() > 1 ? a.words[1] : "streams";
  if (sub == "streams") {
    auto stats = inspector->stats();
    if (!stats) return fail(stats.error().message);
    const TimePoint now = Clock::now();
    std::vector<std::vector<std::string>> rows = {{"STREAM", "PENDING", "BYTES", "STORED", "OLDEST", "LAST SEQ", "ACKED", "EVICTED"}};
    for (const auto& st : stats->streams)
      rows.push_back({st.stream, std::to_string(st.pending), human_bytes(st.bytes), human_bytes(st.stored_bytes),
                      st.oldest ? human_age(std::chrono::duration_cast<Seconds>(now - *st.oldest).count()) : "-",
                      std::to_string(st.last_seq), std::to_string(st.acked_through), std::to_string(st.evicted)});
    print_table(rows);
    return 0;
  }
  if (sub == "show") {
    if (a.words.size() < 3) return fail("queue show needs a STREAM");
    std::uint64_t from = std::strtoull(a.opt("from", "0").c_str(), nullptr, 10);
    std::size_t limit = std::strtoull(a.opt("limit", "20").c_str(), nullptr, 10);
    auto batch = inspector->records(a.words[2], from, UINT64_MAX, limit);
    if (!batch) return fail(batch.error().message);
    std::fwrite(batch->body.data(), 1, batch->body.size(), stdout);
    if (batch->count == 0) std::fprintf(stderr, "no pending records in %s from seq %llu\n", a.words[2].c_str(),
                                        static_cast<unsigned long long>(from));
    return 0;
  }
  if (sub == "gaps") {
    auto gaps = inspector->gaps();
    if (!gaps) return fail(gaps.error().message);
    std::vector<std::vector<std::string>> rows = {{"STREAM", "FROM", "TO", "REASON"}};
    for (const auto& g : *gaps) rows.push_back({g.stream, std::to_string(g.from_seq), std::to_string(g.to_seq), g.reason});
    print_table(rows);
    return 0;
  }
  return fail("unknown queue command '" + sub + "'");
}

json::Value quarantine_json(const io::QuarantineRecord& r) {
  json::Value o = json::Value::object();
  o.set("id", static_cast<long long>(r.id));
  o.set("at", format_rfc3339(r.at));
  o.set("source", r.source);
  o.set("stream", r.stream);
  o.set("origin", r.origin);
  o.set("reason", r.reason);
  o.set("content", r.content);
  return o;
}

int cmd_quarantine(const Args& a) {
  Paths p = resolve_paths(a);
  if (p.queue.empty()) return fail(p.error);
  auto inspector = io::QueueInspector::open(p.queue);
  if (!inspector) return fail(inspector.error().message);
  const std::string sub = a.words.size() > 1 ? a.words[1] : "list";
  if (sub == "list") {
    std::size_t limit = std::strtoull(a.opt("limit", "50").c_str(), nullptr, 10);
    auto list = inspector->quarantine_list(limit, 0, 60);
    if (!list) return fail(list.error().message);
    if (a.has("json")) {
      for (const auto& r : *list) std::printf("%s\n", json::serialize(quarantine_json(r)).c_str());
      return 0;
    }
    std::vector<std::vector<std::string>> rows = {{"ID", "AT", "SOURCE", "ORIGIN", "REASON"}};
    for (const auto& r : *list)
      rows.push_back({std::to_string(r.id), format_rfc3339(r.at), r.source, r.origin, r.reason});
    print_table(rows);
    return 0;
  }
  if (sub == "show") {
    if (a.words.size() < 3) return fail("quarantine show needs an ID");
    auto r = inspector->quarantine_show(std::strtoll(a.words[2].c_str(), nullptr, 10));
    if (!r) return fail(r.error().message);
    std::printf("id:      %lld\nat:      %s\nsource:  %s\nstream:  %s\norigin:  %s\nreason:  %s\ncontent: %s\n",
                static_cast<long long>(r->id), format_rfc3339(r->at).c_str(), r->source.c_str(), r->stream.c_str(),
                r->origin.c_str(), r->reason.c_str(), r->content.c_str());
    return 0;
  }
  if (sub == "export") {
    std::int64_t before = 0;
    while (true) {
      auto list = inspector->quarantine_list(500, before, SIZE_MAX);
      if (!list) return fail(list.error().message);
      if (list->empty()) break;
      for (const auto& r : *list) std::printf("%s\n", json::serialize(quarantine_json(r)).c_str());
      before = list->back().id;
      if (before <= 1) break;
    }
    return 0;
  }
  return fail("unknown quarantine command '" + sub + "'");
}

int cmd_audit(const Args& a) {
  Paths p = resolve_paths(a);
  if (p.audit.empty()) return fail(p.error);
  const std::string sub = a.words.size() > 1 ? a.words[1] : "verify";
  auto reader = io::AuditReader::open(p.audit);
  // (a unique_ptr: the reader keeps its read-only connection)
  if (!reader) return fail(reader.error().message);
  if (sub == "verify") {
    auto report = (*reader)->verify_all();
    if (!report) return fail(report.error().message);
    std::printf("%s\n", report->summary().c_str());
    return report->ok() ? 0 : 1;
  }
  if (sub == "export") {
    std::optional<TimePoint> since, until;
    if (a.options.count("since")) {
      since = parse_rfc3339(a.opt("since"));
      if (!since) return fail("--since: not an RFC 3339 time: " + a.opt("since"));
    }
    if (a.options.count("until")) {
      until = parse_rfc3339(a.opt("until"));
      if (!until) return fail("--until: not an RFC 3339 time: " + a.opt("until"));
    }
    auto n = (*reader)->export_ndjson(since, until, [](std::string_view line) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
      return true;
    });
    if (!n) return fail(n.error().message);
    return 0;
  }
  return fail("unknown audit command '" + sub + "'");
}

constexpr auto kControlTimeout = std::chrono::seconds(130);  // the daemon answers within 120 s

// quarantine retry|purge: performed by the daemon, which audits them with our uid.
int run_in_daemon(const Args& a) {
  Paths p = resolve_paths(a);
  if (p.control_socket.empty())
    return fail("health.control_socket is off in " + a.config + ": '" + control::command_text(a.argv) + "' needs it");
  control::Request req;
  req.mode = control::Mode::run;
  req.argv = a.argv;
  control::Response resp;
  ControlCallError err;
  if (!control_call(p.control_socket, req, kControlTimeout, resp, err)) {
    if (err.not_running)
      return fail("xnoded is not running (" + err.message + "): '" + control::command_text(a.argv) +
                  "' changes the node and needs it; nothing was done");
    return fail(err.message);
  }
  std::fwrite(resp.output.data(), 1, resp.output.size(), stdout);
  if (!resp.ok) std::fprintf(stderr, "xnodectl: %s\n", resp.error.c_str());
  return resp.exit;
}

// A read-only command xnodectl ran itself: the daemon records it with our uid (SO_PEERCRED), or,
// when it does not run, xnodectl appends the event to the same chain through the audit store.
void audit_read_only(const Args& a, int rc) {
  Paths p = resolve_paths(a);
  const std::string result = rc == 0 || rc == 3 ? "ok" : "failed";
  std::string why;
  if (!p.control_socket.empty()) {
    control::Request req;
    req.mode = control::Mode::note;
    req.argv = a.argv;
    req.result = result;
    control::Response resp;
    ControlCallError err;
    if (control_call(p.control_socket, req, std::chrono::seconds(10), resp, err) && resp.ok) return;
    if (!err.not_running) {
      std::fprintf(stderr, "xnodectl: warning: this command was not audited: %s\n",
                   err.message.empty() ? resp.error.c_str() : err.message.c_str());
      return;
    }
    why = err.message;
  }
  std::error_code ec;
  if (p.audit.empty() || !std::filesystem::exists(p.audit, ec)) {
    std::fprintf(stderr, "xnodectl: warning: this command was not audited: no audit database at %s\n", p.audit.c_str());
    return;
  }
  io::AuditStoreOptions o;
  o.path = p.audit;
  auto store = io::AuditStore::open(o);
  if (!store) {
    std::fprintf(stderr, "xnodectl: warning: this command was not audited: %s\n", store.error().message.c_str());
    return;
  }
  if ((*store)->status().chain_broken) {
    // Evidence is not extended by a CLI: the daemon raises the alarm; the operator looks first.
    std::fprintf(stderr, "xnodectl: warning: this command was not audited: the stored audit chain fails verification\n");
    return;
  }
  json::Value d = json::Value::object();
  d.set("gid", static_cast<std::int64_t>(::getgid()));
  d.set("pid", static_cast<std::int64_t>(::getpid()));
  d.set("via", "xnodectl");  // xnoded was not running
  const auto appended = (*store)->append(
      audit::operator_command(static_cast<std::uint32_t>(::getuid()), control::command_text(a.argv), result, std::move(d)),
      Clock::now());
  if (appended != io::AppendResult::queued || !(*store)->flush(std::chrono::seconds(10)))
    std::fprintf(stderr, "xnodectl: warning: this command was not audited: the audit store did not take the event\n");
}

}  // namespace

int ctl_main(int argc, char** argv) {
  Args a;
  if (const char* env = std::getenv("XNODE_CONFIG")) a.config = env;
  for (int i = 1; i < argc; ++i) {
    std::string w = argv[i];
    if (w == "-c" || w == "--config") {
      if (i + 1 >= argc) return fail(w + " needs a file");
      a.config = argv[++i];
      continue;
    }
    a.argv.push_back(w);
    if (w == "-h" || w == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (w == "--json" || w == "--all") {
      a.flags[w.substr(2)] = true;
    } else if (w.rfind("--", 0) == 0) {
      if (i + 1 >= argc) return fail(w + " needs a value");
      a.options[w.substr(2)] = argv[++i];
      a.argv.push_back(argv[i]);
    } else {
      a.words.push_back(w);
    }
  }
  if (a.words.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string& cmd = a.words[0];
  if (control::is_mutating(a.words)) return run_in_daemon(a);
  int rc = 0;
  if (cmd == "status") rc = cmd_status(a);
  else if (cmd == "queue") rc = cmd_queue(a);
  else if (cmd == "quarantine") rc = cmd_quarantine(a);
  else if (cmd == "audit") rc = cmd_audit(a);
  else {
    std::fprintf(stderr, "xnodectl: unknown command '%s'\n%s", cmd.c_str(), kUsage);
    return 2;
  }
  std::fflush(stdout);
  audit_read_only(a, rc);
  return rc;
}

}  // namespace xnode::app
