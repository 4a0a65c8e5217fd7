#include "io/tls/signature.hpp"

#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>

#include <memory>

#include "core/base/sha256.hpp"
#include "io/tls/mbedtls_compat.hpp"
#include "io/tls/tls_error.hpp"

namespace xnode::tls {

namespace {

// Owns a parsed public key; freed on every path.
struct PublicKey {
  mbedtls_pk_context pk;
  PublicKey() { mbedtls_pk_init(&pk); }
  ~PublicKey() { mbedtls_pk_free(&pk); }
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;
};

Expected<std::unique_ptr<PublicKey>> load_p256(const std::string& path) {
  if (path.empty()) return Error("no public key file is configured");
  auto key = std::make_unique<PublicKey>();
  const int ret = mbedtls_pk_parse_public_keyfile(&key->pk, path.c_str());
  if (ret != 0)
    return Error(path + ": not a readable public key (PEM \"PUBLIC KEY\"): " + mbedtls_text(ret));
  if (compat::pk_ec_group_id(&key->pk) != MBEDTLS_ECP_DP_SECP256R1)
    return Error(path + ": the key is " +
                 (mbedtls_pk_can_do(&key->pk, MBEDTLS_PK_ECKEY) ? std::string("on another curve")
                                                                : std::string(mbedtls_pk_get_name(&key->pk))) +
                 ", not an ECDSA P-256 (prime256v1) key");
  return key;
}

}  // namespace

Expected<void> check_signing_key(const std::string& public_key_path) {
  auto key = load_p256(public_key_path);
  if (!key) return key.error();
  return {};
}

Expected<void> verify_signature(const std::string& public_key_path, std::string_view data,
                                std::string_view signature_base64) {
  XNODE_TRY(auto key, load_p256(public_key_path));
  std::string der;
  if (!base64_decode(signature_base64, der, true)) return Error("the signature is not base64");
  if (der.empty()) return Error("the signature is empty");
  const Sha256::Digest digest = Sha256::digest(data);
  const int ret = mbedtls_pk_verify(&key->pk, MBEDTLS_MD_SHA256, digest.data(), digest.size(),
                                    reinterpret_cast<const unsigned char*>(der.data()), der.size());
  if (ret != 0)
    return Error("the signature does not verify with the bureau key " + public_key_path + " (" + mbedtls_text(ret) +
                 ")");
  return {};
}

}  // namespace xnode::tls
