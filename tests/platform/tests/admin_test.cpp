// The admin interface and the fault injection of the XEP path, without sockets.
#include "tests/platform/admin.hpp"
#include "tests/platform/tests/fixture.hpp"

using namespace xnode;
using namespace xnode::platform;
using namespace xnode::platform::testing;

namespace {

Response admin_call(AdminService& admin, const std::string& method, const std::string& target, std::string body,
                    TimePoint now) {
  Request r;
  r.method = method;
  r.target = target;
  r.body = std::move(body);
  return admin.handle(r, now);
}

Request batch_request(std::int64_t first, std::int64_t count) {
  Request r;
  r.method = "POST";
  r.target = "/xep/v1/streams/" + kStreamUrl + "/batches";
  r.body = records(first, count);
  r.peer_cn = kNode;
  r.headers = {{"X-XN-Node", kNode}, {"X-XN-First-Seq", std::to_string(first)}, {"X-XN-Count", std::to_string(count)},
               {"X-XN-Body-Sha256", Sha256::hex(r.body)}};
  return r;
}

}  // namespace

TEST_SUITE("platform::Admin") {

TEST_CASE("faults: 503 with Retry-After, drop after handling or before, delay") {
  Fixture f("admin-faults");
  f.put_catalog();
  Faults faults;
  AdminService admin(*f.service, faults);
  REQUIRE(admin_call(admin, "POST", "/admin/faults/fail", R"({"count":2,"retry_after_s":7})", f.now).status == 200);
  auto o = serve_xep(*f.service, faults, batch_request(1, 3), f.now);
  CHECK(o.response.status == 503);
  CHECK(body_of(o.response).get_string("error") == "busy");
  CHECK(*o.response.header("Retry-After") == "7");
  CHECK(serve_xep(*f.service, faults, batch_request(1, 3), f.now).response.status == 503);
  CHECK(serve_xep(*f.service, faults, batch_request(1, 3), f.now).response.status == 200);

  // Dropped after handling: stored although the node hears nothing.
  REQUIRE(admin_call(admin, "POST", "/admin/faults/drop", R"({"count":1})", f.now).status == 200);
  o = serve_xep(*f.service, faults, batch_request(4, 3), f.now);
  CHECK(o.drop);
  CHECK(f.service->stream_report(kNode, kStream)->get_int("acked_through") == 6);
  // Dropped before handling: nothing stored.
  REQUIRE(admin_call(admin, "POST", "/admin/faults/drop", R"({"count":1,"handle":false})", f.now).status == 200);
  CHECK(serve_xep(*f.service, faults, batch_request(7, 3), f.now).drop);
  CHECK(f.service->stream_report(kNode, kStream)->get_int("acked_through") == 6);

  REQUIRE(admin_call(admin, "POST", "/admin/faults/delay", R"({"ms":250})", f.now).status == 200);
  o = serve_xep(*f.service, faults, batch_request(7, 3), f.now);
  CHECK(o.delay == std::chrono::milliseconds(250));
  CHECK(o.response.status == 200);
  REQUIRE(admin_call(admin, "POST", "/admin/faults/clear", "", f.now).status == 200);
  CHECK(serve_xep(*f.service, faults, batch_request(10, 1), f.now).delay.count() == 0);

  auto state = body_of(admin_call(admin, "GET", "/admin/state", "", f.now));
  CHECK(state.find("faults")->get_int("failed") == 2);
  CHECK(state.find("faults")->get_int("dropped") == 2);
  CHECK(state.find("faults")->get_int("requests") == 7);
  CHECK(state.find("nodes")->find(kNode)->find("streams")->find(kStream)->get_int("stored") == 10);
}

TEST_CASE("inspection: stream, records, health, audit; bureau actions: disable, config") {
  Fixture f("admin-inspect");
  f.put_catalog();
  Faults faults;
  AdminService admin(*f.service, faults);
  REQUIRE(f.batch_of(1, 4).status == 200);
  auto r = admin_call(admin, "GET", "/admin/streams/" + kNode + "/" + kStreamUrl, "", f.now);
  REQUIRE(r.status == 200);
  CHECK(body_of(r).get_int("stored") == 4);
  r = admin_call(admin, "GET", "/admin/streams/" + kNode + "/" + kStream, "", f.now);  // raw '/' works too
  CHECK(r.status == 200);
  CHECK(admin_call(admin, "GET", "/admin/streams/" + kNode + "/nothing", "", f.now).status == 404);
  r = admin_call(admin, "GET", "/admin/records/" + kNode + "/" + kStreamUrl, "", f.now);
  CHECK(r.body == records(1, 4));
  CHECK(admin_call(admin, "GET", "/admin/health/" + kNode, "", f.now).status == 404);
  auto audit = body_of(admin_call(admin, "GET", "/admin/audit/" + kNode, "", f.now));
  CHECK(audit.get_int("acked_through", -1) == 0);
  CHECK(audit.get_bool("chain_ok"));

  CHECK(admin_call(admin, "POST", "/admin/nodes/" + kNode + "/disable", "", f.now).status == 200);
  CHECK(error_of(f.batch_of(5, 1)) == "forbidden");
  CHECK(admin_call(admin, "POST", "/admin/nodes/" + kNode + "/enable", "", f.now).status == 200);
  CHECK(f.batch_of(5, 1).status == 200);

  CHECK(admin_call(admin, "POST", "/admin/nodes/" + kNode + "/config", R"({"version":3})", f.now).status == 400);
  r = admin_call(admin, "POST", "/admin/nodes/" + kNode + "/config",
                 R"({"version":3,"yaml":"version: 3\n","signature":"c2ln"})", f.now);
  REQUIRE(r.status == 200);
  auto cfg = f.call("GET", "/xep/v1/config");
  REQUIRE(cfg.status == 200);
  CHECK(body_of(cfg).get_string("yaml") == "version: 3\n");
  CHECK(admin_call(admin, "GET", "/admin/nothing", "", f.now).status == 404);
  CHECK(admin_call(admin, "POST", "/admin/faults/fail", "not json", f.now).status == 400);
}

}  // TEST_SUITE
