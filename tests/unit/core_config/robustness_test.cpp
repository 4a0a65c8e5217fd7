#include <doctest/doctest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "core/config/loader.hpp"
#include "test_schemas.hpp"

using namespace xnode::config;

// A pushed configuration is outside input: whatever the bytes, the loader answers with errors
// (each a file:line:col line) and never crashes, hangs or throws.
TEST_SUITE("core::config::robustness") {
  TEST_CASE("deep nesting and alias-heavy input are refused, not followed") {
    const std::string deep_flow = "node: " + std::string(100000, '[') + "\n";
    LoadResult flow = load_config_text(deep_flow, "deep.yaml", test::test_drivers());
    CHECK_FALSE(flow.ok());
    REQUIRE_FALSE(flow.errors.empty());
    CHECK(flow.errors.front().starts_with("deep.yaml:"));

    std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    for (char level = 'b'; level <= 'k'; ++level)
      laughs += std::string(1, level) + ": &" + level + " [*" + char(level - 1) + ", *" + char(level - 1) + ", *" +
                char(level - 1) + ", *" + char(level - 1) + ", *" + char(level - 1) + "]\n";
    laughs += "uplink:\n  pins: *k\n";
    LoadResult bomb = load_config_text(laughs, "bomb.yaml", test::test_drivers());
    CHECK_FALSE(bomb.ok());
    CHECK(bomb.errors.size() < 250);  // capped, and the list is never expanded entry by entry
  }

  TEST_CASE("random mutations of the example never crash the loader") {
    std::ifstream in(XNODE_SOURCE_DIR "/conf/xnode.yaml", std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string example = buffer.str();
    REQUIRE(example.size() > 1000);
    const std::string alphabet = " \t\n:-[]{}&*!|>'\"#%@`,?~0123456789abcxyzMiBs\xe6\x9c\xac\xff";
    std::mt19937 random(20260323);
    int refused = 0;
    for (int round = 0; round < 1500; ++round) {
      std::string text = example;
      const int edits = 1 + static_cast<int>(random() % 4);
      for (int e = 0; e < edits; ++e) {
        const std::size_t at = random() % text.size();
        switch (random() % 3) {
          case 0: text[at] = alphabet[random() % alphabet.size()]; break;
          case 1: text.insert(at, 1, alphabet[random() % alphabet.size()]); break;
          default: text.erase(at, 1 + random() % 8); break;
        }
      }
      LoadResult result = load_config_text(text, "fuzz.yaml", test::test_drivers());
      if (!result.ok()) {
        ++refused;
        REQUIRE_FALSE(result.errors.empty());
        for (const std::string& line : result.errors) REQUIRE(line.starts_with("fuzz.yaml"));
      }
    }
    CHECK(refused > 100);  // most mutations break something, and say so
  }
}
