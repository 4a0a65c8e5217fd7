#include <doctest/doctest.h>

#include "core/config/units.hpp"

using namespace std::chrono_literals;
using xnode::config::format_duration;
using xnode::config::format_size;
using xnode::config::parse_duration;
using xnode::config::parse_size;

TEST_SUITE("core::config::units") {
  TEST_CASE("sizes: binary and decimal units, plain bytes") {
    CHECK(parse_size("4096") == 4096u);
    CHECK(parse_size("0") == 0u);
    CHECK(parse_size("100B") == 100u);
    CHECK(parse_size("16KiB") == 16u * 1024);
    CHECK(parse_size("512MiB") == 512ull * 1024 * 1024);
    CHECK(parse_size("1GiB") == 1024ull * 1024 * 1024);
    CHECK(parse_size("2TiB") == 2ull * 1024 * 1024 * 1024 * 1024);
    CHECK(parse_size("1KB") == 1000u);
    CHECK(parse_size("5MB") == 5'000'000u);
    CHECK(parse_size("3GB") == 3'000'000'000u);
    CHECK(parse_size("1TB") == 1'000'000'000'000u);
  }

  TEST_CASE("sizes: malformed or overflowing text is refused") {
    for (const char* bad : {"", "MiB", "12 MiB", "1.5GiB", "-1", "10mib", "10Mb", "10K", "10KiBB", " 10",
                            "18446744073709551616", "16777216TiB"})
      CHECK_MESSAGE(!parse_size(bad), bad);
    CHECK(parse_size("18446744073709551615") == 18446744073709551615ull);
  }

  TEST_CASE("sizes: formatted in the shortest exact unit") {
    CHECK(format_size(0) == "0B");
    CHECK(format_size(100) == "100B");
    CHECK(format_size(4096) == "4KiB");
    CHECK(format_size(16ull << 20) == "16MiB");
    CHECK(format_size(1536ull << 20) == "1536MiB");
    CHECK(format_size(1ull << 30) == "1GiB");
    CHECK(format_size(1'000'000) == "1MB");
    CHECK(format_size(1'500) == "1500B");
    for (const char* text : {"512MiB", "1GiB", "16KiB", "3GB", "4097B"})
      CHECK(format_size(*parse_size(text)) == text);
  }

  TEST_CASE("durations: units and compounds") {
    CHECK(parse_duration("250ms") == 250ms);
    CHECK(parse_duration("30s") == 30s);
    CHECK(parse_duration("5m") == 5min);
    CHECK(parse_duration("2h") == 2h);
    CHECK(parse_duration("1d") == 24h);
    CHECK(parse_duration("0s") == 0ms);
    CHECK(parse_duration("1h30m") == 90min);
    CHECK(parse_duration("1m500ms") == 60500ms);
    CHECK(parse_duration("365d") == 365 * 24h);
  }

  TEST_CASE("durations: a bare number, unknown unit or wrong order is refused") {
    for (const char* bad : {"", "10", "10 s", "s", "1.5s", "10sec", "1w", "30m1h", "1s1s", "-5s", "10S",
                            "5ms3s", "99999999999999999999d", "9999999999999999d"})
      CHECK_MESSAGE(!parse_duration(bad), bad);
  }

  TEST_CASE("durations: formatted in the largest exact unit") {
    CHECK(format_duration(0ms) == "0s");
    CHECK(format_duration(250ms) == "250ms");
    CHECK(format_duration(1500ms) == "1500ms");
    CHECK(format_duration(30s) == "30s");
    CHECK(format_duration(90s) == "90s");
    CHECK(format_duration(10min) == "10m");
    CHECK(format_duration(1h) == "1h");
    CHECK(format_duration(24h) == "1d");
    CHECK(format_duration(365 * 24h) == "365d");
  }
}
