#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "core/catalog/loader.hpp"
#include "core/catalog/slice_hash.hpp"
#include "fixtures.hpp"

using namespace xnode::catalog;

namespace {

// A valid resource in YAML; tests replace one line to break one rule at a known line.
const std::string kProvider = test::kProvider;
std::string valid_yaml() {
  return "code: \"101003/" + kProvider + "-00001\"\n"   // 1
         "name: 企业登记基本信息\n"                       // 2
         "classification: {class: base, item: \"01\", sub: \"003\", detail: \"\"}\n"  // 3
         "provider:\n"                                    // 4
         "  name: 拉萨市市场监督管理局\n"                 // 5
         "  code: \"" + kProvider + "\"\n"               // 6
         "  unit: 登记注册科\n"                           // 7
         "format: {category: database, type: postgresql}\n"  // 8
         "items:\n"                                       // 9
         "  - {name: uscc, title: 统一社会信用代码, type: C, length: 18, key: true, identifier: uscc}\n"  // 10
         "  - name: legal_rep_id\n"                       // 11
         "    type: C\n"                                  // 12
         "    sensitive: true\n"                          // 13
         "    purpose: identity check\n"                  // 14
         "share: {type: conditional, condition: 审批部门, method: platform, method_type: api}\n"  // 15
         "open: {type: closed}\n"                         // 16
         "update_cycle: daily\n"                          // 17
         "published: 2026-03-23\n";                       // 18
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  return text.replace(pos, from.size(), to);
}

std::string only_error(const SliceLoad& load) {
  REQUIRE(load.errors.size() == 1);
  return load.errors[0].to_string();
}

const std::string kCode = "101003/" + kProvider + "-00001";

}  // namespace

TEST_SUITE("core::catalog::Loader") {
  TEST_CASE("a valid resource loads, plain YAML scalars read as the §4 types") {
    auto load = load_slice_text(valid_yaml(), "a.yaml");
    INFO(load.error_text());
    REQUIRE(load.ok());
    REQUIRE(load.slice.resources.size() == 1);
    const Resource& r = load.slice.resources[0];
    CHECK(r.code == kCode);
    CHECK(r.classification.item == "01");
    CHECK(r.items[0].length == 18);
    CHECK(r.items[0].key);
    CHECK(r.items[0].identifier == IdentifierKind::uscc);
    CHECK(r.published == "2026-03-23");
    CHECK(r.share.type == ShareType::conditional);
  }

  TEST_CASE("unquoted digits keep their text: item: 01 is the string \"01\"") {
    auto load = load_slice_text(replace(valid_yaml(), "item: \"01\", sub: \"003\"", "item: 01, sub: 003"), "a.yaml");
    INFO(load.error_text());
    REQUIRE(load.ok());
    CHECK(load.slice.resources[0].classification.item == "01");
    CHECK(load.slice.resources[0].classification.sub == "003");
  }

  TEST_CASE("Chinese labels are accepted as aliases and load as the codes") {
    std::string yaml = replace(valid_yaml(), "share: {type: conditional, condition: 审批部门, method: platform, method_type: api}",
                               "share: {type: 有条件共享, condition: 审批部门, method: 共享平台方式, method_type: 接口}");
    yaml = replace(yaml, "open: {type: closed}", "open: {type: 不予开放}");
    yaml = replace(yaml, "update_cycle: daily", "update_cycle: 每日");
    yaml = replace(yaml, "class: base", "class: 基础");
    yaml = replace(yaml, "category: database", "category: 数据库");
    yaml = replace(yaml, "type: C, length: 18", "type: 字符, length: 18");
    auto aliased = load_slice_text(yaml, "a.yaml");
    INFO(aliased.error_text());
    REQUIRE(aliased.ok());
    auto plain = load_slice_text(valid_yaml(), "a.yaml");
    CHECK(aliased.slice.resources[0] == plain.slice.resources[0]);
    CHECK(slice_sha256(aliased.slice) == slice_sha256(plain.slice));
  }

  TEST_CASE("errors read file:line:col: code: field: rule") {
    SUBCASE("unknown member, at its key") {
      auto load = load_slice_text(replace(valid_yaml(), "    purpose: identity check\n",
                                          "    purpose: identity check\n    porpose: typo\n"), "x.yaml");
      CHECK(only_error(load) == "x.yaml:15:5: " + kCode + ": items[1].porpose: unknown member");
    }
    SUBCASE("sensitive item without purpose points at the item") {
      auto load = load_slice_text(replace(valid_yaml(), "    purpose: identity check\n", ""), "x.yaml");
      CHECK(only_error(load) == "x.yaml:11:5: " + kCode + ": items[1].purpose: sensitive items need a purpose (data minimisation)");
    }
    SUBCASE("unknown enumeration value names the choices, reported once") {
      auto load = load_slice_text(replace(valid_yaml(), "update_cycle: daily", "update_cycle: hourly"), "x.yaml");
      CHECK(only_error(load) == "x.yaml:17:1: " + kCode +
                                    ": update_cycle: unknown value 'hourly'; expected one of: realtime (实时), daily (每日), "
                                    "weekly (每周), monthly (每月), quarterly (每季度), half_yearly (每半年), yearly (每年), other (其他)");
    }
    SUBCASE("missing code: the resource is named #index") {
      auto load = load_slice_text(replace(valid_yaml(), "code: \"101003/" + kProvider + "-00001\"\n", ""), "x.yaml");
      REQUIRE(load.errors.size() == 1);
      CHECK(load.errors[0].to_string() == "x.yaml:1:1: #0: code: required");
    }
    SUBCASE("wrong type") {
      auto load = load_slice_text(replace(valid_yaml(), "length: 18", "length: long"), "x.yaml");
      CHECK(only_error(load) == "x.yaml:10:44: " + kCode + ": items[0].length: must be an integer");
    }
    SUBCASE("YAML syntax error has a position and no code") {
      auto load = load_slice_text("code: [unclosed\n", "bad.yaml");
      REQUIRE(load.errors.size() == 1);
      CHECK(load.errors[0].line >= 1);
      CHECK(load.errors[0].code.empty());
      CHECK(load.errors[0].to_string().rfind("bad.yaml:", 0) == 0);
    }
    SUBCASE("a scalar document is not a catalog file") {
      auto load = load_slice_text("just text\n", "s.yaml");
      CHECK(only_error(load) == "s.yaml:1:1: a catalog file holds one resource (a mapping) or a list of resources");
    }
    SUBCASE("duplicate member") {
      auto load = load_slice_text(replace(valid_yaml(), "update_cycle: daily\n", "update_cycle: daily\nupdate_cycle: weekly\n"),
                                  "x.yaml");
      CHECK(only_error(load) == "x.yaml:18:1: " + kCode + ": duplicate member");
    }
  }

  TEST_CASE("all errors are reported at once, in file order") {
    std::string yaml = replace(valid_yaml(), "open: {type: closed}", "open: {type: conditional}");
    yaml = replace(yaml, "published: 2026-03-23", "published: 2026-02-30");
    auto load = load_slice_text(yaml, "x.yaml");
    REQUIRE(load.errors.size() == 2);
    CHECK(load.errors[0].to_string() == "x.yaml:16:1: " + kCode + ": open.condition: conditional opening needs a condition");
    CHECK(load.errors[1].to_string() == "x.yaml:18:1: " + kCode + ": published: must be a date YYYY-MM-DD");
  }

  TEST_CASE("a list of resources in one file; duplicate codes are refused") {
    std::string item = valid_yaml();
    std::string indented;
    bool first = true;
    for (std::size_t pos = 0; pos < item.size();) {
      auto end = item.find('\n', pos);
      indented += (first ? "- " : "  ") + item.substr(pos, end - pos) + "\n";
      first = false;
      pos = end + 1;
    }
    auto load = load_slice_text(indented + indented, "list.yaml");
    REQUIRE(load.errors.size() == 1);
    CHECK(load.errors[0].to_string() == "list.yaml:19:3: " + kCode + ": code: duplicate resource code");
  }

  TEST_CASE("an empty file is an empty slice") {
    auto load = load_slice_text("# nothing yet\n", "empty.yaml");
    CHECK(load.ok());
    CHECK(load.slice.resources.empty());
  }

  TEST_CASE("the example slice in conf/catalog.d loads cleanly") {
    auto load = load_slice_dir(test::kExampleDir);
    INFO(load.error_text());
    REQUIRE(load.ok());
    REQUIRE(load.slice.resources.size() == 5);
    const Resource* first = load.slice.find("101003/11540100MB00000081-00001");
    REQUIRE(first);
    CHECK(first->name == "企业登记基本信息");
    const Resource* cases = load.slice.find("201005/11540100MB00000081-00004");
    REQUIRE(cases);
    CHECK(cases->items.size() == 12);
    CHECK(cases->update_cycle == UpdateCycle::realtime);
    const Resource* complaints = load.slice.find("302003/11540100MB00000081-00005");
    REQUIRE(complaints);
    CHECK_FALSE(complaints->shared());
    // Sorted by code.
    for (std::size_t i = 1; i < load.slice.resources.size(); ++i)
      CHECK(load.slice.resources[i - 1].code < load.slice.resources[i].code);
  }

  TEST_CASE("load_slice_dir: codes unique across files; errors name the file") {
    auto dir = std::filesystem::path(XNODE_BINARY_DIR) / "test-catalog-dir";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "a.yaml") << valid_yaml();
    std::ofstream(dir / "b.yml") << valid_yaml();
    std::ofstream(dir / "notes.txt") << "not a catalog file";
    auto load = load_slice_dir(dir);
    REQUIRE(load.errors.size() == 1);
    CHECK(load.errors[0].to_string() == (dir / "b.yml").string() + ":1:1: " + kCode + ": code: duplicate resource code");
    std::filesystem::remove_all(dir);
  }

  TEST_CASE("a missing directory is an error, not an empty slice") {
    auto load = load_slice_dir("/nonexistent/catalog.d");
    REQUIRE(load.errors.size() == 1);
    CHECK(load.errors[0].to_string().rfind("/nonexistent/catalog.d: cannot read catalog directory:", 0) == 0);
  }
}

TEST_SUITE("core::catalog::Loader") {
  TEST_CASE("text that is not UTF-8 is refused with its line (found by fuzzing)") {
    auto load = load_slice_text("code: a\nname: \"\xff\xfe\"\n", "bin.yaml");
    REQUIRE(load.errors.size() == 1);
    CHECK(load.errors[0].to_string() == "bin.yaml:2:1: not valid UTF-8 text");
  }
}
