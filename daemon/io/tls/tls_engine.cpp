#include "io/tls/tls_engine.hpp"

#include <cstring>

#include <boost/asio/error.hpp>
#include <mbedtls/oid.h>

#include "core/base/sha256.hpp"
#include "io/tls/cert_info.hpp"
#include "io/tls/mbedtls_compat.hpp"

namespace xnode::tls {

namespace {
// Ciphertext waiting for the socket beyond this makes the engine report WANT_WRITE, so a writer
// cannot grow the buffer without bound; the stream flushes and retries with the same data.
constexpr std::size_t output_high_water = 64 * 1024;

using boost::system::error_code;

std::string name_field(const mbedtls_x509_name* name, const mbedtls_asn1_buf& oid_wanted) {
  for (const mbedtls_x509_name* n = name; n != nullptr; n = n->next) {
    if (n->oid.len == oid_wanted.len && std::memcmp(n->oid.p, oid_wanted.p, oid_wanted.len) == 0) {
      return std::string(reinterpret_cast<const char*>(n->val.p), n->val.len);
    }
  }
  return {};
}

mbedtls_asn1_buf oid_buf(const char* oid, std::size_t len) {
  mbedtls_asn1_buf b{};
  b.p = reinterpret_cast<unsigned char*>(const_cast<char*>(oid));
  b.len = len;
  return b;
}

std::string verify_flags_text(std::uint32_t flags) {
  char buf[1024];
  int n = mbedtls_x509_crt_verify_info(buf, sizeof buf, "", flags & ~static_cast<std::uint32_t>(MBEDTLS_X509_BADCERT_OTHER));
  std::string text = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  // verify_info writes one reason a line; a log line wants them joined.
  for (auto& c : text) {
    if (c == '\n') c = ';';
  }
  while (!text.empty() && (text.back() == ';' || text.back() == ' ')) text.pop_back();
  return text;
}
}  // namespace

struct TlsEngine::Native {
  mbedtls_ssl_context ssl;
  Native() { mbedtls_ssl_init(&ssl); }
  ~Native() { mbedtls_ssl_free(&ssl); }
  Native(const Native&) = delete;
  Native& operator=(const Native&) = delete;
};

TlsEngine::TlsEngine(std::shared_ptr<TlsConfig> config) : m_native(std::make_unique<Native>()), m_config(std::move(config)) {
  mbedtls_ssl_context* ssl = &m_native->ssl;
  int ret = mbedtls_ssl_setup(ssl, m_config->native());
  if (ret != 0) throw boost::system::system_error(make_mbedtls_error(ret), "mbedtls_ssl_setup");
  mbedtls_ssl_set_bio(ssl, this, &TlsEngine::bio_send, &TlsEngine::bio_recv, nullptr);
  mbedtls_ssl_set_verify(ssl, &TlsEngine::verify_callback, this);
  if (m_config->role() == Role::client) {
    ret = mbedtls_ssl_set_hostname(ssl, m_config->settings().server_name.c_str());
    if (ret != 0) throw boost::system::system_error(make_mbedtls_error(ret), "mbedtls_ssl_set_hostname");
    m_offered_session = m_config->offer_session(ssl);
  }
}

TlsEngine::~TlsEngine() = default;

int TlsEngine::bio_send(void* self, const unsigned char* buf, std::size_t len) {
  auto* e = static_cast<TlsEngine*>(self);
  if (e->m_out.size() - e->m_out_start >= output_high_water) return MBEDTLS_ERR_SSL_WANT_WRITE;
  if (e->m_out_start == e->m_out.size()) {
    e->m_out.clear();
    e->m_out_start = 0;
  }
  e->m_out.insert(e->m_out.end(), buf, buf + len);
  return static_cast<int>(len);
}

int TlsEngine::bio_recv(void* self, unsigned char* buf, std::size_t len) {
  auto* e = static_cast<TlsEngine*>(self);
  std::size_t available = e->m_in.size() - e->m_in_start;
  if (available == 0) return e->m_transport_eof ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
  std::size_t n = std::min(len, available);
  std::memcpy(buf, e->m_in.data() + e->m_in_start, n);
  e->m_in_start += n;
  return static_cast<int>(n);
}

void TlsEngine::consume_output(std::size_t n) {
  m_out_start += std::min(n, m_out.size() - m_out_start);
  if (m_out_start == m_out.size()) {
    m_out.clear();
    m_out_start = 0;
  }
}

boost::asio::mutable_buffer TlsEngine::prepare_input(std::size_t n) {
  if (m_in_start == m_in.size()) {
    m_in.clear();
    m_in_start = 0;
  } else if (m_in_start > 0) {
    m_in.erase(m_in.begin(), m_in.begin() + static_cast<std::ptrdiff_t>(m_in_start));
    m_in_start = 0;
  }
  std::size_t used = m_in.size();
  m_in.resize(used + n);
  m_in_reserved = n;
  return {m_in.data() + used, n};
}

void TlsEngine::commit_input(std::size_t n) {
  m_in.resize(m_in.size() - m_in_reserved + std::min(n, m_in_reserved));
  m_in_reserved = 0;
}

bool TlsEngine::has_buffered_input() const {
  return m_in_start < m_in.size() || mbedtls_ssl_get_bytes_avail(&m_native->ssl) > 0;
}

int TlsEngine::verify_callback(void* self, mbedtls_x509_crt* crt, int depth, std::uint32_t* flags) {
  auto* e = static_cast<TlsEngine*>(self);
  if (depth != 0 || e->m_config->role() != Role::client || e->m_config->pins().empty()) return 0;
  std::size_t len = 0;
  const unsigned char* der = compat::crt_spki_der(crt, &len);
  Sha256 h;
  h.update(der, len);
  auto digest = h.finish();
  std::string raw(reinterpret_cast<const char*>(digest.data()), digest.size());
  for (const auto& pin : e->m_config->pins()) {
    if (pin == raw) return 0;
  }
  e->m_pin_failed = true;
  *flags |= MBEDTLS_X509_BADCERT_OTHER;
  return 0;
}

error_code TlsEngine::handshake_error(int ret) {
  mbedtls_ssl_context* ssl = &m_native->ssl;
  if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
    std::uint32_t flags = mbedtls_ssl_get_verify_result(ssl);
    std::string text = verify_flags_text(flags);
    if (m_pin_failed) text = text.empty() ? "pin mismatch: the server key is none of the configured SPKI pins"
                                          : "pin mismatch; " + text;
    const char* who = m_config->role() == Role::client ? "server" : "client";
    m_verify_failure = std::string(who) + " certificate refused: " + (text.empty() ? "verification failed" : text);
    if (flags & MBEDTLS_X509_BADCERT_REVOKED) return TlsErrc::certificate_revoked;
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) return TlsErrc::certificate_untrusted;
    if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE)) return TlsErrc::certificate_expired;
    if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) return TlsErrc::hostname_mismatch;
    if (m_pin_failed) return TlsErrc::pin_mismatch;
    return TlsErrc::certificate_invalid;
  }
  if (ret == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE ||
      (m_config->role() == Role::server && ret == MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED)) {
    m_verify_failure = "client presented no certificate";
    return TlsErrc::peer_certificate_missing;
  }
  if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
    int alert = compat::last_received_alert(ssl);
    if (alert >= 0) return make_alert_error(alert);
  }
  return make_mbedtls_error(ret);
}

TlsEngine::Result TlsEngine::handshake() {
  mbedtls_ssl_context* ssl = &m_native->ssl;
  if (!m_handshake_started) {
    m_handshake_started = true;
    m_handshake_start = std::chrono::steady_clock::now();
  }
  // Stepped by hand (this is mbedtls_ssl_handshake's loop) to see whether the server resumed.
  int ret = 0;
  while (!compat::handshake_over(ssl)) {
    if (compat::handshake_resuming(ssl)) m_session_resumed = true;
    ret = mbedtls_ssl_handshake_step(ssl);
    if (ret != 0) break;
  }
  if (ret == MBEDTLS_ERR_SSL_WANT_READ) return {Want::input, {}, 0};
  if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) return {Want::output_retry, {}, 0};
  if (ret != 0) {
    if (m_offered_session) m_config->forget_session();
    return {Want::done, handshake_error(ret), 0};
  }
  m_handshake_done = true;
  m_handshake_duration =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - m_handshake_start);
  collect_peer();
  m_config->save_session(ssl);
  return {Want::done, {}, 0};
}

void TlsEngine::collect_peer() {
  const mbedtls_x509_crt* crt = mbedtls_ssl_get_peer_cert(&m_native->ssl);
  if (crt == nullptr) return;
  m_peer.common_name = name_field(&crt->subject, oid_buf(MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN)));
  m_peer.organizational_unit =
      name_field(&crt->subject, oid_buf(MBEDTLS_OID_AT_ORG_UNIT, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORG_UNIT)));
  char buf[512];
  int n = mbedtls_x509_dn_gets(buf, sizeof buf, &crt->subject);
  if (n > 0) m_peer.subject.assign(buf, static_cast<std::size_t>(n));
  m_peer.not_after = x509_time_to_timepoint(crt->valid_to);
  std::size_t len = 0;
  const unsigned char* der = compat::crt_spki_der(crt, &len);
  Sha256 h;
  h.update(der, len);
  m_peer.spki_sha256 = to_hex(h.finish());
}

TlsEngine::Result TlsEngine::read(boost::asio::mutable_buffer out) {
  if (out.size() == 0) return {Want::done, {}, 0};
  int ret = mbedtls_ssl_read(&m_native->ssl, static_cast<unsigned char*>(out.data()), out.size());
  if (ret > 0) return {Want::done, {}, static_cast<std::size_t>(ret)};
  if (ret == MBEDTLS_ERR_SSL_WANT_READ) return {Want::input, {}, 0};
  if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) return {Want::output_retry, {}, 0};
  if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
    m_peer_closed = true;
    return {Want::done, boost::asio::error::eof, 0};
  }
  // mbedtls_ssl_read returns 0 when the transport ended without close_notify: a truncation an
  // attacker can cause, so it is not reported as a clean end of stream.
  if (ret == 0 || ret == MBEDTLS_ERR_SSL_CONN_EOF) return {Want::done, TlsErrc::stream_truncated, 0};
  return {Want::done, make_mbedtls_error(ret), 0};
}

TlsEngine::Result TlsEngine::write(boost::asio::const_buffer in) {
  if (in.size() == 0) return {Want::done, {}, 0};
  int ret = mbedtls_ssl_write(&m_native->ssl, static_cast<const unsigned char*>(in.data()),
                              std::min(in.size(), max_record_plaintext));
  if (ret >= 0) return {Want::done, {}, static_cast<std::size_t>(ret)};
  if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) return {Want::output_retry, {}, 0};
  if (ret == MBEDTLS_ERR_SSL_WANT_READ) return {Want::input, {}, 0};
  if (ret == MBEDTLS_ERR_SSL_CONN_EOF) return {Want::done, TlsErrc::stream_truncated, 0};
  return {Want::done, make_mbedtls_error(ret), 0};
}

TlsEngine::Result TlsEngine::shutdown() {
  int ret = mbedtls_ssl_close_notify(&m_native->ssl);
  if (ret == 0) return {Want::done, {}, 0};
  if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) return {Want::output_retry, {}, 0};
  if (ret == MBEDTLS_ERR_SSL_WANT_READ) return {Want::input, {}, 0};
  return {Want::done, make_mbedtls_error(ret), 0};
}

std::string TlsEngine::ciphersuite() const {
  const char* s = mbedtls_ssl_get_ciphersuite(&m_native->ssl);
  return s != nullptr ? s : "";
}

std::string TlsEngine::protocol_version() const {
  const char* s = mbedtls_ssl_get_version(&m_native->ssl);
  return s != nullptr ? s : "";
}

}  // namespace xnode::tls
