#include "tests/platform/fast_sha256.hpp"

#include "core/base/sha256.hpp"

namespace xnode::platform {

// The accelerated rounds live in core/base (the daemon hashes every batch body too).
bool sha256_accelerated() { return Sha256::accelerated(); }
std::string sha256_hex(std::string_view data) { return Sha256::hex(data); }

}  // namespace xnode::platform
