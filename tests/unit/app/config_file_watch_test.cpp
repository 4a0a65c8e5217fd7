// The configuration file watch on real files: a change is reported once, after it settled for a
// tick; a reload's own read (seen) is not reported again.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "app/config_file_watch.hpp"

using namespace xnode::app;
namespace fs = std::filesystem;

namespace {
void write(const std::string& path, const std::string& text) {
  std::ofstream out(path + ".new", std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  fs::rename(path + ".new", path);  // as the tooling does: a new inode every time
}
}  // namespace

TEST_SUITE("app::config_file_watch") {
  TEST_CASE("a replaced pair is reported once it settled, a seen state never") {
    const std::string dir = std::string(XNODE_BINARY_DIR) + "/test-config-watch";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string path = dir + "/xnode.yaml";
    write(path, "version: 1\n");
    ConfigFileWatch watch(path);
    CHECK_FALSE(watch.changed());

    write(path, "version: 2\n");
    CHECK_FALSE(watch.changed());  // first sight: wait a tick for the .sig
    write(path + ".sig", "MEUC\n");
    CHECK_FALSE(watch.changed());  // changed again: wait again
    CHECK(watch.changed());        // settled
    CHECK_FALSE(watch.changed());  // once

    write(path, "version: 3\n");
    watch.seen(watch.fingerprint());  // a SIGHUP reload read it
    CHECK_FALSE(watch.changed());
    CHECK_FALSE(watch.changed());

    fs::remove(path + ".sig");  // a removed signature is a change too
    CHECK_FALSE(watch.changed());
    CHECK(watch.changed());
    CHECK_FALSE(ConfigFileWatch().changed());
  }
}
