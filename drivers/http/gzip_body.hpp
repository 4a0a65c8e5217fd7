// Content-Encoding: gzip request bodies, decoded with a bound on the output (a small gzip bomb
// must not fill memory): more than `max_bytes` decoded is an error of kind too_large (413).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace xnode::drivers::http {

enum class GunzipStatus { ok, too_large, corrupt };

struct GunzipResult {
  GunzipStatus status = GunzipStatus::ok;
  std::string error;  // corrupt: zlib's reason
};

// Decodes one or more concatenated gzip members of `in` into `out` (replaced).
GunzipResult gunzip_bounded(std::string_view in, std::size_t max_bytes, std::string& out);

}  // namespace xnode::drivers::http
