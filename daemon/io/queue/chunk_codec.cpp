#include "io/queue/chunk_codec.hpp"

#include <zlib.h>

#include <charconv>

namespace xnode::io::chunk {

namespace {
constexpr std::string_view kPrefix = "{\"seq\":";

std::size_t digits(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}
}  // namespace

std::size_t wire_line_size(std::uint64_t seq, std::size_t tail_size) {
  return kPrefix.size() + digits(seq) + 1 + tail_size + 1;
}

void append_wire_line(std::string& out, std::uint64_t seq, std::string_view tail) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, seq);
  out += kPrefix;
  out.append(buf, r.ptr);
  out += ',';
  out += tail;
  out += '\n';
}

Expected<std::string> compress(std::string_view text) {
  uLongf size = compressBound(static_cast<uLong>(text.size()));
  std::string out(size, '\0');
  const int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(text.data()),
                           static_cast<uLong>(text.size()), kCompressionLevel);
  if (rc != Z_OK) return Error("zlib: compress failed (" + std::to_string(rc) + ")");
  // Down to its size: the buffer was the worst-case bound (larger than the text), and a chunk
  // compressed ahead waits in the store's task queue for its transaction.
  out.resize(size);
  out.shrink_to_fit();
  return out;
}

Expected<std::string> decompress(std::string_view blob, std::size_t capacity) {
  std::string out(capacity, '\0');
  uLongf size = static_cast<uLongf>(capacity);
  const int rc = uncompress(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(blob.data()),
                            static_cast<uLong>(blob.size()));
  if (rc != Z_OK)
    return Error(std::string("damaged chunk: zlib ") + (rc == Z_DATA_ERROR ? "data error" : rc == Z_BUF_ERROR ? "size mismatch" : "error") +
                 " (" + std::to_string(rc) + ")");
  out.resize(size);
  return out;
}

std::string_view Lines::tail(std::size_t i) const {
  const std::size_t begin = starts[i];
  const std::size_t end = (i + 1 < starts.size() ? starts[i + 1] : text.size()) - 1;  // drop '\n'
  return std::string_view(text).substr(begin, end - begin);
}

Expected<Lines> split(std::string text, std::uint64_t expected_count) {
  Lines lines;
  lines.starts.reserve(expected_count);
  std::size_t pos = 0;
  while (pos < text.size()) {
    lines.starts.push_back(static_cast<std::uint32_t>(pos));
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) return Error("damaged chunk: last line has no newline");
    pos = nl + 1;
  }
  if (lines.starts.size() != expected_count)
    return Error("damaged chunk: " + std::to_string(lines.starts.size()) + " lines where " +
                 std::to_string(expected_count) + " were stored");
  lines.text = std::move(text);
  return lines;
}

}  // namespace xnode::io::chunk
