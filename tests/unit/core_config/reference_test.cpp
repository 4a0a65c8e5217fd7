#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "core/config/config_schema.hpp"
#include "core/config/reference.hpp"
#include "test_schemas.hpp"

using namespace xnode::config;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every key path of the schema, as the reference writes it.
void collect_keys(const std::vector<KeySpec>& keys, const std::string& prefix, std::vector<std::string>& out) {
  for (const KeySpec& key : keys) {
    if (key.type == ValueType::object) {
      collect_keys(key.children, prefix + key.name + ".", out);
    } else if (key.type == ValueType::object_list) {
      collect_keys(key.children, prefix + key.name + "[].", out);
    } else {
      out.push_back(prefix + key.name);
    }
  }
}

}  // namespace

TEST_SUITE("core::config::reference") {
  TEST_CASE("docs/configuration.md is exactly what the schema generates") {
    const std::string expected = config_reference_markdown();
    const std::string actual = read_file(XNODE_SOURCE_DIR "/docs/configuration.md");
    if (actual != expected) {
      // Leave the expected text where a developer can copy it from.
      const std::string regenerated = XNODE_BINARY_DIR "/configuration.md.expected";
      std::ofstream(regenerated, std::ios::binary) << expected;
      FAIL_CHECK("docs/configuration.md differs from the schema; regenerate it with\n  cp " << regenerated << " "
                                                                                         << XNODE_SOURCE_DIR
                                                                                         << "/docs/configuration.md");
    }
  }

  TEST_CASE("the reference names every key with its default and limits") {
    const std::string reference = config_reference_markdown();
    std::vector<std::string> keys;
    collect_keys(config_schema(), "", keys);
    CHECK(keys.size() > 50);
    for (const std::string& key : keys) CHECK_MESSAGE(reference.find("| `" + key + "` |") != std::string::npos, key);
    CHECK(reference.find("| `queue.max_bytes` | size | `512MiB` | at least 16MiB |") != std::string::npos);
    CHECK(reference.find("| `uplink.backoff_max` | duration | `2s` | 1s to 10m |") != std::string::npos);
    CHECK(reference.find("| `node.id` | string | **required** |") != std::string::npos);
    CHECK(reference.find("| `queue.durability` | one of `full` \\| `normal` | `full` |") != std::string::npos);
  }

  TEST_CASE("a driver's settings get the same table") {
    const std::string table = settings_reference_markdown(test::spool_schema());
    CHECK(table.find("| `dir` | path | **required** |  | Directory the business system drops files into |") !=
          std::string::npos);
    CHECK(table.find("| `format` | one of `auto` \\| `ndjson` \\| `csv` | `auto` |") != std::string::npos);
  }
}
