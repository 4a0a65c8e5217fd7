#include <doctest/doctest.h>

#include "core/base/json.hpp"
#include "core/catalog/loader.hpp"
#include "core/catalog/record_checker.hpp"
#include "core/catalog/record_wire.hpp"
#include "fixtures.hpp"

using namespace xnode;
using namespace xnode::catalog;

namespace {

// The example slice's service-case resource: 12 items, two identifier items, key `serial`.
const Resource& service_cases() {
  static const Slice slice = [] {
    auto load = load_slice_dir(test::kExampleDir);
    REQUIRE(load.ok());
    return load.slice;
  }();
  const Resource* r = slice.find("201005/11540100MB00000081-00004");
  REQUIRE(r);
  return *r;
}

const std::string kGood =
    R"({"id":17,"name":"次仁卓玛","citizen_id":"540102199001011233","uscc":"91540100MA6T00012D","amount":12.50,)"
    R"("ts":"2026-03-23T08:00:00+08:00","region_code":"540102","region_name":"城关区","department":"市场监管局",)"
    R"("service_item":"食品经营许可","status":"done","serial":"SZ-2026-000017"})";

json::Value parse(const std::string& text) {
  auto v = json::parse(text);
  REQUIRE(v.ok());
  return *v;
}

// Checks `text` with member `name` set to the JSON value `value_json` (or removed when empty).
CheckResult check_with(const std::string& name, const std::string& value_json, RecordOp op = RecordOp::upsert) {
  json::Value data = parse(kGood);
  if (value_json.empty())
    data.erase(name);
  else
    data.set(name, parse(value_json));
  RecordChecker checker(service_cases());
  return checker.check(op, data);
}

std::string reason_with(const std::string& name, const std::string& value_json) {
  auto result = check_with(name, value_json);
  CHECK(result.verdict == Verdict::rejected);
  return result.reason;
}

Resource typed_resource() {
  Resource r = test::valid_resource();
  auto add = [&](const char* name, ItemType type) {
    Item item;
    item.name = name;
    item.type = type;
    r.items.push_back(item);
  };
  add("n", ItemType::N);
  add("f", ItemType::F);
  add("b", ItemType::B);
  add("i", ItemType::I);
  add("t", ItemType::T);
  add("l", ItemType::L);
  add("g", ItemType::G);
  add("m", ItemType::M);
  r.items.back().length = 3;
  return r;
}

}  // namespace

TEST_SUITE("core::catalog::RecordChecker") {
  TEST_CASE("a good record is accepted with its key; nothing stripped") {
    json::Value data = parse(kGood);
    RecordChecker checker(service_cases());
    auto result = checker.check(RecordOp::upsert, data);
    CHECK(result.verdict == Verdict::accepted);
    CHECK(result.key == "SZ-2026-000017");
    CHECK(result.stripped == 0);
    CHECK(json::serialize(data) == kGood);
  }

  TEST_CASE("undeclared members are stripped and counted") {
    json::Value data = parse(kGood);
    data.set("password", "hunter2");
    data.set("internal_note", 1);
    RecordChecker checker(service_cases());
    auto result = checker.check(RecordOp::upsert, data);
    CHECK(result.verdict == Verdict::accepted);
    CHECK(result.stripped == 2);
    CHECK(data.find("password") == nullptr);
    CHECK(data.find("internal_note") == nullptr);
    CHECK(json::serialize(data) == kGood);
  }

  TEST_CASE("members in any order; the key follows catalog order") {
    Resource r = test::valid_resource();
    r.items[3].key = true;  // est_date becomes the second key item
    RecordChecker checker(r);
    json::Value data = parse(R"({"est_date":"2020-01-02","uscc":"91350100M000100Y43"})");
    auto result = checker.check(RecordOp::upsert, data);
    CHECK(result.verdict == Verdict::accepted);
    CHECK(result.key == "91350100M000100Y43|2020-01-02");
  }

  TEST_CASE("key text: numbers as written, booleans as true/false") {
    Resource r = test::valid_resource();
    r.items[0].key = false;
    r.items[0].required = false;
    Item n;
    n.name = "n";
    n.type = ItemType::N;
    n.key = true;
    Item flag;
    flag.name = "flag";
    flag.type = ItemType::L;
    flag.key = true;
    r.items.push_back(n);
    r.items.push_back(flag);
    RecordChecker checker(r);
    json::Value data = parse(R"({"flag":false,"n":1.50e3})");
    auto result = checker.check(RecordOp::upsert, data);
    CHECK(result.verdict == Verdict::accepted);
    CHECK(result.key == "1.50e3|false");
  }

  TEST_CASE("required and key items present and non-null") {
    CHECK(reason_with("serial", "") == "serial: key item is missing");
    CHECK(reason_with("serial", "null") == "serial: key item is null");
    CHECK(reason_with("ts", "") == "ts: required item is missing");
    CHECK(reason_with("name", "null") == "name: required item is null");
    // Optional items may be absent or null.
    CHECK(check_with("amount", "").verdict == Verdict::accepted);
    CHECK(check_with("uscc", "null").verdict == Verdict::accepted);
  }

  TEST_CASE("a key value containing | is rejected; an empty key too") {
    CHECK(reason_with("serial", R"("SZ|1")") == "serial: key value contains '|' (the key separator)");
    CHECK(reason_with("serial", R"("")") == "serial: key item is empty");
  }

  TEST_CASE("value forms per type") {
    CHECK(reason_with("name", "5") == "name: must be a string (type C)");
    CHECK(reason_with("amount", R"("12.50")") == "amount: must be a number (type Y)");
    CHECK(reason_with("id", "17.0") == "id: must be an integer (type I)");
    CHECK(reason_with("id", "1e3") == "id: must be an integer (type I)");
    CHECK(reason_with("ts", R"("2026-03-23 08:00:00")") == "ts: must be an RFC 3339 date-time (type T)");
    CHECK(reason_with("ts", R"("2026-02-30T08:00:00Z")") == "ts: must be an RFC 3339 date-time (type T)");
    CHECK(check_with("ts", R"("2026-03-23T00:00:00.250Z")").verdict == Verdict::accepted);

    RecordChecker checker(typed_resource());
    auto check = [&](const std::string& text) {
      json::Value data = parse(text);
      return checker.check(RecordOp::upsert, data);
    };
    const std::string base = R"({"uscc":"91350100M000100Y43",)";
    CHECK(check(base + R"("n":-1.5,"f":2e-3,"b":0,"i":-7,"t":"2026-03-23T08:00:00+08:00","l":true,"g":"AAEC","m":"藏文字"})").verdict ==
          Verdict::accepted);
    CHECK(check(base + R"("n":"1"})").reason == "n: must be a number (type N)");
    CHECK(check(base + R"("f":true})").reason == "f: must be a number (type F)");
    CHECK(check(base + R"("b":[1]})").reason == "b: must be a number (type B)");
    CHECK(check(base + R"("l":"true"})").reason == "l: must be true or false (type L)");
    CHECK(check(base + R"("l":1})").reason == "l: must be true or false (type L)");
    CHECK(check(base + R"("g":"AAE"})").reason == "g: must be base64 text (type G)");
    CHECK(check(base + R"("g":"AA=C"})").reason == "g: must be base64 text (type G)");
    CHECK(check(base + R"("g":"AA=="})").verdict == Verdict::accepted);
    CHECK(check(base + R"("est_date":"2026-3-23"})").reason == "est_date: must be a date YYYY-MM-DD (type D)");
    CHECK(check(base + R"("est_date":"2023-02-29"})").reason == "est_date: must be a date YYYY-MM-DD (type D)");
    CHECK(check(base + R"("est_date":"2024-02-29"})").verdict == Verdict::accepted);
    CHECK(check(base + R"("m":{}})").reason == "m: must be a string (type M)");
  }

  TEST_CASE("length counts characters (UTF-8 code points), not bytes") {
    RecordChecker checker(typed_resource());
    json::Value three = parse(R"({"uscc":"91350100M000100Y43","m":"拉萨市"})");  // 9 bytes, 3 characters
    CHECK(checker.check(RecordOp::upsert, three).verdict == Verdict::accepted);
    json::Value four = parse(R"({"uscc":"91350100M000100Y43","m":"拉萨市区"})");
    CHECK(checker.check(RecordOp::upsert, four).reason == "m: longer than 3 characters");
    CHECK(utf8_length("ཀ་拉a") == 4);
  }

  TEST_CASE("citizen ID items: GB 11643 values of domain.md") {
    for (const char* good : {"11010519491231002X", "440524188001010014", "540102199001011233"}) {
      CAPTURE(good);
      CHECK(check_with("citizen_id", std::string("\"") + good + "\"").verdict == Verdict::accepted);
    }
    const std::string rule = "citizen_id: not a valid citizen ID (GB 11643: structure, birth date, check character)";
    for (const char* bad : {"11010519491231002Y", "540102199002301232", "54010219900101123", "11010519491231002x"}) {
      CAPTURE(bad);
      CHECK(reason_with("citizen_id", std::string("\"") + bad + "\"") == rule);
    }
  }

  TEST_CASE("credit code items: GB 32100 values of domain.md") {
    for (const char* good : {"91350100M000100Y43", "91330100716105852F", "91540100MA6T00012D"}) {
      CAPTURE(good);
      CHECK(check_with("uscc", std::string("\"") + good + "\"").verdict == Verdict::accepted);
    }
    const std::string rule = "uscc: not a valid unified social credit code (GB 32100: alphabet, check character)";
    for (const char* bad : {"91350100M000100Y4Z", "91540100MA6T0I012D", "91540100ma6t00012d"}) {
      CAPTURE(bad);
      CHECK(reason_with("uscc", std::string("\"") + bad + "\"") == rule);
    }
  }

  TEST_CASE("the first failing item in catalog order is named; rejected data is left as it came") {
    json::Value data = parse(kGood);
    data.set("status", 1);
    data.set("name", 2);
    data.set("extra", "kept for the quarantine");
    RecordChecker checker(service_cases());
    auto result = checker.check(RecordOp::upsert, data);
    CHECK(result.reason == "name: must be a string (type C)");
    CHECK(data.find("extra") != nullptr);
    CHECK(result.key.empty());
  }

  TEST_CASE("deletes carry the key items only; everything else is stripped") {
    RecordChecker checker(service_cases());
    json::Value data = parse(R"({"serial":"SZ-2026-000017","name":"x","citizen_id":"bad"})");
    auto result = checker.check(RecordOp::remove, data);
    CHECK(result.verdict == Verdict::accepted);
    CHECK(result.key == "SZ-2026-000017");
    CHECK(result.stripped == 2);
    CHECK(json::serialize(data) == R"({"serial":"SZ-2026-000017"})");
    json::Value missing = parse(R"({"name":"x"})");
    CHECK(checker.check(RecordOp::remove, missing).reason == "serial: key item is missing");
    json::Value not_object = parse("[1]");
    CHECK(checker.check(RecordOp::remove, not_object).reason == "record data must be a JSON object");
  }

  TEST_CASE("records of a share.type none resource are never sent: a distinct outcome") {
    Resource r = test::valid_resource();
    r.share.type = ShareType::none;
    RecordChecker checker(r);
    json::Value data = parse(R"({"uscc":"91350100M000100Y43"})");
    auto result = checker.check(RecordOp::upsert, data);
    CHECK(result.verdict == Verdict::not_shared);
    CHECK(result.reason ==
          "not_shared: resource 101003/11540100MB00000081-00001 has share.type none; its records are never sent");
  }

  TEST_CASE("a result object is reused without leftovers") {
    RecordChecker checker(service_cases());
    CheckResult result;
    json::Value bad = parse(R"({"serial":"a|b","name":"n","ts":"2026-03-23T08:00:00Z"})");
    checker.check(RecordOp::upsert, bad, result);
    CHECK(result.verdict == Verdict::rejected);
    json::Value good = parse(kGood);
    checker.check(RecordOp::upsert, good, result);
    CHECK(result.verdict == Verdict::accepted);
    CHECK(result.reason.empty());
    CHECK(result.key == "SZ-2026-000017");
  }

  TEST_CASE("op codes") {
    CHECK(op_code(RecordOp::remove) == "delete");
    CHECK(op_from_code("upsert") == RecordOp::upsert);
    CHECK(op_from_code("delete") == RecordOp::remove);
    CHECK_FALSE(op_from_code("insert").has_value());
  }
}

TEST_SUITE("core::catalog::RecordWire") {
  TEST_CASE("build_tail appends the §3.3 envelope after {\"seq\":N,") {
    std::string line = R"({"seq":41874,)";
    json::Value data = parse(R"({"uscc":"91540100MA6T00012D","name":"藏\"式\"")"
                             R"(})");
    build_tail(line, RecordOp::upsert, "91540100MA6T00012D", "2026-03-23T07:59:58+08:00", &data);
    CHECK(line == R"({"seq":41874,"op":"upsert","key":"91540100MA6T00012D","at":"2026-03-23T07:59:58+08:00",)"
                  R"("data":{"uscc":"91540100MA6T00012D","name":"藏\"式\""}})");
    auto reparsed = json::parse(line);
    REQUIRE(reparsed.ok());
    CHECK(reparsed->get_string("key") == "91540100MA6T00012D");
  }

  TEST_CASE("a delete without data leaves the member out; time points format as RFC 3339 UTC") {
    std::string tail;
    build_tail(tail, RecordOp::remove, "k\"1", from_unix_ms(1774224000250), nullptr);
    CHECK(tail == R"("op":"delete","key":"k\"1","at":"2026-03-23T00:00:00.250Z"})");
  }
}
