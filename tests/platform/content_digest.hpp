// The per-record content digest the platform keeps for every stored record, so that a duplicate
// (a seq at or below the high-water mark) can be compared with what was stored (§3.3
// `mismatches`) without keeping records row by row. It is taken over the record's line as
// received: the node resends records from its queue byte for byte.
//
// Not cryptographic on purpose: the body as a whole is already authenticated by TLS and checked
// against X-XN-Body-Sha256; this only has to tell two different records apart, and SHA-256 per
// record was 40 % of the platform's CPU at 100,000 records/s.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

namespace xnode::platform {

using ContentDigest = std::array<std::uint8_t, 16>;

ContentDigest content_digest(std::string_view bytes);

}  // namespace xnode::platform
