#include "tests/platform/content_digest.hpp"

#include <cstring>

namespace xnode::platform {

namespace {

// The SplitMix64 finaliser: every input bit affects every output bit.
std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t load64(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

}  // namespace

ContentDigest content_digest(std::string_view bytes) {
  // Two lanes with different seeds and multipliers give 128 bits.
  std::uint64_t a = 0x243f6a8885a308d3ULL ^ bytes.size();
  std::uint64_t b = 0x13198a2e03707344ULL + bytes.size() * 0x9e3779b97f4a7c15ULL;
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t w = load64(bytes.data() + i);
    a = (a ^ w) * 0x9e3779b97f4a7c15ULL;
    a ^= a >> 29;
    b = (b + w) * 0xc2b2ae3d27d4eb4fULL;
    b ^= b >> 31;
  }
  std::uint64_t tail = 0;
  if (i < bytes.size()) std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
  a = mix(a ^ tail);
  b = mix(b + tail + 0x165667b19e3779f9ULL);
  a = mix(a ^ b);
  ContentDigest out;
  std::memcpy(out.data(), &a, 8);
  std::memcpy(out.data() + 8, &b, 8);
  return out;
}

}  // namespace xnode::platform
