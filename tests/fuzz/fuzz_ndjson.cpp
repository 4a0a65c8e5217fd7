// libFuzzer target: the incremental NDJSON decoder on arbitrary bytes.
// Oracle: decoding the same bytes in arbitrary chunks (sizes taken from the input's first bytes)
// gives exactly the records of a one-piece decode. Invariants: offsets increase and stay within
// the input, line numbers increase, a good record is an object without "_op", raw text is bounded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/intake/ndjson_decoder.hpp"

using namespace xnode::intake;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

std::vector<DecodedRecord> decode(std::string_view input, const std::vector<std::size_t>& chunks) {
  NdjsonOptions options;
  options.max_line_bytes = 64;  // small, so over-long lines are reached often
  NdjsonDecoder decoder(options);
  std::vector<DecodedRecord> out;
  std::size_t at = 0, i = 0;
  while (at < input.size()) {
    std::size_t n = chunks.empty() ? input.size() : chunks[i++ % chunks.size()];
    if (n > input.size() - at) n = input.size() - at;
    decoder.feed(input.substr(at, n), out);
    at += n;
  }
  decoder.finish(out);
  check(decoder.offset() == input.size());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::vector<std::size_t> chunks;
  for (std::size_t i = 0; i < 2; ++i) chunks.push_back(1 + data[i] % 17);
  std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

  auto whole = decode(input, {});
  auto pieces = decode(input, chunks);
  check(whole.size() == pieces.size());
  std::uint64_t last_offset = 0, last_line = 0;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    const auto& a = whole[i];
    const auto& b = pieces[i];
    check(a.line == b.line && a.end_offset == b.end_offset && a.raw == b.raw && a.error == b.error &&
          a.is_delete == b.is_delete && a.data == b.data);
    check(a.end_offset > last_offset && a.end_offset <= input.size());
    check(a.line > last_line);
    check(a.raw.size() <= 64 + 1024);
    if (a.ok()) check(a.data.is_object() && a.data.find("_op") == nullptr);
    last_offset = a.end_offset;
    last_line = a.line;
  }
  return 0;
}
