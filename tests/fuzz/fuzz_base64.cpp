// libFuzzer target: the base64 decoder that reads the bureau's configuration signatures (and
// type G record values) on arbitrary bytes, with and without white space skipping.
// Oracles: a decode that succeeds re-encodes to text that decodes to the same bytes; the output
// is never longer than 3/4 of the input; skipping white space in text without any changes nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/base/sha256.hpp"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

bool has_space(std::string_view s) {
  for (char c : s)
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool skip : {false, true}) {
    std::string out;
    if (!xnode::base64_decode(text, out, skip)) continue;
    check(out.size() <= size / 4 * 3);
    std::string again;
    check(xnode::base64_decode(xnode::base64_encode(out), again));
    check(again == out);
  }
  if (!has_space(text)) {
    std::string plain, skipped;
    const bool a = xnode::base64_decode(text, plain, false);
    const bool b = xnode::base64_decode(text, skipped, true);
    check(a == b);
    if (a) check(plain == skipped);
  }
  return 0;
}
