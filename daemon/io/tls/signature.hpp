// The bureau's signature on a configuration (platform-api.md §3.7): ECDSA P-256 with SHA-256 over
// the exact YAML bytes, DER, base64 — what `openssl dgst -sha256 -sign bureau.key` makes. The node
// holds only the public key (PEM). Pure mbedTLS here; the rules of when a signature is needed live
// in app/config_push.
#pragma once
#include <string>
#include <string_view>

#include "core/base/expected.hpp"

namespace xnode::tls {

// The key file is readable PEM (or DER) holding an EC public key on P-256 (secp256r1); anything
// else — RSA, another curve, a private key file, garbage — is an error that says which.
Expected<void> check_signing_key(const std::string& public_key_path);

// Verifies `signature_base64` (white space ignored) over `data` with the public key in the file.
// The error says why: key unusable, not base64, or the signature does not match.
Expected<void> verify_signature(const std::string& public_key_path, std::string_view data,
                                std::string_view signature_base64);

}  // namespace xnode::tls
