#include <doctest/doctest.h>

#include "core/config/rules.hpp"

using namespace xnode::config;

TEST_SUITE("core::config::rules") {
  TEST_CASE("node ids and source names") {
    CHECK(valid_node_id("scj-01"));
    CHECK(valid_node_id("a"));
    CHECK(valid_node_id(std::string(63, 'a')));
    CHECK_FALSE(valid_node_id(std::string(64, 'a')));
    CHECK_FALSE(valid_node_id(""));
    CHECK_FALSE(valid_node_id("-scj"));
    CHECK_FALSE(valid_node_id("Scj-01"));
    CHECK_FALSE(valid_node_id("scj_01"));
    CHECK(valid_source_name("enterprise-spool"));
    CHECK(valid_source_name("db_1"));
    CHECK_FALSE(valid_source_name("_db"));
    CHECK_FALSE(valid_source_name("Spool"));
    CHECK_FALSE(valid_source_name(std::string(65, 'a')));
  }

  TEST_CASE("DNS names and IP addresses") {
    CHECK(valid_dns_name("platform.xchg.test"));
    CHECK(valid_dns_name("localhost"));
    CHECK(valid_dns_name("a-b.example.gov."));
    CHECK_FALSE(valid_dns_name(""));
    CHECK_FALSE(valid_dns_name("-a.example"));
    CHECK_FALSE(valid_dns_name("a..b"));
    CHECK_FALSE(valid_dns_name("a_b.example"));
    CHECK_FALSE(valid_dns_name("1.2.3"));
    CHECK_FALSE(valid_dns_name(std::string(64, 'a') + ".example"));
    CHECK(valid_ipv4("127.0.0.1"));
    CHECK(valid_ipv4("255.255.255.255"));
    CHECK_FALSE(valid_ipv4("256.0.0.1"));
    CHECK_FALSE(valid_ipv4("1.2.3"));
    CHECK_FALSE(valid_ipv4("01.2.3.4"));
    CHECK(valid_ipv6("::1"));
    CHECK(valid_ipv6("::"));
    CHECK(valid_ipv6("fe80::1:2"));
    CHECK(valid_ipv6("2001:db8:0:0:0:0:0:1"));
    CHECK(valid_ipv6("::ffff:10.0.0.1"));
    CHECK_FALSE(valid_ipv6("1::2::3"));
    CHECK_FALSE(valid_ipv6("2001:db8:0:0:0:0:0:1:2"));
    CHECK_FALSE(valid_ipv6("12345::"));
    CHECK_FALSE(valid_ipv6("1:"));
  }

  TEST_CASE("URLs: https endpoints, http proxies, loopback listeners") {
    auto endpoint = parse_https_url("https://127.0.0.1:8443");
    REQUIRE(endpoint);
    CHECK(endpoint->host == "127.0.0.1");
    CHECK(endpoint->port == 8443);
    CHECK(parse_https_url("https://xchg.example.gov/")->port == 443);
    auto v6 = parse_https_url("https://[::1]:8443");
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    CHECK(v6->ipv6);
    CHECK_FALSE(parse_https_url("http://127.0.0.1:8443"));
    CHECK_FALSE(parse_https_url("https://127.0.0.1:0"));
    CHECK_FALSE(parse_https_url("https://127.0.0.1:65536"));
    CHECK_FALSE(parse_https_url("https://host:8443/xep"));
    CHECK_FALSE(parse_https_url("https://user@host:8443"));
    CHECK_FALSE(parse_https_url("https://"));
    CHECK(parse_http_proxy_url("http://proxy.gov.test:3128")->port == 3128);
    CHECK_FALSE(parse_http_proxy_url("http://proxy.gov.test"));
    CHECK_FALSE(parse_http_proxy_url("https://proxy.gov.test:3128"));
    CHECK(parse_loopback_listen("127.0.0.1:9464"));
    CHECK(parse_loopback_listen("127.1.2.3:9464"));
    CHECK(parse_loopback_listen("[::1]:9464"));
    CHECK_FALSE(parse_loopback_listen("0.0.0.0:9464"));
    CHECK_FALSE(parse_loopback_listen("10.0.0.1:9464"));
    CHECK_FALSE(parse_loopback_listen("[::]:9464"));
    CHECK_FALSE(parse_loopback_listen("localhost:9464"));
    CHECK_FALSE(parse_loopback_listen("127.0.0.1"));
  }

  TEST_CASE("resource codes and SPKI pins") {
    CHECK(valid_resource_code("101003/11540100MB00000008-00001"));
    CHECK(valid_resource_code("3010011/91350100M000100Y43-12345"));
    CHECK_FALSE(valid_resource_code("401003/11540100MB00000008-00001"));  // class digit 1-3
    CHECK_FALSE(valid_resource_code("10100/11540100MB00000008-00001"));   // sub has 3 digits
    CHECK_FALSE(valid_resource_code("101003/11540100MB00000009-00001"));  // USCC check character
    CHECK_FALSE(valid_resource_code("101003/11540100MB00000008-0001"));
    CHECK_FALSE(valid_resource_code("101003-11540100MB00000008-00001"));
    CHECK(valid_sha256_hex(std::string(64, 'a')));
    CHECK(valid_sha256_hex(std::string(64, 'F')));
    CHECK_FALSE(valid_sha256_hex(std::string(63, 'a')));
    CHECK_FALSE(valid_sha256_hex(std::string(64, 'g')));
  }
}
