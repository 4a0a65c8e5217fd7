#include "tests/platform/gzip.hpp"

#include <zlib.h>

#include <stdexcept>

namespace xnode::platform {

InflateResult gunzip(std::string_view compressed, std::size_t limit, std::string& out) {
  out.clear();
  z_stream zs{};
  // 16 + MAX_WBITS: gzip framing only (a raw zlib stream is not what the header promised).
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return InflateResult::corrupt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  out.resize(std::min<std::size_t>(limit + 1, compressed.size() * 4 + 1024));
  std::size_t produced = 0;
  int rc = Z_OK;
  for (;;) {
    if (produced == out.size()) {
      if (out.size() > limit) break;
      out.resize(std::min<std::size_t>(limit + 1, out.size() * 2));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(out.size() - produced);
    rc = inflate(&zs, Z_NO_FLUSH);
    produced = out.size() - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // truncated input
  }
  bool trailing = zs.avail_in != 0;
  inflateEnd(&zs);
  if (produced > limit) return InflateResult::too_large;
  if (rc != Z_STREAM_END || trailing) return InflateResult::corrupt;
  out.resize(produced);
  return InflateResult::ok;
}

std::string gzip(std::string_view data, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("zlib: deflateInit2 failed");
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("zlib: deflate failed");
  return out;
}

}  // namespace xnode::platform
