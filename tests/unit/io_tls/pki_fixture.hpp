// Test certificates: scripts/gen-dev-pki run once per test binary into the build tree.
#pragma once
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace xnode::test {

inline const std::string& pki_dir() {
  static const std::string dir = [] {
    std::string d = std::string(XNODE_BINARY_DIR) + "/test-pki";
    std::string cmd = std::string(XNODE_SOURCE_DIR) + "/scripts/gen-dev-pki " + d + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("scripts/gen-dev-pki failed: " + cmd);
    return d;
  }();
  return dir;
}

inline std::string pki(const std::string& file) { return pki_dir() + "/" + file; }

}  // namespace xnode::test
