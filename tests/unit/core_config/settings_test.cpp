#include <doctest/doctest.h>

#include <stdexcept>

#include "core/config/loader.hpp"
#include "test_schemas.hpp"

using namespace std::chrono_literals;
using namespace xnode::config;
using Lines = std::vector<std::string>;
using xnode::config::test::first_error;

TEST_SUITE("core::config::Settings") {
  TEST_CASE("a driver gets typed values with their positions, defaults filled in") {
    SettingsResult result = load_settings_text(
        "root: data\nworkers: 4\nverbose: true\nbuffer: 1MiB\npoll: 250ms\ntables: [a, b]\n"
        "headers: {X-Token: abc, Accept: text/csv}\n",
        "probe.yaml", test::every_type_schema(), "/srv");
    INFO(first_error(result.errors));
    REQUIRE(result.ok());
    const Settings& s = *result.settings;
    CHECK(s.get_string("root") == "/srv/data");
    CHECK(s.get_int("workers") == 4);
    CHECK(s.get_bool("verbose"));
    CHECK(s.get_size("buffer") == 1u << 20);
    CHECK(s.get_duration("poll") == 250ms);
    CHECK(s.get_list("tables") == Lines{"a", "b"});
    CHECK(s.get_map("headers") == std::map<std::string, std::string>{{"Accept", "text/csv"}, {"X-Token", "abc"}});
    CHECK(s.get_string("label") == "none");  // default
    CHECK(s.find("label")->is_default);
    CHECK_FALSE(s.find("workers")->is_default);
    CHECK(s.position_of("workers") == Position{2, 10});
    CHECK(s.position_of("poll") == Position{5, 7});
    CHECK(s.position_of("label") == Position{1, 1});  // a default points at the mapping
  }

  TEST_CASE("optional keys without default are declared but not set") {
    SettingsResult result = load_settings_text("dir: /srv/spool\n", "spool.yaml", test::spool_schema());
    REQUIRE(result.ok());
    CHECK(result.settings->has("dir"));
    CHECK(result.settings->has("format"));
    CHECK_FALSE(result.settings->has("done_dir"));
    CHECK(result.settings->get_string("done_dir").empty());
    CHECK_FALSE(result.settings->has("no_such_key"));
  }

  TEST_CASE("asking for an undeclared key or the wrong type is a defect of the caller") {
    SettingsResult result = load_settings_text("root: /srv\n", "probe.yaml", test::every_type_schema());
    REQUIRE(result.ok());
    CHECK_THROWS_WITH_AS(result.settings->get_string("nope"), "settings: key \"nope\" is not declared",
                         std::logic_error);
    CHECK_THROWS_WITH_AS(result.settings->get_size("poll"), "settings: key \"poll\" is a duration, not a size",
                         std::logic_error);
    CHECK_THROWS_AS(result.settings->get_int("root"), std::logic_error);
  }

  TEST_CASE("settings errors are collected like the configuration's") {
    SettingsResult result = load_settings_text("workers: 0\nbuffer: lots\ntables: [a, [b]]\nextra: 1\n",
                                               "probe.yaml", test::every_type_schema());
    CHECK_FALSE(result.ok());
    CHECK(result.errors == Lines{"probe.yaml:1:1: root: is required",
                                 "probe.yaml:1:10: workers: must be at least 1 (got 0)",
                                 "probe.yaml:2:9: buffer: must be a size such as 512MiB, 16KiB or 4096 (got \"lots\")",
                                 "probe.yaml:3:13: tables[1]: must be a string (got a list)",
                                 "probe.yaml:4:1: extra: unknown key (known: label, workers, verbose, buffer, poll, root, "
                                 "tables, headers)"});
  }

  TEST_CASE("same_values ignores positions but not values") {
    auto load = [](const std::string& text) {
      SettingsResult result = load_settings_text(text, "probe.yaml", test::every_type_schema(), "/srv");
      REQUIRE(result.ok());
      return *result.settings;
    };
    const Settings a = load("root: data\nworkers: 4\ntables: [a]\n");
    const Settings moved = load("\n\nworkers: 4\ntables:\n  - a\nroot: /srv/data\n");
    CHECK(a.position_of("root") != moved.position_of("root"));
    CHECK(same_values(a, moved));
    CHECK_FALSE(same_values(a, load("root: data\nworkers: 5\ntables: [a]\n")));
    CHECK_FALSE(same_values(a, load("root: data\nworkers: 4\ntables: [a, b]\n")));
    CHECK_FALSE(same_values(a, load("root: other\nworkers: 4\ntables: [a]\n")));
    CHECK_FALSE(same_values(a, Settings()));
  }
}
