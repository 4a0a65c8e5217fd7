// The protocol of platform-api.md §1–§3.7 through PlatformService::handle, over a real SQLite file.
#include "tests/platform/tests/fixture.hpp"

using namespace xnode;
using namespace xnode::platform;
using namespace xnode::platform::testing;

namespace {

std::string hello_body(const std::string& node = kNode, const std::string& streams = "[]") {
  return R"({"node_id":")" + node + R"(","software":{"name":"xnode","version":"0.3.1"},)"
         R"("config":{"version":12,"sha256":"00"},"catalog_version":0,"streams":)" + streams +
         R"(,"time":"2026-03-23T08:00:00+08:00"})";
}

std::string health_body() {
  return R"({"node_id":"gaj-01","time":"2026-03-23T08:00:00+08:00","uptime_s":5,"future_field":{"x":[1,2]},)"
         R"("link":{"state":"up","clock_offset_ms":-140}})";
}

// An audit chain of `count` events starting at seq `first` after `prev`.
std::vector<json::Value> audit_chain(std::int64_t first, std::int64_t count, std::string prev) {
  std::vector<json::Value> out;
  for (std::int64_t seq = first; seq < first + count; ++seq) {
    json::Value e(json::Object{{"seq", seq}, {"at", "2026-03-23T08:00:00+08:00"}, {"actor", "xnoded"},
                               {"action", "batch.acked"}, {"object", "s:1-10"}, {"result", "ok"},
                               {"detail", json::Value::object()}, {"prev", prev}});
    std::string hash = Sha256::hex(json::canonical(e));
    e.set("hash", hash);
    prev = hash;
    out.push_back(std::move(e));
  }
  return out;
}

std::string ndjson(const std::vector<json::Value>& events) {
  std::string s;
  for (const auto& e : events) s += json::serialize(e) + "\n";
  return s;
}

}  // namespace

TEST_SUITE("platform::Service") {

TEST_CASE("path and method come first: 404 not_found, 405 method_not_allowed") {
  Fixture f("route");
  auto r = f.call("POST", "/xep/v1/nothing", "{}", {}, kNode, false);
  CHECK(r.status == 404);
  CHECK(error_of(r) == "not_found");
  r = f.call("GET", "/xep/v1/hello", {}, {}, kNode, false);  // also no X-XN-Node: the path wins
  CHECK(r.status == 405);
  CHECK(error_of(r) == "method_not_allowed");
  CHECK(*r.header("Allow") == "POST");
  r = f.call("DELETE", "/xep/v1/catalog");
  CHECK(r.status == 405);
  r = f.call("GET", "/xep/v1/streams/" + kStreamUrl + "/batches");
  CHECK(r.status == 405);
  r = f.call("POST", "/xep/v1/streams/" + kStreamUrl + "/other", "x");
  CHECK(r.status == 404);
  CHECK(!body_of(r).get_string("message").empty());
}

TEST_CASE("identity: missing or different X-XN-Node, body node_id, then a disabled node") {
  Fixture f("identity");
  auto r = f.call("POST", "/xep/v1/hello", hello_body(), {}, kNode, false);
  CHECK(r.status == 403);
  CHECK(error_of(r) == "identity_mismatch");

  Request req;
  req.method = "POST";
  req.target = "/xep/v1/hello";
  req.peer_cn = kNode;
  req.headers = {{"X-XN-Node", "other-02"}};
  req.body = hello_body();
  r = f.service->handle(req, f.now);
  CHECK(r.status == 403);
  CHECK(error_of(r) == "identity_mismatch");

  r = f.call("POST", "/xep/v1/hello", hello_body("other-02"));
  CHECK(r.status == 403);
  CHECK(error_of(r) == "identity_mismatch");
  r = f.call("POST", "/xep/v1/health", R"({"node_id":"other-02","time":"2026-03-23T08:00:00Z"})");
  CHECK(error_of(r) == "identity_mismatch");

  f.service->set_disabled(kNode, true, f.now);
  r = f.call("POST", "/xep/v1/hello", hello_body("other-02"));  // identity is checked before forbidden
  CHECK(error_of(r) == "identity_mismatch");
  r = f.call("POST", "/xep/v1/hello", hello_body());
  CHECK(r.status == 403);
  CHECK(error_of(r) == "forbidden");
  r = f.call("POST", "/xep/v1/streams/" + kStreamUrl + "/batches", "x");  // forbidden before unknown_stream
  CHECK(error_of(r) == "forbidden");
  f.service->set_disabled(kNode, false, f.now);
  CHECK(f.call("POST", "/xep/v1/hello", hello_body()).status == 200);
}

TEST_CASE("hello answers acked_through for requested, catalogued and data streams") {
  ServiceOptions o;
  o.clock_offset = std::chrono::milliseconds(1500);
  o.heartbeat_interval_s = 30;
  o.max_batch_bytes = 1 << 20;
  Fixture f("hello", o);
  auto r = f.call("POST", "/xep/v1/hello", hello_body(kNode, R"(["x/requested"])"));
  REQUIRE(r.status == 200);
  auto b = body_of(r);
  CHECK(b.get_string("server_time") == "2026-03-23T00:00:01.500Z");
  CHECK(b.get_string("node_id") == kNode);
  CHECK(b.get_int("catalog_version", -1) == 0);
  CHECK(b.get_int("heartbeat_interval_s") == 30);
  CHECK(b.get_int("max_batch_bytes") == (1 << 20));
  CHECK(b.find("config")->get_int("version", -1) == 0);
  CHECK(b.find("streams")->find("x/requested")->get_int("acked_through", -1) == 0);

  f.put_catalog();
  REQUIRE(f.batch_of(1, 5).status == 200);
  f.service->place_config(kNode, WaitingConfig{13, "version: 13\n", "c2ln"}, f.now);
  b = body_of(f.call("POST", "/xep/v1/hello", hello_body()));
  CHECK(b.get_int("catalog_version") == 1);
  CHECK(b.find("streams")->find(kStream)->get_int("acked_through") == 5);
  CHECK(b.find("streams")->find(kNotShared)->get_int("acked_through", -1) == 0);
  CHECK(b.find("config")->get_int("version") == 13);

  r = f.call("POST", "/xep/v1/hello", R"({"node_id":"gaj-01"})");
  CHECK(r.status == 400);
  CHECK(error_of(r) == "malformed");
  r = f.call("POST", "/xep/v1/hello", "{not json");
  CHECK(error_of(r) == "malformed");
}

TEST_CASE("catalog: versions, identical slice, conflict before content, sha256, validation problems") {
  Fixture f("catalog");
  auto get = body_of(f.call("GET", "/xep/v1/catalog"));
  CHECK(get.get_int("version", -1) == 0);
  CHECK(get.find("resources")->as_array().empty());
  CHECK(get.get_string("sha256") == Sha256::hex("[]"));

  // The empty slice is version 0 already.
  auto r = f.call("PUT", "/xep/v1/catalog", catalog_body(5, json::Value::array()));
  CHECK(r.status == 200);
  CHECK(body_of(r).get_int("version", -1) == 0);

  auto resources = slice_resources();
  r = f.call("PUT", "/xep/v1/catalog", catalog_body(0, resources));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(body_of(r).get_int("version") == 1);
  // Identical again, whatever the base.
  r = f.call("PUT", "/xep/v1/catalog", catalog_body(0, resources));
  CHECK(r.status == 200);
  CHECK(body_of(r).get_int("version") == 1);

  get = body_of(f.call("GET", "/xep/v1/catalog"));
  CHECK(get.get_int("version") == 1);
  CHECK(get.get_string("sha256") == slice_sha256(resources));
  REQUIRE(get.find("resources")->as_array().size() == 2);
  CHECK(get.find("resources")->as_array()[0].get_string("code") == kStream);  // sorted by code

  // A changed slice on a stale base: 409 with current_version — even when the content is invalid.
  json::Value changed = resources;
  changed.as_array()[0].set("name", "renamed");
  r = f.call("PUT", "/xep/v1/catalog", catalog_body(0, changed));
  CHECK(r.status == 409);
  CHECK(error_of(r) == "version_conflict");
  CHECK(body_of(r).get_int("current_version") == 1);
  json::Value invalid = resources;
  invalid.as_array()[1].find("items")->as_array()[1].erase("purpose");
  r = f.call("PUT", "/xep/v1/catalog", catalog_body(0, invalid));
  CHECK(r.status == 409);

  // Invalid content on the current base: 422 with problems naming resource and field.
  r = f.call("PUT", "/xep/v1/catalog", catalog_body(1, invalid));
  REQUIRE(r.status == 422);
  CHECK(error_of(r) == "invalid");
  auto problems = body_of(r).find("problems")->as_array();
  REQUIRE(!problems.empty());
  CHECK(problems[0].get_string("code") == kStream);
  CHECK(problems[0].get_string("field") == "items[1].purpose");
  CHECK(!problems[0].get_string("reason").empty());

  // A wrong sha256: 400.
  auto body = json::parse(catalog_body(1, changed)).value();
  body.set("sha256", std::string(64, 'a'));
  r = f.call("PUT", "/xep/v1/catalog", json::serialize(body));
  CHECK(r.status == 400);
  CHECK(error_of(r) == "malformed");

  r = f.call("PUT", "/xep/v1/catalog", catalog_body(1, changed));
  CHECK(r.status == 200);
  CHECK(body_of(r).get_int("version") == 2);
  CHECK(f.call("PUT", "/xep/v1/catalog", R"({"resources":[]})").status == 400);
}

TEST_CASE("batches: stream, size, form, state, content — in that order") {
  ServiceOptions o;
  o.max_batch_bytes = 4096;
  Fixture f("batch-order", o);
  // Before any catalog every stream is unknown.
  auto r = f.batch_of(1, 1);
  CHECK(r.status == 404);
  CHECK(error_of(r) == "unknown_stream");
  f.put_catalog();
  r = f.batch(records(1, 1), 1, 1, "101003%2F91540100MA6T00012D-00009");
  CHECK(error_of(r) == "unknown_stream");

  // too_large beats malformed (the count header is wrong too), unknown_stream beats too_large.
  std::string big = records(1, 40);
  REQUIRE(big.size() > 4096);
  r = f.batch(big, 1, 999);
  CHECK(r.status == 413);
  CHECK(error_of(r) == "too_large");
  r = f.batch(big, 1, 40, "101003%2F91540100MA6T00012D-00009");
  CHECK(r.status == 404);
  // gzip: the uncompressed size counts.
  r = f.batch(big, 1, 40, kStreamUrl, true);
  CHECK(r.status == 413);

  // malformed beats gap: the stream is at 0, a batch at 10 with a bad hash is 400, not 409.
  Headers bad_hash{{"X-XN-First-Seq", "10"}, {"X-XN-Count", "1"}, {"X-XN-Body-Sha256", std::string(64, '0')}};
  r = f.call("POST", "/xep/v1/streams/" + kStreamUrl + "/batches", records(10, 1), bad_hash);
  CHECK(r.status == 400);
  r = f.batch_of(10, 1);
  CHECK(r.status == 409);
  CHECK(error_of(r) == "gap");
  CHECK(body_of(r).get_int("expected_seq") == 1);
  CHECK(body_of(r).get_int("acked_through", -1) == 0);
  CHECK(f.service->stream_report(kNode, kStream)->get_int("stored") == 0);
}

TEST_CASE("batches: every malformed form is 400 and stores nothing") {
  Fixture f("batch-form");
  f.put_catalog();
  auto post = [&](const std::string& body, Headers h) {
    return f.call("POST", "/xep/v1/streams/" + kStreamUrl + "/batches", body, std::move(h));
  };
  auto headers = [](const std::string& body, std::int64_t first, std::int64_t count) {
    return Headers{{"X-XN-First-Seq", std::to_string(first)}, {"X-XN-Count", std::to_string(count)},
                   {"X-XN-Body-Sha256", Sha256::hex(body)}};
  };
  std::string good = records(1, 3);
  CHECK(error_of(post(good, {{"X-XN-Count", "3"}, {"X-XN-Body-Sha256", Sha256::hex(good)}})) == "malformed");
  CHECK(post(good, headers(good, 1, 2)).status == 400);  // count
  CHECK(post(good, headers(good, 2, 3)).status == 400);  // first seq
  CHECK(post("", headers("", 1, 1)).status == 400);      // empty
  std::string skip = record(1) + "\n" + record(3) + "\n";
  CHECK(post(skip, headers(skip, 1, 2)).status == 400);  // not consecutive
  std::string blank = record(1) + "\n\n" + record(2) + "\n";
  CHECK(post(blank, headers(blank, 1, 2)).status == 400);
  std::string not_object = "[1]\n";
  CHECK(post(not_object, headers(not_object, 1, 1)).status == 400);
  std::string no_at = R"({"seq":1,"op":"upsert","key":"k","data":{}})";
  CHECK(post(no_at, headers(no_at, 1, 1)).status == 400);
  std::string bad_op = R"({"seq":1,"op":"merge","key":"k","at":"2026-03-23T08:00:00Z"})";
  CHECK(post(bad_op, headers(bad_op, 1, 1)).status == 400);
  std::string bad_utf8 = "{\"seq\":1,\"op\":\"delete\",\"key\":\"\xff\",\"at\":\"2026-03-23T08:00:00Z\"}";
  CHECK(post(bad_utf8, headers(bad_utf8, 1, 1)).status == 400);
  Headers deflate = headers(good, 1, 3);
  deflate.emplace_back("Content-Encoding", "deflate");
  auto r = post(good, deflate);
  CHECK(r.status == 400);
  CHECK(body_of(r).get_string("message").find("deflate") != std::string::npos);
  Headers gz = headers(good, 1, 3);
  gz.emplace_back("Content-Encoding", "gzip");
  CHECK(post("not gzip at all", gz).status == 400);
  CHECK_FALSE(f.service->stream_report(kNode, kStream).has_value());  // nothing reached the stream

  // A trailing newline is optional.
  std::string no_trailing = record(1);
  CHECK(post(no_trailing, headers(no_trailing, 1, 1)).status == 200);
}

TEST_CASE("batches: acknowledged, gzip, duplicates not stored twice, mismatches counted") {
  Fixture f("batch-dup");
  f.put_catalog();
  auto r = f.batch(records(1, 10), 1, 10, kStreamUrl, true);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto b = body_of(r);
  CHECK(b.get_int("acked_through") == 10);
  CHECK(b.get_int("duplicates", -1) == 0);
  CHECK(b.get_int("mismatches", -1) == 0);
  CHECK(b.find("rejected")->as_array().empty());

  // 6..15: 5 duplicates (identical), 5 new.
  b = body_of(f.batch_of(6, 10));
  CHECK(b.get_int("acked_through") == 15);
  CHECK(b.get_int("duplicates") == 5);
  CHECK(b.get_int("mismatches", -1) == 0);

  // A reused sequence number with other content: a duplicate that mismatches, not stored.
  std::string other = record(3, "91330100716105852F") + "\n" + record(4) + "\n";
  b = body_of(f.batch(other, 3, 2));
  CHECK(b.get_int("acked_through") == 15);
  CHECK(b.get_int("duplicates") == 2);
  CHECK(b.get_int("mismatches") == 1);

  auto report = *f.service->stream_report(kNode, kStream);
  CHECK(report.get_int("stored") == 15);
  CHECK(report.get_int("duplicates") == 7);
  CHECK(report.get_int("mismatches") == 1);
  auto stored = f.service->records(kNode, kStream);
  REQUIRE(stored.size() == 15);
  for (std::size_t i = 0; i < stored.size(); ++i) CHECK(stored[i] == record(static_cast<std::int64_t>(i) + 1));
}

TEST_CASE("batches: per-record content checks are rejected, acknowledged, never accepted") {
  Fixture f("batch-reject");
  f.put_catalog();
  std::string body;
  body += record(1) + "\n";                                                       // ok
  body += record(2, "91350100M000100Y43", R"(,"unknown_item":1)") + "\n";        // undeclared
  body += record(3, "91350100M000100Y43", R"(,"reg_capital":"lots")") + "\n";    // bad value
  body += record(4, "91350100M000100Y4Z") + "\n";                                 // bad check char
  body += R"({"seq":5,"op":"upsert","key":"wrong","at":"2026-03-23T08:00:00Z","data":{"uscc":"91350100M000100Y43"}})" "\n";
  body += record(6, "91350100M000100Y43", R"(,"legal_rep_id":"540102199002301232")") + "\n";  // 30 February
  body += record(7, "91350100M000100Y43", R"(,"est_date":"2026-02-30")") + "\n";
  body += R"({"seq":8,"op":"delete","key":"91350100M000100Y43","at":"2026-03-23T08:00:00Z"})" "\n";  // ok
  body += record(9, "91350100M000100Y43", R"(,"legal_rep_id":"11010519491231002X","est_date":"2020-01-01")") + "\n";
  auto r = f.batch(body, 1, 9);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto b = body_of(r);
  CHECK(b.get_int("acked_through") == 9);
  auto rejected = b.find("rejected")->as_array();
  REQUIRE(rejected.size() == 6);
  CHECK(rejected[0].get_int("seq") == 2);
  CHECK(rejected[0].get_string("reason").find("unknown_item") != std::string::npos);
  CHECK(rejected[1].get_int("seq") == 3);
  CHECK(rejected[2].get_int("seq") == 4);
  CHECK(rejected[3].get_int("seq") == 5);
  CHECK(rejected[3].get_string("reason").find("key") != std::string::npos);
  CHECK(rejected[4].get_int("seq") == 6);
  CHECK(rejected[5].get_int("seq") == 7);
  auto report = *f.service->stream_report(kNode, kStream);
  CHECK(report.get_int("stored") == 3);
  CHECK(report.get_int("rejected") == 6);
  CHECK(report.find("rejections")->as_array().size() == 6);
  CHECK(f.service->records(kNode, kStream).size() == 3);

  // share.type none: every record is rejected as not_shared.
  b = body_of(f.batch(records(1, 2), 1, 2, kNotSharedUrl));
  REQUIRE(b.find("rejected")->as_array().size() == 2);
  CHECK(b.find("rejected")->as_array()[0].get_string("reason") == "not_shared");
  CHECK(b.get_int("acked_through") == 2);
}

TEST_CASE("gaps: declared loss moves the high-water mark and is kept") {
  Fixture f("gaps");
  f.put_catalog();
  REQUIRE(f.batch_of(1, 5).status == 200);
  auto gap = [&](const std::string& body) { return f.call("POST", "/xep/v1/streams/" + kStreamUrl + "/gaps", body); };
  auto r = gap(R"({"from_seq":8,"to_seq":9,"reason":"evicted"})");
  CHECK(r.status == 409);
  CHECK(error_of(r) == "gap");
  CHECK(body_of(r).get_int("expected_seq") == 6);
  CHECK(gap(R"({"from_seq":7,"to_seq":6,"reason":"evicted"})").status == 400);
  CHECK(gap(R"({"from_seq":6,"to_seq":9})").status == 400);
  r = gap(R"x({"from_seq":6,"to_seq":9,"reason":"evicted: queue full (drop_oldest)"})x");
  REQUIRE(r.status == 200);
  CHECK(body_of(r).get_int("acked_through") == 9);
  r = gap(R"({"from_seq":2,"to_seq":9,"reason":"again"})");  // already covered
  CHECK(r.status == 200);
  CHECK(body_of(r).get_int("acked_through") == 9);
  CHECK(f.call("POST", "/xep/v1/streams/" + kNotSharedUrl + "x/gaps", R"({"from_seq":1,"to_seq":2,"reason":"r"})").status == 404);

  // Records in the declared range are duplicates now; the next batch continues at 10.
  auto b = body_of(f.batch_of(8, 4));
  CHECK(b.get_int("duplicates") == 2);
  CHECK(b.get_int("mismatches", -1) == 0);
  CHECK(b.get_int("acked_through") == 11);
  auto report = *f.service->stream_report(kNode, kStream);
  CHECK(report.get_int("gap_records") == 4);
  CHECK(report.get_int("stored") == 7);
  REQUIRE(report.find("gaps")->as_array().size() == 1);
  CHECK(report.find("gaps")->as_array()[0].get_string("reason") == "evicted: queue full (drop_oldest)");
}

TEST_CASE("health: stored as received with unknown fields, answered with the waiting config version") {
  Fixture f("health");
  auto r = f.call("POST", "/xep/v1/health", health_body());
  REQUIRE(r.status == 200);
  CHECK(body_of(r).find("config")->get_int("version", -1) == 0);
  f.service->place_config(kNode, WaitingConfig{7, "version: 7\n", "c2ln"}, f.now);
  CHECK(body_of(f.call("POST", "/xep/v1/health", health_body())).find("config")->get_int("version") == 7);
  auto latest = f.service->latest_health(kNode);
  REQUIRE(latest);
  auto v = json::parse(*latest).value();
  CHECK(v.find("future_field")->find("x")->as_array().size() == 2);
  CHECK(f.call("POST", "/xep/v1/health", R"({"node_id":"gaj-01"})").status == 400);
  CHECK(f.call("POST", "/xep/v1/health", "[]").status == 400);
  // gzip bodies are accepted on every endpoint.
  Headers gz{{"Content-Encoding", "gzip"}};
  CHECK(f.call("POST", "/xep/v1/health", gzip(health_body()), gz).status == 200);
}

TEST_CASE("audit: chain checks, identical re-sends, chain_broken stores nothing") {
  Fixture f("audit");
  auto post = [&](const std::string& body) { return f.call("POST", "/xep/v1/audit", body); };
  auto chain = audit_chain(1, 5, std::string(64, '0'));
  std::vector<json::Value> first(chain.begin(), chain.begin() + 3);
  auto r = post(ndjson(first));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(body_of(r).get_int("acked_through") == 3);
  // Identical re-send of 2..5: accepted, 4 and 5 stored.
  r = post(ndjson({chain.begin() + 1, chain.end()}));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(body_of(r).get_int("acked_through") == 5);

  // A broken link: prev is not event 5's hash.
  auto bad = audit_chain(6, 2, std::string(64, '1'));
  r = post(ndjson(bad));
  REQUIRE(r.status == 409);
  auto b = body_of(r);
  CHECK(b.get_string("error") == "chain_broken");
  CHECK(b.get_int("expected_seq") == 6);
  CHECK(b.get_string("expected_prev") == chain[4].get_string("hash"));
  CHECK(b.get_int("acked_through") == 5);
  // A good event followed by a tampered one: nothing of the batch is stored.
  auto more = audit_chain(6, 2, chain[4].get_string("hash"));
  more[1].set("result", "tampered");
  r = post(ndjson(more));
  CHECK(r.status == 409);
  CHECK(f.service->audit_report(kNode).get_int("acked_through") == 5);
  // A re-sent event that differs from the stored one.
  auto changed = chain[2];
  changed.set("actor", "someone");
  CHECK(post(ndjson({changed})).status == 409);
  // Fractional numbers are not allowed; an envelope without hash is malformed.
  CHECK(post(R"({"seq":6,"prev":")" + std::string(64, '0') + R"(","hash":")" + std::string(64, '0') + R"(","x":1.5})").status == 400);
  CHECK(post(R"({"seq":6})").status == 400);
  CHECK(post("").status == 400);

  auto good = audit_chain(6, 2, chain[4].get_string("hash"));
  CHECK(body_of(post(ndjson(good))).get_int("acked_through") == 7);
  auto report = f.service->audit_report(kNode);
  CHECK(report.get_int("events") == 7);
  CHECK(report.get_bool("chain_ok"));
}

TEST_CASE("config: 404 wins, 304 when the node is current, 200 with yaml and signature") {
  Fixture f("config");
  Headers inm{{"If-None-Match", "\"3\""}};
  auto r = f.call("GET", "/xep/v1/config", {}, inm);
  CHECK(r.status == 404);
  CHECK(error_of(r) == "not_found");
  f.service->place_config(kNode, WaitingConfig{13, "version: 13\nnode: {}\n", "MEUCIQ=="}, f.now);
  r = f.call("GET", "/xep/v1/config", {}, {{"If-None-Match", "\"13\""}});
  CHECK(r.status == 304);
  CHECK(r.body.empty());
  CHECK(f.call("GET", "/xep/v1/config", {}, {{"If-None-Match", "\"14\""}}).status == 304);
  r = f.call("GET", "/xep/v1/config", {}, {{"If-None-Match", "\"12\""}});
  REQUIRE(r.status == 200);
  auto b = body_of(r);
  CHECK(b.get_int("version") == 13);
  CHECK(b.get_string("yaml") == "version: 13\nnode: {}\n");
  CHECK(b.get_string("signature") == "MEUCIQ==");
  CHECK(f.call("GET", "/xep/v1/config").status == 200);
}

TEST_CASE("everything survives a restart: catalog, marks, counters, audit head, config, disabled") {
  Fixture f("restart");
  f.put_catalog();
  REQUIRE(f.batch_of(1, 20).status == 200);
  REQUIRE(f.call("POST", "/xep/v1/streams/" + kStreamUrl + "/gaps", R"({"from_seq":21,"to_seq":25,"reason":"lost"})").status == 200);
  auto chain = audit_chain(1, 3, std::string(64, '0'));
  REQUIRE(f.call("POST", "/xep/v1/audit", ndjson(chain)).status == 200);
  f.service->place_config(kNode, WaitingConfig{4, "version: 4\n", "c2ln"}, f.now);
  f.service->set_disabled("other-02", true, f.now);
  REQUIRE(f.call("POST", "/xep/v1/health", health_body()).status == 200);

  f.open();
  auto b = body_of(f.call("POST", "/xep/v1/hello", hello_body()));
  CHECK(b.get_int("catalog_version") == 1);
  CHECK(b.find("streams")->find(kStream)->get_int("acked_through") == 25);
  CHECK(b.find("config")->get_int("version") == 4);
  auto dup = body_of(f.batch_of(18, 10));
  CHECK(dup.get_int("duplicates") == 8);
  CHECK(dup.get_int("mismatches", -1) == 0);
  CHECK(dup.get_int("acked_through") == 27);
  auto more = audit_chain(4, 1, chain[2].get_string("hash"));
  CHECK(body_of(f.call("POST", "/xep/v1/audit", ndjson(more))).get_int("acked_through") == 4);
  CHECK(error_of(f.call("POST", "/xep/v1/hello", hello_body("other-02"), {}, "other-02")) == "forbidden");
  CHECK(f.service->latest_health(kNode).has_value());
  auto report = *f.service->stream_report(kNode, kStream);
  CHECK(report.get_int("stored") == 22);
  CHECK(report.get_int("gap_records") == 5);
  CHECK(f.service->records(kNode, kStream).size() == 22);
}

}  // TEST_SUITE
