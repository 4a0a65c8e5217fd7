#include <doctest/doctest.h>

#include <functional>

#include "core/base/identifiers.hpp"
#include "core/catalog/validate.hpp"
#include "fixtures.hpp"

using namespace xnode::catalog;
using xnode::catalog::test::kProvider;
using xnode::catalog::test::valid_resource;

namespace {

const std::string kCode = "101003/" + kProvider + "-00001";

// Applies one change to a valid resource and returns the problems as "field: reason" lines.
std::vector<std::string> problems_after(const std::function<void(Resource&)>& change) {
  Resource r = valid_resource();
  change(r);
  std::vector<std::string> out;
  for (const auto& p : validate(r)) out.push_back(p.field + ": " + p.reason);
  return out;
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_SUITE("core::catalog::Validate") {
  TEST_CASE("the §4 example (with a valid provider code) has no problems") {
    CHECK(validate(valid_resource()).empty());
  }

  TEST_CASE("problems name the resource by code, or #index without one") {
    Resource r = valid_resource();
    r.name.clear();
    auto problems = validate(r);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == Problem{kCode, "name", "required"});
    r.code.clear();
    problems = validate(r, "#4");
    REQUIRE(problems.size() == 2);
    CHECK(problems[0] == Problem{"#4", "code", "required"});
  }

  TEST_CASE("required members") {
    CHECK(problems_after([](Resource& r) { r.classification.kind.reset(); }) ==
          Lines{"classification.class: required"});
    CHECK(problems_after([](Resource& r) { r.classification.item.clear(); }) ==
          Lines{"code: classification part '101003' does not match classification (expected 1003)",
                "classification.item: required"});
    CHECK(problems_after([](Resource& r) { r.provider.name.clear(); }) == Lines{"provider.name: required"});
    CHECK(problems_after([](Resource& r) { r.provider.code.clear(); }) == Lines{"provider.code: required"});
    CHECK(problems_after([](Resource& r) { r.format.category.reset(); }) == Lines{"format.category: required"});
    CHECK(problems_after([](Resource& r) { r.share.type.reset(); }) == Lines{"share.type: required"});
    CHECK(problems_after([](Resource& r) { r.open.type.reset(); }) == Lines{"open.type: required"});
    CHECK(problems_after([](Resource& r) { r.update_cycle.reset(); }) == Lines{"update_cycle: required"});
    CHECK(problems_after([](Resource& r) { r.items[2].type.reset(); }) == Lines{"items[2].type: required"});
    CHECK(problems_after([](Resource& r) { r.items[2].name.clear(); }) == Lines{"items[2].name: required"});
    // Optional members may be absent.
    CHECK(problems_after([](Resource& r) {
            r.abstract_text.clear();
            r.provider.unit.clear();
            r.format.type.clear();
            r.published.clear();
            r.share.usage.clear();
          }).empty());
  }

  TEST_CASE("code form") {
    for (const char* bad : {"101003-11540100MB00000081-00001", "101003/11540100MB00000081-0001",
                            "101003/11540100MB00000081-000001", "10100/11540100MB00000081-00001",
                            "401003/11540100MB00000081-00001", "101003/11540100MB0000008I-00001",
                            "10a003/11540100MB00000081-00001", "101003/11540100MB00000081_00001"}) {
      CAPTURE(bad);
      CHECK(problems_after([&](Resource& r) { r.code = bad; }) ==
            Lines{"code: must have the form <classification code>/<provider code>-<5 digits>"});
    }
    CHECK(parse_resource_code("30200101/" + kProvider + "-00003").has_value());
  }

  TEST_CASE("code must match classification and provider") {
    CHECK(problems_after([](Resource& r) { r.classification.kind = ClassKind::theme; }) ==
          Lines{"code: classification part '101003' does not match classification (expected 201003)"});
    CHECK(problems_after([](Resource& r) { r.classification.detail = "07"; }) ==
          Lines{"code: classification part '101003' does not match classification (expected 10100307)"});
    CHECK(problems_after([](Resource& r) { r.code = "10100307/" + kProvider + "-00001"; r.classification.detail = "07"; })
              .empty());
    CHECK(problems_after([](Resource& r) { r.provider.code = "91540100MA6T00012D"; }) ==
          Lines{"code: provider part '" + kProvider + "' does not match provider.code 91540100MA6T00012D"});
  }

  TEST_CASE("classification digits") {
    CHECK(problems_after([](Resource& r) { r.classification.item = "1"; }) ==
          Lines{"code: classification part '101003' does not match classification (expected 11003)",
                "classification.item: must be 2 digits"});
    CHECK(problems_after([](Resource& r) { r.classification.sub = "0a3"; }) ==
          Lines{"code: classification part '101003' does not match classification (expected 1010a3)",
                "classification.sub: must be 3 digits"});
    CHECK(problems_after([](Resource& r) { r.classification.detail = "x"; }) ==
          Lines{"code: classification part '101003' does not match classification (expected 101003x)",
                "classification.detail: must be digits or empty"});
  }

  TEST_CASE("provider code must be a valid credit code (GB 32100)") {
    // The provider code of this project's example is built with its computed check character.
    CHECK(xnode::identifiers::uscc_check("11540100MB0000008") == '1');
    for (const char* bad : {"11540100MB00000082", "11540100MB0000008", "11540100MB0000O081"}) {
      CAPTURE(bad);
      CHECK(problems_after([&](Resource& r) { r.provider.code = bad; }) ==
            Lines{"code: provider part '" + kProvider + "' does not match provider.code " + bad,
                  "provider.code: not a valid unified social credit code (GB 32100)"});
    }
  }

  TEST_CASE("items: at least one, at least one key, names, uniqueness") {
    CHECK(problems_after([](Resource& r) { r.items.clear(); }) == Lines{"items: at least one item is required"});
    CHECK(problems_after([](Resource& r) { r.items[0].key = false; }) == Lines{"items: at least one item must be a key"});
    for (const char* bad : {"Uscc", "1st", "_x", "reg-capital", "名称", "a b"}) {
      CAPTURE(bad);
      CHECK(problems_after([&](Resource& r) { r.items[2].name = bad; }) ==
            Lines{"items[2].name: must match [a-z][a-z0-9_]*"});
    }
    CHECK(problems_after([](Resource& r) { r.items[2].name = "a_1_z"; }).empty());
    CHECK(problems_after([](Resource& r) { r.items[3].name = "uscc"; }) ==
          Lines{"items[3].name: duplicate item name 'uscc'"});
    CHECK(problems_after([](Resource& r) { r.items[0].length = 0; }) ==
          Lines{"items[0].length: must be a positive integer"});
  }

  TEST_CASE("identifier items are of type C") {
    CHECK(problems_after([](Resource& r) { r.items[0].type = ItemType::M; }) ==
          Lines{"items[0].identifier: identifier items must be of type C"});
    CHECK(problems_after([](Resource& r) { r.items[3].identifier = IdentifierKind::citizen_id; }) ==
          Lines{"items[3].identifier: identifier items must be of type C"});
  }

  TEST_CASE("sensitive items need a purpose; classified items are refused") {
    CHECK(problems_after([](Resource& r) { r.items[1].purpose.clear(); }) ==
          Lines{"items[1].purpose: sensitive items need a purpose (data minimisation)"});
    CHECK(problems_after([](Resource& r) { r.items[3].classified = true; }) ==
          Lines{"items[3].classified: classified items are refused: no classified data on the extranet"});
  }

  TEST_CASE("share rules") {
    CHECK(problems_after([](Resource& r) { r.share.condition.clear(); }) ==
          Lines{"share.condition: conditional sharing needs a condition"});
    CHECK(problems_after([](Resource& r) {
            r.share.type = ShareType::unconditional;
            r.share.condition.clear();
          }).empty());
    CHECK(problems_after([](Resource& r) { r.share.method.reset(); }) ==
          Lines{"share.method: required unless share.type is none"});
    CHECK(problems_after([](Resource& r) { r.share.method_type.reset(); }) ==
          Lines{"share.method_type: required unless share.type is none"});
    SUBCASE("none needs a legal basis and open.type closed, no method") {
      CHECK(problems_after([](Resource& r) {
              r.share.type = ShareType::none;
              r.share.method.reset();
              r.share.method_type.reset();
            }) == Lines{"share.legal_basis: share type none needs a legal basis"});
      CHECK(problems_after([](Resource& r) {
              r.share.type = ShareType::none;
              r.share.legal_basis = "《保守国家秘密法》";
              r.open.type = OpenType::open;
            }) == Lines{"open.type: share type none requires open.type closed"});
      CHECK(problems_after([](Resource& r) {
              r.share.type = ShareType::none;
              r.share.legal_basis = "《个人信息保护法》第十三条";
            }).empty());
    }
  }

  TEST_CASE("open rules") {
    CHECK(problems_after([](Resource& r) { r.open.type = OpenType::conditional; }) ==
          Lines{"open.condition: conditional opening needs a condition"});
    CHECK(problems_after([](Resource& r) {
            r.open.type = OpenType::conditional;
            r.open.condition = "不含个人信息";
          }).empty());
  }

  TEST_CASE("published is a real date; related are resource codes") {
    CHECK(problems_after([](Resource& r) { r.published = "2026-02-30"; }) ==
          Lines{"published: must be a date YYYY-MM-DD"});
    CHECK(problems_after([](Resource& r) { r.published = "2026/03/23"; }) ==
          Lines{"published: must be a date YYYY-MM-DD"});
    CHECK(problems_after([](Resource& r) { r.related = {"101004/" + kProvider + "-00002"}; }).empty());
    CHECK(problems_after([](Resource& r) { r.related = {"101004/" + kProvider + "-00002", "enterprise"}; }) ==
          Lines{"related[1]: 'enterprise' must have the form <classification code>/<provider code>-<5 digits>"});
  }

  TEST_CASE("slice: codes are unique") {
    Slice slice;
    slice.resources = {valid_resource(), valid_resource()};
    auto problems = validate_slice(slice);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == Problem{kCode, "code", "duplicate resource code"});
  }

  TEST_CASE("item names") {
    CHECK(valid_item_name("a"));
    CHECK(valid_item_name("legal_rep_id2"));
    CHECK_FALSE(valid_item_name(""));
    CHECK_FALSE(valid_item_name("9a"));
  }
}
