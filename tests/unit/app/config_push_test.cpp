// The push rules and the file replacement of app/config_push, with a bureau key pair made by
// openssl at run time (never committed) and real files in the build tree.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "app/config_push.hpp"
#include "core/base/sha256.hpp"

using namespace xnode;
using namespace xnode::app;
namespace fs = std::filesystem;

namespace {

const std::string& dir() {
  static const std::string d = [] {
    std::string p = std::string(XNODE_BINARY_DIR) + "/test-config-push";
    fs::remove_all(p);
    fs::create_directories(p);
    auto run = [](const std::string& cmd) {
      if (std::system((cmd + " 2>/dev/null").c_str()) != 0) throw std::runtime_error("failed: " + cmd);
    };
    run("openssl ecparam -name prime256v1 -genkey -noout -out " + p + "/bureau.key");
    run("openssl ec -in " + p + "/bureau.key -pubout -out " + p + "/bureau.pem");
    return p;
  }();
  return d;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string sign(const std::string& text) {
  const std::string file = dir() + "/to-sign.yaml";
  write(file, text);
  const std::string cmd = "openssl dgst -sha256 -sign " + dir() + "/bureau.key " + file + " | base64 -w0 > " + file + ".sig";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl dgst failed");
  return slurp(file + ".sig");
}

RunningConfig running(std::int64_t version, bool require) {
  RunningConfig r;
  r.version = version;
  r.sha256 = Sha256::hex("version: " + std::to_string(version) + "\n");
  r.push.require_signature = require;
  r.push.public_key = dir() + "/bureau.pem";
  return r;
}

ConfigCandidate candidate(ConfigOrigin origin, const std::string& yaml, std::optional<std::string> sig,
                          std::optional<std::int64_t> envelope = std::nullopt) {
  ConfigCandidate c;
  c.origin = origin;
  c.yaml = yaml;
  c.signature = std::move(sig);
  c.envelope_version = envelope;
  return c;
}

std::string message(const Expected<void>& r) { return r.ok() ? std::string("ok") : r.error().message; }

}  // namespace

TEST_SUITE("app::config_push") {
  TEST_CASE("files without require_signature are applied as before") {
    CHECK(check_push_rules(candidate(ConfigOrigin::file, "version: 1\n", std::nullopt), 1, running(5, false)).ok());
  }

  TEST_CASE("with require_signature a file needs a valid signature and a newer version") {
    const std::string v6 = "version: 6\n";
    CHECK(check_push_rules(candidate(ConfigOrigin::file, v6, sign(v6)), 6, running(5, true)).ok());
    CHECK(message(check_push_rules(candidate(ConfigOrigin::file, v6, std::nullopt), 6, running(5, true)))
              .find("unsigned") == 0);
    CHECK(message(check_push_rules(candidate(ConfigOrigin::file, v6, sign("version: 7\n")), 6, running(5, true)))
              .find("does not verify") != std::string::npos);
    const std::string v4 = "version: 4\n";
    CHECK(message(check_push_rules(candidate(ConfigOrigin::file, v4, sign(v4)), 4, running(5, true)))
              .find("not newer") != std::string::npos);
    // The running file itself (a SIGHUP, a catalog edit) reloads without the version rule.
    CHECK(check_push_rules(candidate(ConfigOrigin::file, "version: 5\n", std::nullopt), 5, running(5, true)).ok());
  }

  TEST_CASE("platform pushes always need the key, a signature, a matching envelope and a newer version") {
    const std::string v6 = "version: 6\n";
    CHECK(check_push_rules(candidate(ConfigOrigin::platform, v6, sign(v6), 6), 6, running(5, false)).ok());
    RunningConfig no_key = running(5, false);
    no_key.push.public_key.clear();
    CHECK(message(check_push_rules(candidate(ConfigOrigin::platform, v6, sign(v6), 6), 6, no_key))
              .find("config_push.public_key is not set") != std::string::npos);
    CHECK(message(check_push_rules(candidate(ConfigOrigin::platform, v6, sign(v6), 9), 6, running(5, true)))
              .find("announced version 9") != std::string::npos);
    const std::string v5 = "version: 5\n";
    CHECK_FALSE(check_push_rules(candidate(ConfigOrigin::platform, v5, sign(v5), 5), 5, running(5, true)).ok());
  }

  TEST_CASE("the start refuses an unsigned file and a version below the highest applied") {
    config::ConfigPushConfig own;
    own.require_signature = true;
    own.public_key = dir() + "/bureau.pem";
    const std::string v3 = "version: 3\n";
    CHECK(check_start_rules(candidate(ConfigOrigin::file, v3, sign(v3)), 3, own, 3).ok());
    CHECK(check_start_rules(candidate(ConfigOrigin::file, v3, sign(v3)), 3, own, std::nullopt).ok());
    CHECK(message(check_start_rules(candidate(ConfigOrigin::file, v3, sign(v3)), 3, own, 4)).find("no rollback") !=
          std::string::npos);
    CHECK_FALSE(check_start_rules(candidate(ConfigOrigin::file, v3, std::nullopt), 3, own, std::nullopt).ok());
    own.require_signature = false;
    CHECK(check_start_rules(candidate(ConfigOrigin::file, v3, std::nullopt), 3, own, 4).ok());
  }

  TEST_CASE("the platform's answer is parsed strictly") {
    auto ok = parse_config_offer(R"({"version": 13, "yaml": "version: 13\n", "signature": "MEUC"})");
    REQUIRE(ok.ok());
    CHECK(ok->origin == ConfigOrigin::platform);
    CHECK(ok->envelope_version == 13);
    CHECK(ok->yaml == "version: 13\n");
    CHECK_FALSE(parse_config_offer("not json").ok());
    CHECK_FALSE(parse_config_offer(R"({"version": "13", "yaml": "", "signature": "MEUC"})").ok());
    CHECK_FALSE(parse_config_offer(R"({"version": 13, "yaml": "version: 13\n"})").ok());
    CHECK_FALSE(parse_config_offer(R"({"version": 13, "yaml": "version: 13\n", "signature": ""})").ok());
  }

  TEST_CASE("install replaces file and signature, keeps the previous pair, and can put it back") {
    const std::string path = dir() + "/etc/xnode.yaml";
    fs::create_directories(dir() + "/etc");
    write(path, "version: 1\n");
    ::chmod(path.c_str(), 0640);
    write(path + ".sig", "OLDSIG\n");
    REQUIRE(install_config_file(path, "version: 2\n", "NEWSIG").ok());
    CHECK(slurp(path) == "version: 2\n");
    CHECK(slurp(path + ".sig") == "NEWSIG\n");
    CHECK(slurp(path + ".prev") == "version: 1\n");
    CHECK(slurp(path + ".prev.sig") == "OLDSIG\n");
    CHECK((fs::status(path).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
    CHECK_FALSE(fs::exists(path + ".tmp"));
    auto c = read_config_file(path);
    REQUIRE(c.ok());
    CHECK(c->yaml == "version: 2\n");
    CHECK(c->signature == std::optional<std::string>("NEWSIG\n"));
    REQUIRE(restore_previous_config(path).ok());
    CHECK(slurp(path) == "version: 1\n");
    CHECK(slurp(path + ".sig") == "OLDSIG\n");
    fs::remove(path + ".sig");
    auto unsigned_file = read_config_file(path);
    REQUIRE(unsigned_file.ok());
    CHECK_FALSE(unsigned_file->signature.has_value());
    CHECK_FALSE(read_config_file(dir() + "/etc/missing.yaml").ok());
  }
}
