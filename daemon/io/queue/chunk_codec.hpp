// How records are kept on disk: a chunk is up to `chunk_records` consecutive records of one stream,
// stored as their tails (the wire line without `{"seq":N,`), one a line, zlib-compressed. Seq
// numbers are not stored per line: the chunk's first_seq and the line index give them, which also
// keeps the text compact. A wire line is `{"seq":N,` + tail + '\n'.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/expected.hpp"

namespace xnode::io::chunk {

// zlib level 1: the store compresses on its own thread at intake speed; higher levels gain a few
// percent of size for several times the CPU.
inline constexpr int kCompressionLevel = 4;

std::size_t wire_line_size(std::uint64_t seq, std::size_t tail_size);
void append_wire_line(std::string& out, std::uint64_t seq, std::string_view tail);

Expected<std::string> compress(std::string_view text);
// `capacity` bounds the output (a chunk's raw_bytes is always enough: wire lines are longer than
// stored lines). A blob that does not inflate cleanly is damage, reported as an error.
Expected<std::string> decompress(std::string_view blob, std::size_t capacity);

// The decompressed text of a chunk with the start of each line, for reading from any record on.
struct Lines {
  std::string text;
  std::vector<std::uint32_t> starts;  // offset of each line; line i ends at starts[i+1]-1 or text.size()-1
  std::size_t size() const { return starts.size(); }
  std::string_view tail(std::size_t i) const;
};
// Splits a decompressed chunk; an error when it does not hold `expected_count` lines.
Expected<Lines> split(std::string text, std::uint64_t expected_count);

}  // namespace xnode::io::chunk
