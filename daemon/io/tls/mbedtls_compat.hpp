// Every difference between mbedTLS 2.28 (Debian 12) and 3.x that this project touches lives here,
// so that moving to 3.x is a change to one file. Nothing else in the tree tests MBEDTLS_VERSION_*.
#pragma once
#include <mbedtls/version.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#if MBEDTLS_VERSION_MAJOR < 3
#include <mbedtls/ssl_internal.h>  // mbedtls_ssl_handshake_params (resume flag)
#endif
#include <mbedtls/version.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include <cstddef>
#include <cstdint>

#if MBEDTLS_VERSION_MAJOR >= 3
#include <mbedtls/private_access.h>  // MBEDTLS_PRIVATE: 3.x hides struct members behind it
#define XNODE_MBEDTLS_PRIVATE(member) MBEDTLS_PRIVATE(member)
#else
#define XNODE_MBEDTLS_PRIVATE(member) member
#endif

namespace xnode::tls::compat {

// TLS 1.2 is the floor of XEP/1 §1; 2.28 defaults to TLS 1.0, so it is always set explicitly.
inline void set_tls12_minimum(mbedtls_ssl_config* conf) {
#if MBEDTLS_VERSION_MAJOR >= 3
  mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
  mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
}

// Restricts a configuration to exactly one protocol version (used by tests that play an old peer).
// `minor` uses the 2.28 numbering: 1 = TLS 1.0, 2 = TLS 1.1, 3 = TLS 1.2.
inline void set_only_version(mbedtls_ssl_config* conf, int minor) {
#if MBEDTLS_VERSION_MAJOR >= 3
  auto v = static_cast<mbedtls_ssl_protocol_version>(0x0300 | minor);
  mbedtls_ssl_conf_min_tls_version(conf, v);
  mbedtls_ssl_conf_max_tls_version(conf, v);
#else
  mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, minor);
  mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, minor);
#endif
}

// 3.x added an RNG to private-key parsing (for blinding).
inline int pk_parse_keyfile(mbedtls_pk_context* pk, const char* path, mbedtls_ctr_drbg_context* drbg) {
#if MBEDTLS_VERSION_MAJOR >= 3
  return mbedtls_pk_parse_keyfile(pk, path, nullptr, mbedtls_ctr_drbg_random, drbg);
#else
  (void)drbg;
  return mbedtls_pk_parse_keyfile(pk, path, nullptr);
#endif
}

// The DER SubjectPublicKeyInfo of a certificate (what an SPKI pin hashes).
inline const unsigned char* crt_spki_der(const mbedtls_x509_crt* crt, std::size_t* len) {
  *len = crt->pk_raw.len;
  return crt->pk_raw.p;
}

// The alert description of the last fatal alert the peer sent (valid right after
// MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE). mbedTLS offers no accessor; the record is still in in_msg.
inline int last_received_alert(const mbedtls_ssl_context* ssl) {
  const unsigned char* msg = ssl->XNODE_MBEDTLS_PRIVATE(in_msg);
  return msg != nullptr ? msg[1] : -1;
}

// True while a handshake is in progress and has decided to resume a session (abbreviated
// handshake). Must be asked between handshake steps: the state is freed when the handshake ends.
inline bool handshake_resuming(const mbedtls_ssl_context* ssl) {
  const auto* hs = ssl->XNODE_MBEDTLS_PRIVATE(handshake);
  return hs != nullptr && hs->XNODE_MBEDTLS_PRIVATE(resume) != 0;
}

// The curve of an EC public or private key (MBEDTLS_ECP_DP_NONE for any other kind of key).
// 3.x hides the keypair's group behind MBEDTLS_PRIVATE.
inline mbedtls_ecp_group_id pk_ec_group_id(const mbedtls_pk_context* pk) {
  const mbedtls_pk_type_t type = mbedtls_pk_get_type(pk);
  if (type != MBEDTLS_PK_ECKEY && type != MBEDTLS_PK_ECDSA) return MBEDTLS_ECP_DP_NONE;
  const mbedtls_ecp_keypair* ec = mbedtls_pk_ec(*pk);
  return ec != nullptr ? ec->XNODE_MBEDTLS_PRIVATE(grp).id : MBEDTLS_ECP_DP_NONE;
}

inline bool handshake_over(const mbedtls_ssl_context* ssl) {
#if MBEDTLS_VERSION_MAJOR >= 3
  return mbedtls_ssl_is_handshake_over(const_cast<mbedtls_ssl_context*>(ssl));
#else
  return ssl->state == MBEDTLS_SSL_HANDSHAKE_OVER;
#endif
}

}  // namespace xnode::tls::compat
