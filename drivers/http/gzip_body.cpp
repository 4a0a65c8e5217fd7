#include "drivers/http/gzip_body.hpp"

#include <zlib.h>

#include <algorithm>

namespace xnode::drivers::http {

GunzipResult gunzip_bounded(std::string_view in, std::size_t max_bytes, std::string& out) {
  out.clear();
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return {GunzipStatus::corrupt, "zlib: cannot initialise"};
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  GunzipResult result;
  const std::size_t step = 64 * 1024;
  for (;;) {
    if (out.size() >= max_bytes + 1) {
      result = {GunzipStatus::too_large, {}};
      break;
    }
    const std::size_t old = out.size();
    const std::size_t grow = std::min(step, max_bytes + 1 - old);
    out.resize(old + grow);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    z.avail_out = static_cast<uInt>(grow);
    const int rc = inflate(&z, Z_NO_FLUSH);
    out.resize(old + (grow - z.avail_out));
    if (out.size() > max_bytes) {
      result = {GunzipStatus::too_large, {}};
      break;
    }
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      if (inflateReset(&z) != Z_OK) {  // another member follows
        result = {GunzipStatus::corrupt, "zlib: cannot reset"};
        break;
      }
      continue;
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0) {
      result = {GunzipStatus::corrupt, "gzip body truncated"};
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      result = {GunzipStatus::corrupt, std::string("gzip body corrupt: ") + (z.msg ? z.msg : "inflate failed")};
      break;
    }
  }
  inflateEnd(&z);
  if (result.status != GunzipStatus::ok) out.clear();
  return result;
}

}  // namespace xnode::drivers::http
