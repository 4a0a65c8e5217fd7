// SHA-256 of whole buffers with the x86 SHA extensions when the CPU has them, the project's
// portable core/base Sha256 otherwise (other CPUs, ARM64 included). The platform hashes every
// batch body (X-XN-Body-Sha256): at 100,000 records/s the portable code took a third of its CPU.
// If the daemon wants the same speed, this belongs in core/base (see the final report).
#pragma once
#include <string>
#include <string_view>

namespace xnode::platform {

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);
// True when the accelerated path is in use (for tests and the log).
bool sha256_accelerated();

}  // namespace xnode::platform
