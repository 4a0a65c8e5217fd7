#include "io/tls/tls_config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/ssl_ticket.h>

#include "core/base/sha256.hpp"
#include "io/tls/mbedtls_compat.hpp"
#include "io/tls/tls_error.hpp"

namespace xnode::tls {

namespace {

// XEP/1 §1: ECDHE key exchange, AEAD only. Static RSA, DHE and CBC suites are absent on purpose.
const int allowed_ciphersuites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0,
};

Error file_error(const std::string& what, const std::string& path, int ret) {
  // mbedTLS reports a missing or unreadable file as "PK - Read/write of file failed" (or its X509
  // twin): say what the operator can act on instead.
  if (::access(path.c_str(), R_OK) != 0) return Error(what + " " + path + ": " + std::strerror(errno));
  return Error(what + " " + path + ": " + mbedtls_text(ret));
}

// A private key others can read is a key the bureau must revoke: refuse to use it at all.
Expected<void> check_key_file_mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error("private key " + path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Error("private key " + path + " is accessible by group or others (mode " + mode +
                 "); refusing to use it — run `chmod 600 " + path + "` and consider the key exposed");
  }
  return {};
}

}  // namespace

struct TlsConfig::Impl {
  mbedtls_ssl_config conf;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  std::mutex drbg_mutex;  // the DRBG is shared by every connection of this config
  mbedtls_x509_crt ca;
  mbedtls_x509_crl crl;
  bool has_crl = false;
  mbedtls_x509_crt own_cert;
  mbedtls_pk_context own_key;
  mbedtls_ssl_cache_context cache;    // server: session IDs
  mbedtls_ssl_ticket_context ticket;  // server: session tickets
  std::mutex session_mutex;
  mbedtls_ssl_session last_session;   // client: the session of the last good handshake
  bool has_session = false;

  Impl() {
    mbedtls_ssl_config_init(&conf);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crl_init(&crl);
    mbedtls_x509_crt_init(&own_cert);
    mbedtls_pk_init(&own_key);
    mbedtls_ssl_cache_init(&cache);
    mbedtls_ssl_ticket_init(&ticket);
    mbedtls_ssl_session_init(&last_session);
  }
  ~Impl() {
    mbedtls_ssl_session_free(&last_session);
    mbedtls_ssl_ticket_free(&ticket);
    mbedtls_ssl_cache_free(&cache);
    mbedtls_pk_free(&own_key);
    mbedtls_x509_crt_free(&own_cert);
    mbedtls_x509_crl_free(&crl);
    mbedtls_x509_crt_free(&ca);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    mbedtls_ssl_config_free(&conf);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  static int random(void* self, unsigned char* out, std::size_t len) {
    auto* impl = static_cast<Impl*>(self);
    std::lock_guard<std::mutex> lock(impl->drbg_mutex);
    return mbedtls_ctr_drbg_random(&impl->drbg, out, len);
  }
};

Expected<std::shared_ptr<TlsConfig>> TlsConfig::create(TlsSettings settings) {
  const bool client = settings.role == Role::client;
  if (settings.ca_file.empty()) return Error("TLS: no CA bundle configured (ca_file)");
  if (client && settings.server_name.empty()) {
    return Error("TLS: no server name configured; hostname verification cannot be turned off");
  }
  if (!client && (settings.cert_file.empty() || settings.key_file.empty())) {
    return Error("TLS server: a certificate and a private key are required");
  }
  if (settings.cert_file.empty() != settings.key_file.empty()) {
    return Error("TLS: a certificate needs its private key and the other way round (cert_file, key_file)");
  }
  std::vector<std::string> pins;
  for (const auto& hex : settings.spki_pins) {
    std::string raw;
    if (hex.size() != 64 || !from_hex(hex, raw)) {
      return Error("TLS: SPKI pin '" + hex + "' is not 64 hex digits (SHA-256 of the DER SubjectPublicKeyInfo)");
    }
    pins.push_back(std::move(raw));
  }

  auto impl = std::make_unique<Impl>();
  static const char personalization[] = "xnode-tls";
  int ret = mbedtls_ctr_drbg_seed(&impl->drbg, mbedtls_entropy_func, &impl->entropy,
                                  reinterpret_cast<const unsigned char*>(personalization), sizeof personalization - 1);
  if (ret != 0) return Error("TLS: seeding the random generator failed: " + mbedtls_text(ret));

  ret = mbedtls_x509_crt_parse_file(&impl->ca, settings.ca_file.c_str());
  if (ret < 0) return file_error("TLS: cannot load CA bundle", settings.ca_file, ret);
  if (ret > 0) return Error("TLS: CA bundle " + settings.ca_file + ": " + std::to_string(ret) + " certificate(s) could not be parsed");
  if (!settings.crl_file.empty()) {
    ret = mbedtls_x509_crl_parse_file(&impl->crl, settings.crl_file.c_str());
    if (ret != 0) return file_error("TLS: cannot load CRL", settings.crl_file, ret);
    impl->has_crl = true;
  }
  if (!settings.cert_file.empty()) {
    ret = mbedtls_x509_crt_parse_file(&impl->own_cert, settings.cert_file.c_str());
    if (ret != 0) return file_error("TLS: cannot load certificate", settings.cert_file, ret < 0 ? ret : -1);
    auto mode_ok = check_key_file_mode(settings.key_file);
    if (!mode_ok) return Error("TLS: " + mode_ok.error().message);
    ret = compat::pk_parse_keyfile(&impl->own_key, settings.key_file.c_str(), &impl->drbg);
    if (ret != 0) return file_error("TLS: cannot load private key", settings.key_file, ret);
    ret = mbedtls_pk_check_pair(&impl->own_cert.pk, &impl->own_key);
    if (ret != 0) {
      return Error("TLS: private key " + settings.key_file + " does not belong to certificate " + settings.cert_file);
    }
  }

  mbedtls_ssl_config* conf = &impl->conf;
  ret = mbedtls_ssl_config_defaults(conf, client ? MBEDTLS_SSL_IS_CLIENT : MBEDTLS_SSL_IS_SERVER,
                                    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
  if (ret != 0) return Error("TLS: configuration defaults: " + mbedtls_text(ret));
  compat::set_tls12_minimum(conf);
  mbedtls_ssl_conf_ciphersuites(conf, allowed_ciphersuites);
  mbedtls_ssl_conf_rng(conf, &Impl::random, impl.get());
  // Both sides authenticate the peer; a server without a client certificate refuses (XEP/1 §1).
  mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(conf, &impl->ca, impl->has_crl ? &impl->crl : nullptr);
  mbedtls_ssl_conf_renegotiation(conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
  if (!settings.cert_file.empty()) {
    ret = mbedtls_ssl_conf_own_cert(conf, &impl->own_cert, &impl->own_key);
    if (ret != 0) return Error("TLS: own certificate: " + mbedtls_text(ret));
  }
  if (client) {
    mbedtls_ssl_conf_session_tickets(conf, settings.session_resumption ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                                                       : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
  } else {
    ret = mbedtls_ssl_ticket_setup(&impl->ticket, &Impl::random, impl.get(), MBEDTLS_CIPHER_AES_256_GCM, 86400);
    if (ret != 0) return Error("TLS: session ticket keys: " + mbedtls_text(ret));
    mbedtls_ssl_conf_session_tickets_cb(conf, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse, &impl->ticket);
    mbedtls_ssl_conf_session_cache(conf, &impl->cache, mbedtls_ssl_cache_get, mbedtls_ssl_cache_set);
  }

  return std::shared_ptr<TlsConfig>(new TlsConfig(std::move(settings), std::move(impl)));
}

TlsConfig::TlsConfig(TlsSettings settings, std::unique_ptr<Impl> impl)
    : m_settings(std::move(settings)), m_impl(std::move(impl)) {
  for (const auto& hex : m_settings.spki_pins) {
    std::string raw;
    from_hex(hex, raw);
    m_pins.push_back(std::move(raw));
  }
}

TlsConfig::~TlsConfig() = default;

mbedtls_ssl_config* TlsConfig::native() { return &m_impl->conf; }

void TlsConfig::save_session(const mbedtls_ssl_context* ssl) {
  if (role() != Role::client || !m_settings.session_resumption) return;
  std::lock_guard<std::mutex> lock(m_impl->session_mutex);
  mbedtls_ssl_session_free(&m_impl->last_session);
  mbedtls_ssl_session_init(&m_impl->last_session);
  m_impl->has_session = mbedtls_ssl_get_session(ssl, &m_impl->last_session) == 0;
}

bool TlsConfig::offer_session(mbedtls_ssl_context* ssl) {
  if (role() != Role::client || !m_settings.session_resumption) return false;
  std::lock_guard<std::mutex> lock(m_impl->session_mutex);
  return m_impl->has_session && mbedtls_ssl_set_session(ssl, &m_impl->last_session) == 0;
}

void TlsConfig::forget_session() {
  std::lock_guard<std::mutex> lock(m_impl->session_mutex);
  mbedtls_ssl_session_free(&m_impl->last_session);
  mbedtls_ssl_session_init(&m_impl->last_session);
  m_impl->has_session = false;
}

}  // namespace xnode::tls
