// SHA-256 (FIPS 180-4), in core so that the catalog hash and the audit chain stay pure.
// The io layer may use mbedTLS's for bulk data; both must agree (a unit test checks vectors).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace xnode {

class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;
  Sha256();
  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  Digest finish();

  static Digest digest(std::string_view s);
  static std::string hex(std::string_view s);  // lower-case hex of the digest
  // True when this CPU's SHA instructions are in use (x86 SHA-NI); the portable rounds otherwise.
  static bool accelerated();
  // Tests compare both paths: false forces the portable rounds in this process.
  static void allow_acceleration(bool allow);

 private:
  void block(const std::uint8_t* p);
  void blocks(const std::uint8_t* p, std::size_t n);
  std::uint32_t m_h[8];
  std::uint8_t m_buf[64];
  std::size_t m_buf_len = 0;
  std::uint64_t m_total = 0;
};

std::string to_hex(const std::uint8_t* data, std::size_t size);
template <std::size_t N>
std::string to_hex(const std::array<std::uint8_t, N>& a) { return to_hex(a.data(), N); }
// Decodes hex (either case); false on odd length or a non-hex character.
bool from_hex(std::string_view hex, std::string& out);

std::string base64_encode(std::string_view data);
// Decodes standard base64 (padding required when the length is not a multiple of 4);
// ignores ASCII white space when `skip_space`. False on any other character.
bool base64_decode(std::string_view text, std::string& out, bool skip_space = false);

}  // namespace xnode
