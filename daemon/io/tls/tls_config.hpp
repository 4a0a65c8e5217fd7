// The TLS policy of one side of the uplink (XEP/1 §1), built once and shared by every connection
// that side opens or accepts. Certificate rotation = build a new TlsConfig and use it for new
// connections; connections already open keep the old one alive through their shared_ptr.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/base/expected.hpp"

struct mbedtls_ssl_config;
struct mbedtls_ssl_context;

namespace xnode::tls {

enum class Role { client, server };

struct TlsSettings {
  Role role = Role::client;
  // PEM bundle of the CAs trusted to issue the peer's certificate (required).
  std::string ca_file;
  // Optional CRL (PEM or DER) from that CA; a revoked peer certificate is refused.
  std::string crl_file;
  // Own certificate (chain) and private key, PEM. Required in the server role; the XEP/1 client
  // always presents one too. The key file must not be accessible by group or others.
  std::string cert_file;
  std::string key_file;
  // Client role: the DNS name the server certificate must carry (a SAN). Required: hostname
  // verification is never off.
  std::string server_name;
  // Client role, optional: hex SHA-256 of the server's DER SubjectPublicKeyInfo; when non-empty the
  // server key must match one of them (in addition to chain verification).
  std::vector<std::string> spki_pins;
  // Client role: offer the session of the previous connection again (abbreviated handshake).
  bool session_resumption = true;
  // How long async_shutdown waits for the peer's close_notify after sending ours.
  std::chrono::milliseconds shutdown_timeout{2000};
};

// Immutable policy + the mutable bits every connection shares: the RNG, the server's session
// cache and ticket keys, the client's last session. Thread-safe.
class TlsConfig {
 public:
  // Loads and checks every file; the error names the file and what is wrong with it.
  static Expected<std::shared_ptr<TlsConfig>> create(TlsSettings settings);
  ~TlsConfig();
  TlsConfig(const TlsConfig&) = delete;
  TlsConfig& operator=(const TlsConfig&) = delete;

  Role role() const { return m_settings.role; }
  const TlsSettings& settings() const { return m_settings; }
  // Decoded pins (32 bytes each).
  const std::vector<std::string>& pins() const { return m_pins; }

  // --- used by TlsEngine -------------------------------------------------------------------
  mbedtls_ssl_config* native();
  // Client: remember the session of a completed handshake for the next connection.
  void save_session(const mbedtls_ssl_context* ssl);
  // Client: offer the remembered session (if any) on a fresh context; true if one was offered.
  bool offer_session(mbedtls_ssl_context* ssl);
  // Forgets the remembered session (after a failed handshake with it).
  void forget_session();

 private:
  struct Impl;
  TlsConfig(TlsSettings settings, std::unique_ptr<Impl> impl);
  TlsSettings m_settings;
  std::vector<std::string> m_pins;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace xnode::tls
