#include <doctest/doctest.h>

#include "core/base/identifiers.hpp"
#include "core/config/loader.hpp"
#include "test_schemas.hpp"

using namespace std::chrono_literals;
using namespace xnode::config;

TEST_SUITE("core::config::example") {
  TEST_CASE("conf/xnode.yaml loads cleanly with the spool driver's schema") {
    LoadResult result = load_config_file(XNODE_SOURCE_DIR "/conf/xnode.yaml", test::test_drivers());
    INFO(test::first_error(result.errors));
    REQUIRE(result.ok());
    CHECK(result.errors.empty());
    CHECK(result.version == 1);
    CHECK(result.sha256.size() == 64);
    const Config& c = *result.config;
    CHECK(c.node.id == "scj-01");
    CHECK(xnode::identifiers::valid_uscc(c.node.department));
    CHECK(xnode::identifiers::uscc_check(c.node.department.substr(0, 17)) == c.node.department.back());
    CHECK(c.uplink.endpoints == std::vector<std::string>{"https://127.0.0.1:8443"});
    CHECK(c.uplink.server_name == "platform.xchg.test");
    CHECK(c.uplink.ca_file == "/etc/xnode/pki/ca.pem");
    CHECK(c.uplink.cert_file == "/etc/xnode/pki/node.pem");
    CHECK(c.uplink.key_file == "/etc/xnode/pki/node.key");
    CHECK(c.queue.durability == Durability::full);
    CHECK(c.queue.max_bytes == 512ull << 20);
    REQUIRE(c.sources.size() == 1);
    const SourceConfig& spool = c.sources.front();
    CHECK(spool.name == "enterprise-spool");
    CHECK(spool.driver == "spool");
    CHECK(spool.resource == "101003/" + c.node.department + "-00001");
    CHECK(spool.enabled);
    CHECK(spool.settings.get_string("dir") == "/var/lib/xnode/spool/enterprise");
    CHECK(spool.settings.get_string("format") == "auto");
    CHECK(spool.settings.get_string("on_done") == "move");
    CHECK(c.audit.retention_days == 1095);
    CHECK(c.log.level == LogLevel::info);
  }

  TEST_CASE("the example's spool settings are refused without the spool driver") {
    LoadResult result = load_config_file(XNODE_SOURCE_DIR "/conf/xnode.yaml", DriverSchemas{});
    CHECK_FALSE(result.ok());
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors.front().ends_with(": sources[0].driver: unknown driver \"spool\" (known: none)"));
  }
}
