// The accelerated SHA-256 must agree with the project's portable one on every length around the
// block and padding boundaries, and on the FIPS 180-4 vectors.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "core/base/sha256.hpp"
#include "tests/platform/content_digest.hpp"
#include "tests/platform/fast_sha256.hpp"

using namespace xnode;
using namespace xnode::platform;

TEST_SUITE("platform::Sha256") {

TEST_CASE("known vectors") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  INFO("accelerated: " << sha256_accelerated());
}

TEST_CASE("agrees with core/base Sha256 on lengths 0..300 and a large buffer") {
  std::mt19937 rng(7);
  std::string data;
  for (std::size_t n = 0; n <= 300; ++n) {
    CHECK(sha256_hex(data) == Sha256::hex(data));
    data += static_cast<char>(rng());
  }
  std::string big(1 << 20, '\0');
  for (auto& c : big) c = static_cast<char>(rng());
  CHECK(sha256_hex(big) == Sha256::hex(big));
}

TEST_CASE("content digest tells records apart and is stable") {
  CHECK(content_digest("abc") == content_digest("abc"));
  CHECK(content_digest("abc") != content_digest("abd"));
  CHECK(content_digest("") != content_digest(std::string(1, '\0')));
  CHECK(content_digest("12345678") != content_digest("123456789"));
}

}  // TEST_SUITE
