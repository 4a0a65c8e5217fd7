// TLS errors as boost::system::error_code. Negative values are mbedTLS error codes (message() is
// mbedtls_strerror's text); positive values are this project's reasons, more precise than the
// generic "X509 - Certificate verification failed" mbedTLS reports for every refusal.
#pragma once
#include <string>

#include <boost/system/error_code.hpp>

namespace xnode::tls {

enum class TlsErrc : int {
  stream_truncated = 1,       // the peer closed TCP without close_notify
  certificate_untrusted,      // peer chain does not lead to a configured CA
  certificate_revoked,        // peer certificate is on the configured CRL
  certificate_expired,        // peer certificate not yet valid or expired
  hostname_mismatch,          // server certificate does not carry the configured server name
  pin_mismatch,               // server key is none of the configured SPKI pins
  certificate_invalid,        // any other verification failure (see the engine's verify_failure())
  peer_certificate_missing,   // server role: the client sent no certificate
  peer_alert_base = 1000,     // + alert description: the peer refused the handshake with that alert
};

const boost::system::error_category& tls_category();

// mbedTLS's text for a (negative) return code, e.g. "X509 - Certificate verification failed".
std::string mbedtls_text(int ret);

inline boost::system::error_code make_error_code(TlsErrc e) {
  return {static_cast<int>(e), tls_category()};
}
// An mbedTLS return code (negative) as an error_code.
inline boost::system::error_code make_mbedtls_error(int ret) { return {ret, tls_category()}; }
inline boost::system::error_code make_alert_error(int alert) {
  return {static_cast<int>(TlsErrc::peer_alert_base) + alert, tls_category()};
}
// True when `ec` means the peer's identity was refused (as opposed to a network failure).
bool is_verification_failure(const boost::system::error_code& ec);

}  // namespace xnode::tls

namespace boost::system {
template <>
struct is_error_code_enum<xnode::tls::TlsErrc> : std::true_type {};
}  // namespace boost::system
