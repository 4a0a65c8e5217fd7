#include "tests/platform/platform_service.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "core/base/log.hpp"
#include "core/base/sha256.hpp"
#include "tests/platform/content_digest.hpp"
#include "tests/platform/fast_sha256.hpp"
#include "tests/platform/gzip.hpp"

namespace xnode::platform {

namespace {

constexpr std::string_view kPrefix = "/xep/v1/";
const std::string kZeroHash(64, '0');

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> int_member(const json::Value& obj, std::string_view name) {
  const json::Value* v = obj.find(name);
  if (!v) return std::nullopt;
  return v->as_int();
}

// Events hold strings, integers, booleans, null, objects and arrays — no fractional numbers (§3.6).
bool integers_only(const json::Value& v) {
  switch (v.type()) {
    case json::Type::number: return v.is_integer();
    case json::Type::array:
      return std::all_of(v.as_array().begin(), v.as_array().end(), integers_only);
    case json::Type::object:
      return std::all_of(v.as_object().begin(), v.as_object().end(),
                         [](const json::Member& m) { return integers_only(m.second); });
    default: return true;
  }
}

Response malformed(std::string_view message) { return error_response(400, "malformed", message); }

// Splits an NDJSON body into lines: `\n` separated, one trailing `\n` allowed, no empty line.
bool split_lines(std::string_view body, std::vector<std::string_view>& lines) {
  lines.clear();
  if (body.empty()) return false;
  if (body.back() == '\n') body.remove_suffix(1);
  std::size_t pos = 0;
  for (;;) {
    std::size_t end = body.find('\n', pos);
    std::string_view line = body.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (line.empty() || (line.size() == 1 && line[0] == '\r')) return false;
    lines.push_back(line);
    if (end == std::string_view::npos) return true;
    pos = end + 1;
  }
}

std::string digest16(std::string_view line) {
  auto d = content_digest(line);
  return std::string(reinterpret_cast<const char*>(d.data()), kDigestSize);
}

json::Value counters_json(const StreamCounters& c) {
  return json::Value(json::Object{{"acked_through", c.acked_through}, {"stored", c.stored},
                                  {"duplicates", c.duplicates}, {"mismatches", c.mismatches},
                                  {"rejected", c.rejected}, {"gap_records", c.gap_records},
                                  {"batches", c.batches}});
}

}  // namespace

Response json_response(int status, const json::Value& body) {
  Response r;
  r.status = status;
  r.body = json::serialize(body);
  r.set_header("Content-Type", "application/json");
  return r;
}

Response error_response(int status, std::string_view code, std::string_view message, json::Object extra) {
  json::Object members{{"error", json::Value(code)}, {"message", json::Value(message)}};
  for (auto& m : extra) members.push_back(std::move(m));
  return json_response(status, json::Value(std::move(members)));
}

// The request body after Content-Encoding, and what could be read of it.
struct PlatformService::Body {
  std::string text;          // uncompressed
  bool encoding_ok = true;   // absent, identity or gzip
  bool inflate_ok = true;    // gzip framing valid
  bool too_large = false;    // uncompressed size above max_batch_bytes
  bool gzipped = false;
  std::optional<json::Value> json;  // parsed, for application/json endpoints
  std::string json_error;
};

PlatformService::PlatformService(PlatformStore& store, ServiceOptions options)
    : m_store(store), m_options(options) {
  for (auto& [node_id, state] : m_store.load_nodes()) {
    Node n;
    n.state = std::move(state);
    if (n.state.catalog) {
      auto parsed = json::parse(n.state.catalog->resources_json);
      if (!parsed) throw sql::StoreError("stored catalog of " + node_id + " does not parse: " + parsed.error().message);
      auto check = read_slice(*parsed);
      if (!check.rules)
        throw sql::StoreError("stored catalog of " + node_id + " no longer validates: " +
                              check.problems.front().to_string());
      n.rules = check.rules;
    }
    m_nodes.emplace(node_id, std::move(n));
  }
  for (auto& row : m_store.load_streams()) {
    auto it = m_nodes.find(row.node_id);
    if (it == m_nodes.end()) continue;
    it->second.streams[row.code] = StreamState{row.id, row.counters};
  }
}

PlatformService::Node& PlatformService::node(const std::string& node_id, TimePoint now) {
  auto it = m_nodes.find(node_id);
  if (it != m_nodes.end()) return it->second;
  m_store.ensure_node(node_id, format_rfc3339(now));
  Node n;
  n.state.audit.last_hash = kZeroHash;
  return m_nodes.emplace(node_id, std::move(n)).first->second;
}

PlatformService::StreamState& PlatformService::stream(const std::string& node_id, Node& n, const std::string& code) {
  auto it = n.streams.find(code);
  if (it != n.streams.end()) return it->second;
  StreamState s;
  s.id = m_store.create_stream(node_id, code);
  return n.streams.emplace(code, s).first->second;
}

Response PlatformService::handle(const Request& request, TimePoint now) {
  try {
    Response r = route(request, now);
    if (r.status >= 400) {
      // Refusals are what an operator looks for first when a node does not deliver.
      static log::RateLimit limit(20, std::chrono::seconds(10));
      auto body = json::parse(r.body);
      limit.write(log::Level::notice, "platform",
                  (request.peer_cn.empty() ? std::string("?") : request.peer_cn) + ": " + request.method + " " +
                      request.target + " -> " + std::to_string(r.status) + " " +
                      (body ? body->get_string("error") + ": " + body->get_string("message") : std::string()));
    } else if (log::enabled(log::Level::debug)) {
      log::debug("platform", request.peer_cn + ": " + request.method + " " + request.target + " -> " +
                                 std::to_string(r.status) + " " + r.body.substr(0, 200));
    }
    return r;
  } catch (const std::exception& e) {
    static log::RateLimit limit(5, std::chrono::seconds(10));
    limit.write(log::Level::error, "platform", std::string("internal error on ") + request.method + " " +
                                                   request.target + ": " + e.what());
    return error_response(500, "internal", e.what());
  }
}

Response PlatformService::route(const Request& request, TimePoint now) {
  // --- path and method
  std::string_view path = request.target;
  if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  enum class Endpoint { hello, catalog, batches, gaps, health, audit, config } endpoint;
  std::string code;
  std::vector<std::string_view> allowed;
  if (path.substr(0, kPrefix.size()) != kPrefix) return error_response(404, "not_found", "no such path");
  std::string_view rest = path.substr(kPrefix.size());
  if (rest == "hello") endpoint = Endpoint::hello, allowed = {"POST"};
  else if (rest == "catalog") endpoint = Endpoint::catalog, allowed = {"GET", "PUT"};
  else if (rest == "health") endpoint = Endpoint::health, allowed = {"POST"};
  else if (rest == "audit") endpoint = Endpoint::audit, allowed = {"POST"};
  else if (rest == "config") endpoint = Endpoint::config, allowed = {"GET"};
  else if (rest.substr(0, 8) == "streams/") {
    std::string_view tail = rest.substr(8);
    auto slash = tail.rfind('/');
    if (slash == std::string_view::npos || slash == 0) return error_response(404, "not_found", "no such path");
    std::string_view action = tail.substr(slash + 1);
    if (action == "batches") endpoint = Endpoint::batches;
    else if (action == "gaps") endpoint = Endpoint::gaps;
    else return error_response(404, "not_found", "no such path");
    allowed = {"POST"};
    if (!percent_decode(tail.substr(0, slash), code) || code.empty())
      return error_response(404, "not_found", "the stream code is not validly URL-encoded");
  } else {
    return error_response(404, "not_found", "no such path");
  }
  if (std::find(allowed.begin(), allowed.end(), request.method) == allowed.end()) {
    std::string allow;
    for (auto m : allowed) allow += (allow.empty() ? "" : ", ") + std::string(m);
    auto r = error_response(405, "method_not_allowed", request.method + " is not allowed on " + std::string(path));
    r.set_header("Allow", allow);
    return r;
  }

  // --- identity (header, then a node_id in a JSON body)
  const std::string* claimed = request.header("X-XN-Node");
  if (!claimed) return error_response(403, "identity_mismatch", "X-XN-Node is missing");
  if (*claimed != request.peer_cn)
    return error_response(403, "identity_mismatch",
                          "X-XN-Node \"" + *claimed + "\" differs from the certificate's CN \"" + request.peer_cn + "\"");
  const std::string& node_id = request.peer_cn;

  Body body;
  if (const std::string* enc = request.header("Content-Encoding"); enc && !enc->empty() && !iequals(*enc, "identity")) {
    if (iequals(*enc, "gzip")) {
      body.gzipped = true;
      auto rc = gunzip(request.body, static_cast<std::size_t>(m_options.max_batch_bytes), body.text);
      body.too_large = rc == InflateResult::too_large;
      body.inflate_ok = rc == InflateResult::ok;
    } else {
      body.encoding_ok = false;
    }
  } else {
    body.text = request.body;
    body.too_large = static_cast<std::int64_t>(body.text.size()) > m_options.max_batch_bytes;
  }
  const bool json_body = endpoint == Endpoint::hello || endpoint == Endpoint::health ||
                         endpoint == Endpoint::gaps || (endpoint == Endpoint::catalog && request.method == "PUT");
  if (json_body && body.encoding_ok && body.inflate_ok && !body.too_large) {
    auto parsed = json::parse(body.text);
    if (parsed) {
      if (const json::Value* id = parsed->find("node_id"); id && id->is_string() && id->as_string() != node_id)
        return error_response(403, "identity_mismatch",
                              "node_id \"" + id->as_string() + "\" in the body differs from the certificate's CN");
      body.json = std::move(parsed).value();
    } else {
      body.json_error = parsed.error().message;
    }
  }

  Node& n = node(node_id, now);
  if (n.state.disabled) return error_response(403, "forbidden", "node " + node_id + " is disabled by the bureau");

  // --- stream
  if (endpoint == Endpoint::batches || endpoint == Endpoint::gaps) {
    if (!n.rules || !n.rules->find(code))
      return error_response(404, "unknown_stream", "resource " + code + " is not in the platform's catalog for " + node_id);
  }

  // --- size
  if (body.too_large)
    return error_response(413, "too_large",
                          "the uncompressed body is above max_batch_bytes (" + std::to_string(m_options.max_batch_bytes) + ")",
                          {{"max_batch_bytes", m_options.max_batch_bytes}});

  // --- form (common part)
  if (!body.encoding_ok) return malformed("Content-Encoding " + *request.header("Content-Encoding") + " is not supported (gzip only)");
  if (!body.inflate_ok) return malformed("the body is not a valid gzip stream");
  if (!json::valid_utf8(body.text)) return malformed("the body is not valid UTF-8");
  if (json_body) {
    if (!body.json) return malformed("the body is not JSON: " + body.json_error);
    if (!body.json->is_object()) return malformed("the body is not a JSON object");
  }

  switch (endpoint) {
    case Endpoint::hello: return hello(node_id, n, *body.json, now);
    case Endpoint::catalog:
      return request.method == "PUT" ? put_catalog(node_id, n, *body.json, now) : get_catalog(n);
    case Endpoint::batches: return batches(node_id, n, code, request, body, now);
    case Endpoint::gaps: return gaps(node_id, n, code, *body.json, now);
    case Endpoint::health: return health(node_id, n, body, *body.json, now);
    case Endpoint::audit: return audit(node_id, n, body);
    case Endpoint::config: return config(n, request);
  }
  return error_response(500, "internal", "unhandled endpoint");
}

Response PlatformService::hello(const std::string& node_id, Node& n, const json::Value& body, TimePoint now) {
  const json::Value* software = body.find("software");
  const json::Value* config = body.find("config");
  const json::Value* streams = body.find("streams");
  const json::Value* time = body.find("time");
  if (!body.find("node_id") || !body.find("node_id")->is_string()) return malformed("hello: node_id is required (a string)");
  if (!software || !software->is_object() || !software->find("name") || !software->find("name")->is_string() ||
      !software->find("version") || !software->find("version")->is_string())
    return malformed("hello: software {name, version} is required");
  if (!config || !config->is_object() || !int_member(*config, "version") || !config->find("sha256") ||
      !config->find("sha256")->is_string())
    return malformed("hello: config {version (integer), sha256} is required");
  if (!int_member(body, "catalog_version")) return malformed("hello: catalog_version is required (an integer)");
  if (!streams || !streams->is_array()) return malformed("hello: streams is required (an array of resource codes)");
  for (const auto& s : streams->as_array())
    if (!s.is_string()) return malformed("hello: streams holds a member that is not a string");
  if (!time || !time->is_string() || !parse_rfc3339(time->as_string()))
    return malformed("hello: time is required (RFC 3339)");

  std::set<std::string> codes;
  for (const auto& s : streams->as_array()) codes.insert(s.as_string());
  if (n.rules)
    for (const auto& r : n.rules->slice.resources) codes.insert(r.code);
  for (const auto& [code, s] : n.streams)
    if (s.counters.acked_through > 0) codes.insert(code);
  json::Object acks;
  for (const auto& code : codes) {
    auto it = n.streams.find(code);
    std::int64_t acked = it == n.streams.end() ? 0 : it->second.counters.acked_through;
    acks.emplace_back(code, json::Value(json::Object{{"acked_through", acked}}));
  }
  return json_response(200, json::Value(json::Object{
                                {"server_time", format_rfc3339(now + m_options.clock_offset)},
                                {"node_id", node_id},
                                {"catalog_version", n.state.catalog ? n.state.catalog->version : 0},
                                {"streams", json::Value(std::move(acks))},
                                {"heartbeat_interval_s", m_options.heartbeat_interval_s},
                                {"max_batch_bytes", m_options.max_batch_bytes},
                                {"config", json::Value(json::Object{{"version", config_version(n)}})}}));
}

void PlatformService::refuse_resource(const std::string& code, const std::string& reason) {
  if (reason.empty()) m_refused_resources.erase(code);
  else m_refused_resources[code] = reason;
}

Response PlatformService::put_catalog(const std::string& node_id, Node& n, const json::Value& body, TimePoint now) {
  ++n.catalog_puts;
  auto base = int_member(body, "base_version");
  const json::Value* sha = body.find("sha256");
  const json::Value* resources = body.find("resources");
  if (!base || *base < 0) return malformed("catalog: base_version is required (an integer ≥ 0)");
  if (!sha || !sha->is_string()) return malformed("catalog: sha256 is required (hex)");
  if (!resources || !resources->is_array()) return malformed("catalog: resources is required (an array)");
  json::Value sorted = sorted_by_code(*resources);
  std::string canonical = json::canonical(sorted);
  std::string actual = Sha256::hex(canonical);
  if (sha->as_string() != actual)
    return error_response(400, "malformed", "catalog: sha256 does not match the resources (expected " + actual + ")",
                          {{"expected_sha256", actual}});

  const std::int64_t current = n.state.catalog ? n.state.catalog->version : 0;
  const std::string current_sha = n.state.catalog ? n.state.catalog->sha256 : Sha256::hex("[]");
  // --- state: an identical slice is stored already, whatever its base.
  if (actual == current_sha) return json_response(200, json::Value(json::Object{{"version", current}}));
  if (*base != current)
    return error_response(409, "version_conflict",
                          "base_version " + std::to_string(*base) + " is not the current version " + std::to_string(current),
                          {{"current_version", current}});
  // --- content: the bureau's own refusals first, then the rules of §4
  json::Array refused;
  for (const auto& r : sorted.as_array()) {
    auto it = m_refused_resources.find(r.get_string("code"));
    if (it != m_refused_resources.end())
      refused.emplace_back(json::Object{{"code", it->first}, {"field", "code"}, {"reason", it->second}});
  }
  if (!refused.empty()) {
    const std::string message = std::to_string(refused.size()) + " problem(s) in the catalog slice";
    return error_response(422, "invalid", message, {{"problems", json::Value(std::move(refused))}});
  }
  auto check = read_slice(sorted);
  if (!check.rules) {
    json::Array problems;
    for (const auto& p : check.problems)
      problems.emplace_back(json::Object{{"code", p.code}, {"field", p.field}, {"reason", p.reason}});
    return error_response(422, "invalid", std::to_string(check.problems.size()) + " problem(s) in the catalog slice",
                          {{"problems", json::Value(std::move(problems))}});
  }
  CatalogVersion stored{current + 1, actual, canonical};
  m_store.put_catalog(node_id, stored, format_rfc3339(now));
  n.state.catalog = std::move(stored);
  n.rules = check.rules;
  log::info("platform", "node " + node_id + ": catalog version " + std::to_string(current + 1) + " stored (" +
                            std::to_string(n.rules->slice.resources.size()) + " resources)");
  return json_response(200, json::Value(json::Object{{"version", current + 1}}));
}

Response PlatformService::get_catalog(Node& n) {
  json::Value resources = json::Value::array();
  if (n.state.catalog) {
    auto parsed = json::parse(n.state.catalog->resources_json);
    if (!parsed) return error_response(500, "internal", "stored catalog does not parse");
    resources = std::move(parsed).value();
  }
  return json_response(200, json::Value(json::Object{
                                {"version", n.state.catalog ? n.state.catalog->version : 0},
                                {"sha256", n.state.catalog ? n.state.catalog->sha256 : Sha256::hex("[]")},
                                {"resources", std::move(resources)}}));
}

Response PlatformService::batches(const std::string& node_id, Node& n, const std::string& code, const Request& request,
                                  const Body& body, TimePoint now) {
  // --- form
  const std::string* first_h = request.header("X-XN-First-Seq");
  const std::string* count_h = request.header("X-XN-Count");
  const std::string* sha_h = request.header("X-XN-Body-Sha256");
  if (!first_h || !count_h || !sha_h) return malformed("X-XN-First-Seq, X-XN-Count and X-XN-Body-Sha256 are required");
  auto first_seq = parse_int(*first_h);
  auto count = parse_int(*count_h);
  if (!first_seq || *first_seq < 1) return malformed("X-XN-First-Seq is not a positive integer");
  if (!count || *count < 1) return malformed("X-XN-Count is not a positive integer");
  if (body.text.empty()) return malformed("the body is empty");
  std::string sha_lower = *sha_h;
  std::transform(sha_lower.begin(), sha_lower.end(), sha_lower.begin(),
                 [](char c) { return c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c; });
  if (!is_hex64(sha_lower)) return malformed("X-XN-Body-Sha256 is not 64 hex digits");
  if (sha256_hex(body.text) != sha_lower) return malformed("X-XN-Body-Sha256 does not match the uncompressed body");
  std::vector<std::string_view> lines;
  if (!split_lines(body.text, lines)) return malformed("the body holds an empty line");
  if (static_cast<std::int64_t>(lines.size()) != *count)
    return malformed("X-XN-Count is " + std::to_string(*count) + " but the body holds " + std::to_string(lines.size()) + " lines");

  std::vector<json::Value> records;
  records.reserve(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::int64_t expected = *first_seq + static_cast<std::int64_t>(i);
    auto parsed = json::parse(lines[i]);
    std::string where = "line " + std::to_string(i + 1) + ": ";
    if (!parsed) return malformed(where + "not JSON: " + parsed.error().message);
    const json::Value& r = *parsed;
    if (!r.is_object()) return malformed(where + "not a JSON object");
    auto seq = int_member(r, "seq");
    if (!seq) return malformed(where + "seq is missing or not an integer");
    if (*seq != expected)
      return malformed(where + "seq " + std::to_string(*seq) + " where " + std::to_string(expected) + " was expected");
    const json::Value* op = r.find("op");
    if (!op || !op->is_string() || (op->as_string() != "upsert" && op->as_string() != "delete"))
      return malformed(where + "op must be \"upsert\" or \"delete\"");
    const json::Value* key = r.find("key");
    if (!key || !key->is_string()) return malformed(where + "key is missing or not a string");
    const json::Value* at = r.find("at");
    if (!at || !at->is_string() || !parse_rfc3339(at->as_string())) return malformed(where + "at is missing or not RFC 3339");
    if (const json::Value* data = r.find("data"); data && !data->is_object() && !data->is_null())
      return malformed(where + "data is not an object");
    records.push_back(std::move(parsed).value());
  }

  // --- state
  StreamState& s = stream(node_id, n, code);
  const std::int64_t acked = s.counters.acked_through;
  if (*first_seq > acked + 1)
    return error_response(409, "gap",
                          "the batch starts at " + std::to_string(*first_seq) + " but " + std::to_string(acked + 1) +
                              " is expected",
                          {{"expected_seq", acked + 1}, {"acked_through", acked}});

  // --- duplicates: compare with what is stored
  StreamCounters after = s.counters;
  std::int64_t duplicates = 0, mismatches = 0;
  const std::int64_t last_seq = *first_seq + *count - 1;
  if (*first_seq <= acked) {
    const std::int64_t dup_to = std::min(acked, last_seq);
    auto stored = m_store.digests(s.id, *first_seq, dup_to);
    for (std::int64_t seq = *first_seq; seq <= dup_to; ++seq) {
      ++duplicates;
      auto it = stored.find(seq);
      if (it == stored.end()) continue;  // declared lost: nothing to compare with
      if (digest16(lines[static_cast<std::size_t>(seq - *first_seq)]) != it->second) ++mismatches;
    }
  }
  // --- content: the new records
  const catalog::Resource& resource = *n.rules->find(code);
  const catalog::RecordChecker& checker = *n.rules->checker(code);
  BatchWrite write;
  write.stream_id = s.id;
  write.body_first_seq = *first_seq;
  write.first_new_seq = acked + 1;
  write.new_count = std::max<std::int64_t>(0, last_seq - acked);
  write.received_at = format_rfc3339(now);
  json::Array rejected;
  write.digests.reserve(static_cast<std::size_t>(write.new_count) * kDigestSize);
  for (std::int64_t seq = std::max(*first_seq, acked + 1); seq <= last_seq; ++seq) {
    const auto index = static_cast<std::size_t>(seq - *first_seq);
    write.digests += digest16(lines[index]);
    if (auto why = check_record(resource, checker, records[index])) {
      rejected.emplace_back(json::Object{{"seq", seq}, {"reason", *why}});
      write.rejections.push_back(Rejection{seq, std::move(*why)});
    }
  }
  after.duplicates += duplicates;
  after.mismatches += mismatches;
  if (write.new_count > 0) {
    after.acked_through = last_seq;
    after.rejected += static_cast<std::int64_t>(write.rejections.size());
    after.stored += write.new_count - static_cast<std::int64_t>(write.rejections.size());
    after.batches += 1;
    write.gzip_body = body.gzipped ? request.body : gzip(body.text, 1);
  }
  write.counters_after = after;
  m_store.store_batch(write);
  s.counters = after;
  if (mismatches > 0) {
    static log::RateLimit limit(5, std::chrono::seconds(10));
    limit.write(log::Level::warning, "platform",
                "node " + node_id + " stream " + code + ": " + std::to_string(mismatches) +
                    " duplicate(s) differ from the stored records (a reused sequence number)");
  }
  return json_response(200, json::Value(json::Object{{"acked_through", after.acked_through},
                                                     {"duplicates", duplicates},
                                                     {"mismatches", mismatches},
                                                     {"rejected", json::Value(std::move(rejected))}}));
}

Response PlatformService::gaps(const std::string& node_id, Node& n, const std::string& code, const json::Value& body,
                               TimePoint now) {
  auto from = int_member(body, "from_seq");
  auto to = int_member(body, "to_seq");
  const json::Value* reason = body.find("reason");
  if (!from || *from < 1) return malformed("gaps: from_seq is required (a positive integer)");
  if (!to) return malformed("gaps: to_seq is required (an integer)");
  if (*to < *from) return malformed("gaps: to_seq is below from_seq");
  if (!reason || !reason->is_string() || reason->as_string().empty())
    return malformed("gaps: reason is required (loss is never silent)");
  StreamState& s = stream(node_id, n, code);
  const std::int64_t acked = s.counters.acked_through;
  if (*from > acked + 1)
    return error_response(409, "gap",
                          "the declared gap starts at " + std::to_string(*from) + " but " + std::to_string(acked + 1) +
                              " is expected",
                          {{"expected_seq", acked + 1}, {"acked_through", acked}});
  if (*to <= acked) return json_response(200, json::Value(json::Object{{"acked_through", acked}}));
  GapRow gap{node_id, code, *from, *to, acked + 1, reason->as_string(), format_rfc3339(now)};
  StreamCounters after = s.counters;
  after.gap_records += *to - acked;
  after.acked_through = *to;
  m_store.store_gap(s.id, gap, after);
  s.counters = after;
  log::notice("platform", "node " + node_id + " stream " + code + ": declared loss of seq " + std::to_string(acked + 1) +
                              "-" + std::to_string(*to) + ": " + reason->as_string());
  return json_response(200, json::Value(json::Object{{"acked_through", after.acked_through}}));
}

Response PlatformService::health(const std::string& node_id, Node& n, const Body& body, const json::Value& report,
                                 TimePoint now) {
  if (!report.find("node_id") || !report.find("node_id")->is_string()) return malformed("health: node_id is required");
  const json::Value* time = report.find("time");
  if (!time || !time->is_string() || !parse_rfc3339(time->as_string()))
    return malformed("health: time is required (RFC 3339)");
  // Kept as received: the bureau reads fields this platform does not know yet.
  m_store.store_health(node_id, format_rfc3339(now), body.text);
  return json_response(200, json::Value(json::Object{
                                {"config", json::Value(json::Object{{"version", config_version(n)}})}}));
}

Response PlatformService::audit(const std::string& node_id, Node& n, const Body& body) {
  std::vector<std::string_view> lines;
  if (body.text.empty()) return malformed("audit: the body is empty");
  if (!split_lines(body.text, lines)) return malformed("audit: the body holds an empty line");
  struct Event {
    std::int64_t seq;
    std::string prev, hash, canonical_with_hash, computed;
  };
  std::vector<Event> events;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string where = "audit line " + std::to_string(i + 1) + ": ";
    auto parsed = json::parse(lines[i]);
    if (!parsed) return malformed(where + "not JSON: " + parsed.error().message);
    json::Value& e = *parsed;
    if (!e.is_object()) return malformed(where + "not a JSON object");
    auto seq = int_member(e, "seq");
    if (!seq || *seq < 1) return malformed(where + "seq is missing or not a positive integer");
    const json::Value* prev = e.find("prev");
    const json::Value* hash = e.find("hash");
    if (!prev || !prev->is_string() || !is_hex64(prev->as_string())) return malformed(where + "prev is not 64 hex digits");
    if (!hash || !hash->is_string() || !is_hex64(hash->as_string())) return malformed(where + "hash is not 64 hex digits");
    if (!integers_only(e)) return malformed(where + "fractional numbers are not allowed in audit events");
    Event ev;
    ev.seq = *seq;
    ev.prev = prev->as_string();
    ev.hash = hash->as_string();
    ev.canonical_with_hash = json::canonical(e);
    e.erase("hash");
    ev.computed = Sha256::hex(json::canonical(e));
    events.push_back(std::move(ev));
  }

  // --- state: walk the chain; nothing of the batch is stored unless all of it holds.
  const AuditHead head = n.state.audit;
  auto broken = [&](const std::string& why) {
    return error_response(409, "chain_broken", why,
                          {{"expected_seq", head.acked_through + 1}, {"expected_prev", head.last_hash},
                           {"acked_through", head.acked_through}});
  };
  std::int64_t cursor = head.acked_through;
  std::string cursor_hash = head.last_hash;
  std::vector<AuditEventRow> fresh;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& ev = events[i];
    if (i > 0 && ev.seq != events[i - 1].seq + 1)
      return broken("event seq " + std::to_string(ev.seq) + " does not follow " + std::to_string(events[i - 1].seq));
    if (ev.seq <= head.acked_through) {
      auto stored = m_store.audit_event(node_id, ev.seq);
      if (!stored || stored->event_json != ev.canonical_with_hash)
        return broken("event " + std::to_string(ev.seq) + " differs from the stored one");
      continue;
    }
    if (ev.seq != cursor + 1)
      return broken("event seq " + std::to_string(ev.seq) + " where " + std::to_string(cursor + 1) + " was expected");
    if (ev.prev != cursor_hash) return broken("event " + std::to_string(ev.seq) + ": prev is not the previous event's hash");
    if (ev.hash != ev.computed)
      return broken("event " + std::to_string(ev.seq) + ": hash is not the SHA-256 of its canonical form");
    fresh.push_back(AuditEventRow{ev.seq, ev.prev, ev.hash, ev.canonical_with_hash});
    cursor = ev.seq;
    cursor_hash = ev.hash;
  }
  if (!fresh.empty()) {
    m_store.store_audit(node_id, fresh);
    n.state.audit = AuditHead{cursor, cursor_hash};
  }
  return json_response(200, json::Value(json::Object{{"acked_through", n.state.audit.acked_through}}));
}

Response PlatformService::config(Node& n, const Request& request) {
  if (!n.state.config) return error_response(404, "not_found", "no configuration is waiting for this node");
  const WaitingConfig& c = *n.state.config;
  if (const std::string* inm = request.header("If-None-Match")) {
    std::string_view tag = *inm;
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') tag = tag.substr(1, tag.size() - 2);
    auto have = parse_int(tag);
    if (!have) return malformed("If-None-Match is not \"<version>\"");
    if (*have >= c.version) {
      Response r;
      r.status = 304;
      r.set_header("ETag", "\"" + std::to_string(c.version) + "\"");
      return r;
    }
  }
  auto r = json_response(200, json::Value(json::Object{{"version", c.version}, {"yaml", c.yaml}, {"signature", c.signature}}));
  r.set_header("ETag", "\"" + std::to_string(c.version) + "\"");
  return r;
}

// ---------------------------------------------------------------------------------------------
// admin

void PlatformService::set_disabled(const std::string& node_id, bool disabled, TimePoint now) {
  m_store.set_disabled(node_id, disabled, format_rfc3339(now));
  node(node_id, now).state.disabled = disabled;
  log::notice("platform", "node " + node_id + (disabled ? " disabled" : " enabled"));
}

void PlatformService::place_config(const std::string& node_id, const WaitingConfig& config, TimePoint now) {
  m_store.put_config(node_id, config, format_rfc3339(now));
  node(node_id, now).state.config = config;
  log::notice("platform", "node " + node_id + ": signed configuration version " + std::to_string(config.version) + " waiting");
}

json::Value PlatformService::state_report() const {
  json::Object nodes;
  for (const auto& [node_id, n] : m_nodes) {
    json::Object streams;
    for (const auto& [code, s] : n.streams) streams.emplace_back(code, counters_json(s.counters));
    nodes.emplace_back(node_id, json::Value(json::Object{
                                    {"disabled", n.state.disabled},
                                    {"catalog_version", n.state.catalog ? n.state.catalog->version : 0},
                                    {"audit_acked_through", n.state.audit.acked_through},
                                    {"config_version", config_version(n)},
                                    {"catalog_puts", n.catalog_puts},
                                    {"streams", json::Value(std::move(streams))}}));
  }
  return json::Value(json::Object{{"nodes", json::Value(std::move(nodes))}});
}

std::optional<json::Value> PlatformService::stream_report(const std::string& node_id, const std::string& code) {
  auto n = m_nodes.find(node_id);
  if (n == m_nodes.end()) return std::nullopt;
  auto s = n->second.streams.find(code);
  if (s == n->second.streams.end()) return std::nullopt;
  json::Value out = counters_json(s->second.counters);
  json::Array gap_list;
  for (const auto& g : m_store.gaps(s->second.id))
    gap_list.emplace_back(json::Object{{"from_seq", g.from_seq}, {"to_seq", g.to_seq}, {"lost_from", g.lost_from},
                                       {"reason", g.reason}, {"declared_at", g.declared_at}});
  json::Array rejections;
  for (const auto& r : m_store.rejections(s->second.id))
    rejections.emplace_back(json::Object{{"seq", r.seq}, {"reason", r.reason}});
  out.set("gaps", json::Value(std::move(gap_list)));
  out.set("rejections", json::Value(std::move(rejections)));
  return out;
}

std::optional<std::string> PlatformService::latest_health(const std::string& node_id) {
  return m_store.latest_health(node_id);
}

json::Value PlatformService::audit_report(const std::string& node_id) {
  auto events = m_store.audit_events(node_id);
  std::string prev = kZeroHash;
  std::int64_t expected = 1;
  std::string problem;
  for (const auto& row : events) {
    auto parsed = json::parse(row.event_json);
    if (!parsed) {
      problem = "event " + std::to_string(row.seq) + " does not parse";
      break;
    }
    json::Value e = std::move(parsed).value();
    e.erase("hash");
    if (row.seq != expected) problem = "seq " + std::to_string(row.seq) + " where " + std::to_string(expected) + " was expected";
    else if (row.prev != prev) problem = "event " + std::to_string(row.seq) + ": prev does not match";
    else if (Sha256::hex(json::canonical(e)) != row.hash) problem = "event " + std::to_string(row.seq) + ": hash does not match";
    if (!problem.empty()) break;
    prev = row.hash;
    ++expected;
  }
  auto it = m_nodes.find(node_id);
  return json::Value(json::Object{{"node_id", node_id},
                                  {"acked_through", it == m_nodes.end() ? 0 : it->second.state.audit.acked_through},
                                  {"events", static_cast<std::int64_t>(events.size())},
                                  {"chain_ok", problem.empty()},
                                  {"problem", problem.empty() ? json::Value() : json::Value(problem)}});
}

std::vector<std::string> PlatformService::records(const std::string& node_id, const std::string& code) {
  auto n = m_nodes.find(node_id);
  if (n == m_nodes.end()) return {};
  auto s = n->second.streams.find(code);
  if (s == n->second.streams.end()) return {};
  return m_store.records(s->second.id);
}

}  // namespace xnode::platform
