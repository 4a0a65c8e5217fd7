// The configuration signature (platform-api.md §3.7) against what openssl makes: keys and
// signatures are produced at run time with the openssl command line, never committed.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "core/base/sha256.hpp"
#include "io/tls/signature.hpp"

using namespace xnode;

namespace {

void run(const std::string& cmd) {
  if (std::system((cmd + " 2>/dev/null").c_str()) != 0) throw std::runtime_error("failed: " + cmd);
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

// A bureau key pair, a second P-256 pair, a P-384 and an RSA public key, and one signed YAML.
struct Keys {
  std::string dir = std::string(XNODE_BINARY_DIR) + "/test-signature";
  std::string yaml = "# pushed by the bureau\nversion: 13\nnode:\n  id: scj-01\n";
  std::string signature;  // base64 of the DER signature, as the bureau makes it
  Keys() {
    std::filesystem::create_directories(dir);
    run("openssl ecparam -name prime256v1 -genkey -noout -out " + f("bureau.key"));
    run("openssl ec -in " + f("bureau.key") + " -pubout -out " + f("bureau.pem"));
    run("openssl ecparam -name prime256v1 -genkey -noout -out " + f("other.key"));
    run("openssl ec -in " + f("other.key") + " -pubout -out " + f("other.pem"));
    run("openssl ecparam -name secp384r1 -genkey -noout -out " + f("p384.key"));
    run("openssl ec -in " + f("p384.key") + " -pubout -out " + f("p384.pem"));
    run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + f("rsa.key"));
    run("openssl pkey -in " + f("rsa.key") + " -pubout -out " + f("rsa.pem"));
    write(f("xnode.yaml"), yaml);
    run("openssl dgst -sha256 -sign " + f("bureau.key") + " " + f("xnode.yaml") + " | base64 -w0 > " +
        f("xnode.yaml.sig"));
    signature = slurp(f("xnode.yaml.sig"));
  }
  std::string f(const std::string& name) const { return dir + "/" + name; }
};

const Keys& keys() {
  static const Keys k;
  return k;
}

}  // namespace

TEST_SUITE("io::tls signature") {
  TEST_CASE("a signature made by openssl verifies over the exact bytes") {
    const Keys& k = keys();
    CHECK(tls::check_signing_key(k.f("bureau.pem")).ok());
    auto v = tls::verify_signature(k.f("bureau.pem"), k.yaml, k.signature);
    CHECK_MESSAGE(v.ok(), (v.ok() ? "" : v.error().message));
  }

  TEST_CASE("white space in the base64 is ignored") {
    const Keys& k = keys();
    std::string wrapped;
    for (std::size_t i = 0; i < k.signature.size(); i += 16) wrapped += k.signature.substr(i, 16) + "\n ";
    CHECK(tls::verify_signature(k.f("bureau.pem"), k.yaml, wrapped).ok());
  }

  TEST_CASE("one flipped byte in the YAML fails") {
    const Keys& k = keys();
    std::string changed = k.yaml;
    changed[changed.find("13")] = '2';
    auto v = tls::verify_signature(k.f("bureau.pem"), changed, k.signature);
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().message.find("does not verify") != std::string::npos);
    CHECK_FALSE(tls::verify_signature(k.f("bureau.pem"), k.yaml + "\n", k.signature).ok());
  }

  TEST_CASE("one flipped byte in the signature fails") {
    const Keys& k = keys();
    std::string der;
    REQUIRE(base64_decode(k.signature, der, true));
    for (std::size_t at : {std::size_t(0), std::size_t(5), der.size() / 2, der.size() - 1}) {
      std::string bad = der;
      bad[at] = static_cast<char>(bad[at] ^ 0x01);
      CHECK_FALSE(tls::verify_signature(k.f("bureau.pem"), k.yaml, base64_encode(bad)).ok());
    }
    CHECK_FALSE(tls::verify_signature(k.f("bureau.pem"), k.yaml, base64_encode(der + "x")).ok());
  }

  TEST_CASE("another key's signature fails") {
    const Keys& k = keys();
    auto v = tls::verify_signature(k.f("other.pem"), k.yaml, k.signature);
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().message.find("other.pem") != std::string::npos);
  }

  TEST_CASE("keys that are not P-256 public keys are refused") {
    const Keys& k = keys();
    auto p384 = tls::check_signing_key(k.f("p384.pem"));
    REQUIRE_FALSE(p384.ok());
    CHECK(p384.error().message.find("another curve") != std::string::npos);
    auto rsa = tls::check_signing_key(k.f("rsa.pem"));
    REQUIRE_FALSE(rsa.ok());
    CHECK(rsa.error().message.find("not an ECDSA P-256") != std::string::npos);
    CHECK_FALSE(tls::check_signing_key(k.f("bureau.key")).ok());  // the private key is not what the node holds
    CHECK_FALSE(tls::check_signing_key(k.f("missing.pem")).ok());
    CHECK_FALSE(tls::check_signing_key("").ok());
    write(k.f("garbage.pem"), "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n");
    CHECK_FALSE(tls::check_signing_key(k.f("garbage.pem")).ok());
    CHECK_FALSE(tls::verify_signature(k.f("p384.pem"), k.yaml, k.signature).ok());
  }

  TEST_CASE("garbage base64 and empty signatures are refused with a reason") {
    const Keys& k = keys();
    auto v = tls::verify_signature(k.f("bureau.pem"), k.yaml, "not*base64!");
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().message == "the signature is not base64");
    CHECK_FALSE(tls::verify_signature(k.f("bureau.pem"), k.yaml, "").ok());
    CHECK_FALSE(tls::verify_signature(k.f("bureau.pem"), k.yaml, "AAAA").ok());
    CHECK_FALSE(tls::verify_signature(k.f("bureau.pem"), k.yaml, k.signature.substr(0, k.signature.size() - 4)).ok());
  }
}
