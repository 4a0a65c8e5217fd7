// gzip for request bodies (Content-Encoding: gzip, §1) and for the stored batch bodies.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace xnode::platform {

enum class InflateResult { ok, too_large, corrupt };

// Inflates a gzip stream into `out`; stops with too_large as soon as more than `limit` bytes
// would come out (a small bomb must not cost memory).
InflateResult gunzip(std::string_view compressed, std::size_t limit, std::string& out);
// gzip at the given zlib level (1 = fastest).
std::string gzip(std::string_view data, int level = 1);

}  // namespace xnode::platform
