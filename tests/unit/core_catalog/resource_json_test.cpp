#include <doctest/doctest.h>

#include "core/base/json.hpp"
#include "core/base/sha256.hpp"
#include "core/catalog/loader.hpp"
#include "core/catalog/resource_json.hpp"
#include "core/catalog/slice_hash.hpp"
#include "fixtures.hpp"

using namespace xnode;
using namespace xnode::catalog;
using xnode::catalog::test::valid_resource;

TEST_SUITE("core::catalog::ResourceJson") {
  TEST_CASE("JSON form is exactly §4's") {
    const std::string expected =
        R"({"code":"101003/11540100MB00000081-00001","name":"企业登记基本信息",)"
        R"("classification":{"class":"base","item":"01","sub":"003","detail":""},)"
        R"("provider":{"name":"拉萨市市场监督管理局","code":"11540100MB00000081","unit":"登记注册科"},)"
        R"("abstract":"企业登记基本信息","format":{"category":"database","type":"postgresql"},)"
        R"("items":[{"name":"uscc","title":"统一社会信用代码","type":"C","length":18,"key":true,"identifier":"uscc","required":true},)"
        R"({"name":"legal_rep_id","title":"法定代表人身份证号","type":"C","length":18,"identifier":"citizen_id","sensitive":true,"purpose":"identity check for licensing"},)"
        R"({"name":"reg_capital","title":"注册资本","type":"Y"},{"name":"est_date","title":"成立日期","type":"D"}],)"
        R"("share":{"type":"conditional","condition":"仅向审批部门共享","legal_basis":"","method":"platform","method_type":"api","usage":"主体资格核验"},)"
        R"("open":{"type":"closed","condition":""},"update_cycle":"daily","published":"2026-03-23","related":[]})";
    CHECK(json::serialize(to_json(valid_resource())) == expected);
  }

  TEST_CASE("a resource survives JSON and back unchanged") {
    Resource r = valid_resource();
    r.related = {"101004/11540100MB00000081-00002"};
    r.items[3].required = true;
    r.items[2].classified = false;
    auto text = json::serialize(to_json(r));
    auto parsed = json::parse(text);
    REQUIRE(parsed.ok());
    Problems problems;
    Resource back = resource_from_json(*parsed, "#0", problems);
    CHECK(problems.empty());
    CHECK(back == r);
  }

  TEST_CASE("reading JSON is strict: types, unknown members, codes not labels on the wire accepted too") {
    auto parsed = json::parse(json::serialize(to_json(valid_resource())));
    REQUIRE(parsed.ok());
    json::Value v = *parsed;
    v["classification"].set("item", 1);  // a number where a string belongs
    v["items"].as_array()[0].set("key", "yes");
    v.set("owner", "someone");
    v["share"].set("type", "shared");
    Problems problems;
    resource_from_json(v, "#0", problems);
    REQUIRE(problems.size() == 4);
    const std::string code = "101003/11540100MB00000081-00001";
    CHECK(problems[0] == Problem{code, "classification.item", "must be a string"});
    CHECK(problems[1] == Problem{code, "items[0].key", "must be true or false"});
    CHECK(problems[2] == Problem{code, "share.type",
                                 "unknown value 'shared'; expected one of: unconditional (无条件共享), "
                                 "conditional (有条件共享), none (不予共享)"});
    CHECK(problems[3] == Problem{code, "owner", "unknown member"});
  }

  TEST_CASE("slice_from_json: the platform's GET answer, validated, sorted; #index for missing codes") {
    Resource a = valid_resource();
    Resource b = valid_resource();
    b.code = "101003/11540100MB00000081-00000";
    json::Value array = json::Value::array();
    array.push_back(to_json(a));
    array.push_back(to_json(b));
    json::Value broken = to_json(a);
    broken.erase("code");
    array.push_back(broken);
    auto read = slice_from_json(array);
    REQUIRE(read.problems.size() == 1);
    CHECK(read.problems[0] == Problem{"#2", "code", "required"});
    REQUIRE(read.slice.resources.size() == 3);
    CHECK(read.slice.resources[1].code == b.code);  // "" < ...00000 < ...00001
  }

  TEST_CASE("slice hash: canonical JSON of resources sorted by code") {
    Resource a = valid_resource();
    Resource b = valid_resource();
    b.code = "101003/11540100MB00000081-00002";
    Slice ab, ba;
    ab.resources = {a, b};
    ba.resources = {b, a};
    CHECK(slice_sha256(ab) == slice_sha256(ba));
    CHECK(slice_canonical(ab) == json::canonical(to_json(ab)));
    CHECK(slice_sha256(ab) == Sha256::hex(slice_canonical(ab)));
    CHECK(slice_sha256(ab).size() == 64);
    // Any change of content changes the hash.
    Slice changed = ab;
    changed.resources[0].items[0].title = "代码";
    CHECK(slice_sha256(changed) != slice_sha256(ab));
    // The empty slice hashes "[]".
    CHECK(slice_sha256(Slice{}) == Sha256::hex("[]"));
  }

  TEST_CASE("slice hash is pinned: canonical text (members sorted, no white space) and its SHA-256") {
    // Checked independently: `printf '%s' '<text>' | sha256sum`. If the JSON form of a resource
    // ever changes, every node's hash changes with it (§3.2): change these on purpose only.
    Slice slice;
    slice.resources = {valid_resource()};
    const std::string expected_text = R"([{"abstract":"企业登记基本信息","classification":{"class":"base","detail":"","item":"01","sub":"003"},"code":"101003/11540100MB00000081-00001","format":{"category":"database","type":"postgresql"},"items":[{"identifier":"uscc","key":true,"length":18,"name":"uscc","required":true,"title":"统一社会信用代码","type":"C"},{"identifier":"citizen_id","length":18,"name":"legal_rep_id","purpose":"identity check for licensing","sensitive":true,"title":"法定代表人身份证号","type":"C"},{"name":"reg_capital","title":"注册资本","type":"Y"},{"name":"est_date","title":"成立日期","type":"D"}],"name":"企业登记基本信息","open":{"condition":"","type":"closed"},"provider":{"code":"11540100MB00000081","name":"拉萨市市场监督管理局","unit":"登记注册科"},"published":"2026-03-23","related":[],"share":{"condition":"仅向审批部门共享","legal_basis":"","method":"platform","method_type":"api","type":"conditional","usage":"主体资格核验"},"update_cycle":"daily"}])";
    CHECK(slice_canonical(slice) == expected_text);
    CHECK(slice_sha256(slice) == "de7db3e35cb6479567dd4b9631727766e5b77d53f12511e73c1ec7c6e35bbe82");
  }

  TEST_CASE("the example slice hashes the same after a trip through the wire form") {
    auto load = load_slice_dir(test::kExampleDir);
    REQUIRE(load.ok());
    const std::string hash = slice_sha256(load.slice);
    // Round trip through the wire form gives the same hash (what GET returns hashes the same).
    auto parsed = json::parse(json::serialize(to_json(load.slice)));
    REQUIRE(parsed.ok());
    auto read = slice_from_json(*parsed);
    CHECK(read.ok());
    CHECK(slice_sha256(read.slice) == hash);
  }

  TEST_CASE("enumerations: codes, labels, aliases") {
    CHECK(code_of(ShareType::conditional) == "conditional");
    CHECK(label_of(ShareType::conditional) == "有条件共享");
    CHECK(enum_from_text<ShareType>("有条件共享") == ShareType::conditional);
    CHECK(enum_from_text<UpdateCycle>("每半年") == UpdateCycle::half_yearly);
    CHECK(enum_from_text<FormatCategory>("自描述格式") == FormatCategory::self_describing);
    CHECK(enum_from_text<ItemType>("日期时间") == ItemType::T);
    CHECK_FALSE(enum_from_text<ShareType>("Conditional").has_value());
    CHECK(class_digit(ClassKind::department) == '3');
  }
}
