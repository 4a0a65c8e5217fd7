#include "io/tls/tls_error.hpp"

#include <string>

#include <mbedtls/error.h>
#include <mbedtls/ssl.h>

namespace xnode::tls {

std::string mbedtls_text(int ret) {
  char buf[256];
  mbedtls_strerror(ret, buf, sizeof buf);
  return buf;
}

namespace {

const char* alert_name(int alert) {
  switch (alert) {
    case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE: return "handshake_failure";
    case MBEDTLS_SSL_ALERT_MSG_NO_CERT: return "no_certificate";
    case MBEDTLS_SSL_ALERT_MSG_BAD_CERT: return "bad_certificate";
    case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT: return "unsupported_certificate";
    case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED: return "certificate_revoked";
    case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED: return "certificate_expired";
    case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN: return "certificate_unknown";
    case MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER: return "illegal_parameter";
    case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA: return "unknown_ca";
    case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED: return "access_denied";
    case MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR: return "decode_error";
    case MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR: return "decrypt_error";
    case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION: return "protocol_version";
    case MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY: return "insufficient_security";
    case MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR: return "internal_error";
    case MBEDTLS_SSL_ALERT_MSG_UNRECOGNIZED_NAME: return "unrecognized_name";
    case 116: return "certificate_required";  // TLS 1.3 (RFC 8446), sent by OpenSSL
    default: return nullptr;
  }
}

// boost::system::error_category has a protected non-virtual destructor by design (categories are
// never deleted through the base); the warning does not apply.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class TlsCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tls"; }
  std::string message(int value) const override {
    if (value < 0) return mbedtls_text(value);
    if (value >= static_cast<int>(TlsErrc::peer_alert_base)) {
      int alert = value - static_cast<int>(TlsErrc::peer_alert_base);
      const char* name = alert_name(alert);
      return std::string("the peer refused the handshake with alert ") + (name ? name : "unknown") + " (" +
             std::to_string(alert) + ")";
    }
    switch (static_cast<TlsErrc>(value)) {
      case TlsErrc::stream_truncated: return "the peer closed the connection without close_notify";
      case TlsErrc::certificate_untrusted: return "peer certificate not issued by a trusted CA";
      case TlsErrc::certificate_revoked: return "peer certificate revoked (listed on the CRL)";
      case TlsErrc::certificate_expired: return "peer certificate expired or not yet valid";
      case TlsErrc::hostname_mismatch: return "hostname mismatch: server certificate does not name the configured server";
      case TlsErrc::pin_mismatch: return "pin mismatch: server public key is none of the configured SPKI pins";
      case TlsErrc::certificate_invalid: return "peer certificate refused";
      case TlsErrc::peer_certificate_missing: return "the client presented no certificate";
      case TlsErrc::peer_alert_base: break;
    }
    return "TLS error " + std::to_string(value);
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& tls_category() {
  static const TlsCategory category;
  return category;
}

bool is_verification_failure(const boost::system::error_code& ec) {
  if (ec.category() != tls_category()) return false;
  int v = ec.value();
  return (v >= static_cast<int>(TlsErrc::certificate_untrusted) &&
          v <= static_cast<int>(TlsErrc::peer_certificate_missing)) ||
         v >= static_cast<int>(TlsErrc::peer_alert_base) || v == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;
}

}  // namespace xnode::tls
