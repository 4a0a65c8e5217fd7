// The socket-free half of the TLS stream: one mbedTLS context whose BIO callbacks read from and
// write to memory buffers. The stream (tls_stream.hpp) moves bytes between those buffers and the
// TCP socket; the engine never blocks and never touches a socket, so it is compiled once here
// instead of in every translation unit that instantiates the stream's async operations.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include "core/base/time.hpp"
#include "io/tls/tls_config.hpp"
#include "io/tls/tls_error.hpp"

struct mbedtls_x509_crt;

namespace xnode::tls {

// Who the peer is, read from its certificate after a successful handshake.
struct PeerIdentity {
  std::string common_name;          // subject CN: the node id when the peer is a node
  std::string organizational_unit;  // subject OU: the department code (may be empty)
  std::string subject;              // the whole subject, for logs
  TimePoint not_after{};            // the certificate's expiry
  std::string spki_sha256;          // hex SHA-256 of the DER SubjectPublicKeyInfo
};

class TlsEngine {
 public:
  // What the caller must do after an engine operation.
  enum class Want {
    done,         // the operation finished (see Result::ec / bytes); flush output first if any
    input,        // flush pending output (if any), read ciphertext from the peer, call again
    output_retry  // flush pending output, then call again with the SAME arguments
  };
  struct Result {
    Want want = Want::done;
    boost::system::error_code ec;
    std::size_t bytes = 0;
  };

  explicit TlsEngine(std::shared_ptr<TlsConfig> config);
  ~TlsEngine();
  TlsEngine(const TlsEngine&) = delete;
  TlsEngine& operator=(const TlsEngine&) = delete;

  Result handshake();
  // Decrypts into `out`. bytes == 0 with ec == net::error::eof: the peer sent close_notify.
  Result read(boost::asio::mutable_buffer out);
  // Encrypts `in` (at most one record's worth is taken; bytes says how much). On output_retry the
  // caller must call write() again with the same bytes: mbedTLS keeps the record half-sent.
  Result write(boost::asio::const_buffer in);
  // Queues close_notify.
  Result shutdown();

  // --- ciphertext buffers ----------------------------------------------------------------
  bool has_output() const { return m_out_start < m_out.size(); }
  boost::asio::const_buffer output() const {
    return {m_out.data() + m_out_start, m_out.size() - m_out_start};
  }
  void consume_output(std::size_t n);
  // Space for ciphertext read from the socket; commit what arrived.
  boost::asio::mutable_buffer prepare_input(std::size_t n);
  void commit_input(std::size_t n);
  // Plaintext or ciphertext already buffered (a read may complete without touching the socket).
  bool has_buffered_input() const;
  // The peer's close_notify has arrived (our shutdown then need not wait for it).
  bool peer_closed() const { return m_peer_closed; }
  // The peer closed TCP: turns a pending WANT_READ into an error.
  void set_transport_eof() { m_transport_eof = true; }

  // Staging area for coalescing small writes into one record; stable while a write is retried.
  std::vector<std::uint8_t>& write_staging() { return m_staging; }

  // --- after the handshake ---------------------------------------------------------------
  bool handshake_done() const { return m_handshake_done; }
  std::chrono::milliseconds handshake_duration() const { return m_handshake_duration; }
  const PeerIdentity& peer() const { return m_peer; }
  bool session_resumed() const { return m_session_resumed; }
  // Why verification failed, in words (mbedTLS verify flags as text plus pin result); empty if not.
  const std::string& verify_failure() const { return m_verify_failure; }
  std::string ciphersuite() const;
  std::string protocol_version() const;
  const std::shared_ptr<TlsConfig>& config() const { return m_config; }

  // Maximum plaintext taken by one write() (one TLS record).
  static constexpr std::size_t max_record_plaintext = 16384;

 private:
  static int bio_send(void* self, const unsigned char* buf, std::size_t len);
  static int bio_recv(void* self, unsigned char* buf, std::size_t len);
  static int verify_callback(void* self, mbedtls_x509_crt* crt, int depth, std::uint32_t* flags);
  boost::system::error_code handshake_error(int ret);
  void collect_peer();

  struct Native;
  std::unique_ptr<Native> m_native;
  std::shared_ptr<TlsConfig> m_config;
  std::vector<std::uint8_t> m_in;
  std::size_t m_in_start = 0;
  std::size_t m_in_reserved = 0;  // prepared by prepare_input, not yet committed
  std::vector<std::uint8_t> m_out;
  std::size_t m_out_start = 0;
  std::vector<std::uint8_t> m_staging;
  bool m_transport_eof = false;
  bool m_peer_closed = false;
  bool m_handshake_started = false;
  bool m_handshake_done = false;
  bool m_session_resumed = false;
  bool m_pin_failed = false;
  bool m_offered_session = false;
  std::chrono::steady_clock::time_point m_handshake_start{};
  std::chrono::milliseconds m_handshake_duration{0};
  PeerIdentity m_peer;
  std::string m_verify_failure;
};

}  // namespace xnode::tls
