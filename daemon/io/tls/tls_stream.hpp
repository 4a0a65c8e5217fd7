// An Asio stream over mbedTLS that Boost.Beast can use (AsyncReadStream + AsyncWriteStream), in
// the client and the server role, with a beast::tcp_stream as next layer.
//
// Every operation is one loop (IoOp below): ask the engine to make progress; if it produced
// ciphertext, write all of it to the socket; if it needs ciphertext, read some from the socket;
// repeat until the engine says done. Handlers are never invoked inline: an operation that finishes
// without socket I/O (data already decrypted) is completed through a post to the executor.
//
// Timeouts: use the next layer, e.g. `beast::get_lowest_layer(s).expires_after(5s)`; the pending
// operation then fails with beast::error::timeout. async_shutdown bounds its own wait.
//
// Concurrency: like one direction of an Asio socket, at most one operation is outstanding at a
// time (handshake, read, write or shutdown). HTTP/1.1 request/response use (Beast's http::async_read
// then http::async_write, or the reverse) satisfies this; do not read and write at the same time.
#pragma once
#include <cstddef>
#include <memory>
#include <utility>

#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "io/tls/tls_engine.hpp"

namespace xnode::tls {

namespace detail {

namespace net = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

struct HandshakeOperation {
  TlsEngine::Result operator()(TlsEngine& e) { return e.handshake(); }
};

struct ReadOperation {
  net::mutable_buffer buffer;
  TlsEngine::Result operator()(TlsEngine& e) { return e.read(buffer); }
};

struct WriteOperation {
  net::const_buffer buffer;  // stays the same across retries (mbedTLS requires it)
  TlsEngine::Result operator()(TlsEngine& e) { return e.write(buffer); }
};

// close_notify, then wait (bounded by the caller's expiry) for the peer's close_notify or EOF.
struct ShutdownOperation {
  bool sent = false;
  unsigned char scratch[512];
  TlsEngine::Result operator()(TlsEngine& e) {
    if (!sent) {
      TlsEngine::Result r = e.shutdown();
      if (r.want == TlsEngine::Want::done && !r.ec) {
        sent = true;
        r.want = TlsEngine::Want::output_retry;  // flush it, then come back to wait
      }
      return r;
    }
    if (e.peer_closed()) return {};  // theirs came first: nothing left to wait for
    TlsEngine::Result r = e.read(net::buffer(scratch));
    if (r.want != TlsEngine::Want::done) return r;
    if (r.ec == net::error::eof || r.ec == TlsErrc::stream_truncated) return {};
    if (!r.ec) r.want = TlsEngine::Want::output_retry;  // discard late application data
    return r;
  }
};

template <class Operation, bool WithBytes>
class IoOp {
 public:
  IoOp(TlsEngine& engine, beast::tcp_stream& next, Operation op)
      : m_engine(engine), m_next(next), m_op(std::move(op)) {}

  template <class Self>
  void operator()(Self& self, error_code ec = {}, std::size_t n = 0) {
    switch (m_state) {
      case State::start:
        break;
      case State::wrote:
        if (ec) return finish(self, ec, 0);
        m_engine.consume_output(n);
        if (m_last.want == TlsEngine::Want::done) return finish(self, m_last.ec, m_last.bytes);
        break;
      case State::read:
        m_engine.commit_input(ec ? 0 : n);
        if (ec == net::error::eof) {
          m_engine.set_transport_eof();  // the engine turns it into close_notify/truncation
        } else if (ec) {
          return finish(self, ec, 0);
        }
        break;
      case State::posted:
        return complete(self, m_last.ec, m_last.bytes);
    }
    for (int spins = 0;; ++spins) {
      m_last = m_op(m_engine);
      if (m_engine.has_output()) {
        m_state = State::wrote;
        m_did_io = true;
        net::async_write(m_next, m_engine.output(), std::move(self));
        return;
      }
      switch (m_last.want) {
        case TlsEngine::Want::done:
          return finish(self, m_last.ec, m_last.bytes);
        case TlsEngine::Want::input:
          m_state = State::read;
          m_did_io = true;
          m_next.async_read_some(m_engine.prepare_input(read_chunk), std::move(self));
          return;
        case TlsEngine::Want::output_retry:
          // Nothing to flush yet the engine asks again (shutdown discarding late data): bounded.
          if (spins > 1000) return finish(self, make_mbedtls_error(-0x6C00 /* internal error */), 0);
          continue;
      }
    }
  }

 private:
  static constexpr std::size_t read_chunk = 17 * 1024;
  enum class State { start, wrote, read, posted };

  template <class Self>
  void finish(Self& self, error_code ec, std::size_t n) {
    if (m_did_io) return complete(self, ec, n);
    // Finished without waiting for the socket: never call the handler from inside the initiator.
    m_last.ec = ec;
    m_last.bytes = n;
    m_state = State::posted;
    net::post(std::move(self));
  }
  template <class Self>
  void complete(Self& self, error_code ec, std::size_t n) {
    if constexpr (WithBytes) {
      self.complete(ec, n);
    } else {
      (void)n;
      self.complete(ec);
    }
  }

  TlsEngine& m_engine;
  beast::tcp_stream& m_next;
  Operation m_op;
  TlsEngine::Result m_last;
  State m_state = State::start;
  bool m_did_io = false;
};

}  // namespace detail

class TlsStream {
 public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;
  using lowest_layer_type = next_layer_type;

  TlsStream(next_layer_type next, std::shared_ptr<TlsConfig> config)
      : m_next(std::move(next)), m_engine(std::make_unique<TlsEngine>(std::move(config))) {}
  TlsStream(const executor_type& ex, std::shared_ptr<TlsConfig> config)
      : TlsStream(next_layer_type(ex), std::move(config)) {}
  TlsStream(TlsStream&&) = default;
  TlsStream& operator=(TlsStream&&) = default;

  executor_type get_executor() noexcept { return m_next.get_executor(); }
  next_layer_type& next_layer() noexcept { return m_next; }
  const next_layer_type& next_layer() const noexcept { return m_next; }
  // The layer that owns the socket and the timeouts (beast::get_lowest_layer finds the same).
  lowest_layer_type& lowest_layer() noexcept { return m_next; }

  // void(error_code)
  template <class Handler>
  auto async_handshake(Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::system::error_code)>(
        detail::IoOp<detail::HandshakeOperation, false>(*m_engine, m_next, {}), handler, m_next);
  }

  // void(error_code, std::size_t). Fills the first non-empty buffer of the sequence.
  template <class MutableBufferSequence, class Handler>
  auto async_read_some(const MutableBufferSequence& buffers, Handler&& handler) {
    boost::asio::mutable_buffer first;
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
         ++it) {
      boost::asio::mutable_buffer b(*it);
      if (b.size() != 0) {
        first = b;
        break;
      }
    }
    return boost::asio::async_compose<Handler, void(boost::system::error_code, std::size_t)>(
        detail::IoOp<detail::ReadOperation, true>(*m_engine, m_next, {first}), handler, m_next);
  }

  // void(error_code, std::size_t). Takes at most one record (16 KiB); a sequence of small buffers
  // (an HTTP header and body) is coalesced into one record rather than one record per buffer.
  template <class ConstBufferSequence, class Handler>
  auto async_write_some(const ConstBufferSequence& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::system::error_code, std::size_t)>(
        detail::IoOp<detail::WriteOperation, true>(*m_engine, m_next, {coalesce(buffers)}), handler, m_next);
  }

  // void(error_code). Sends close_notify and waits up to TlsSettings::shutdown_timeout for the
  // peer's; the socket stays open (close it with next_layer().close() afterwards).
  template <class Handler>
  auto async_shutdown(Handler&& handler) {
    m_next.expires_after(m_engine->config()->settings().shutdown_timeout);
    return boost::asio::async_compose<Handler, void(boost::system::error_code)>(
        detail::IoOp<detail::ShutdownOperation, false>(*m_engine, m_next, {}), handler, m_next);
  }

  // --- after the handshake ---------------------------------------------------------------
  const PeerIdentity& peer() const { return m_engine->peer(); }
  std::chrono::milliseconds handshake_duration() const { return m_engine->handshake_duration(); }
  bool session_resumed() const { return m_engine->session_resumed(); }
  const std::string& verify_failure() const { return m_engine->verify_failure(); }
  std::string ciphersuite() const { return m_engine->ciphersuite(); }
  std::string protocol_version() const { return m_engine->protocol_version(); }
  TlsEngine& engine() { return *m_engine; }

 private:
  template <class ConstBufferSequence>
  boost::asio::const_buffer coalesce(const ConstBufferSequence& buffers) {
    constexpr std::size_t limit = TlsEngine::max_record_plaintext;
    auto begin = boost::asio::buffer_sequence_begin(buffers);
    auto end = boost::asio::buffer_sequence_end(buffers);
    boost::asio::const_buffer first;
    std::size_t total = 0;
    int non_empty = 0;
    for (auto it = begin; it != end && total < limit; ++it) {
      boost::asio::const_buffer b(*it);
      if (b.size() == 0) continue;
      if (non_empty++ == 0) first = b;
      total += b.size();
    }
    if (non_empty <= 1 || first.size() >= limit) {
      return boost::asio::const_buffer(first.data(), std::min(first.size(), limit));
    }
    auto& staging = m_engine->write_staging();
    staging.resize(std::min(total, limit));
    std::size_t copied = boost::asio::buffer_copy(boost::asio::buffer(staging), buffers);
    return boost::asio::const_buffer(staging.data(), copied);
  }

  next_layer_type m_next;
  std::unique_ptr<TlsEngine> m_engine;  // stable address: mbedTLS's BIO callbacks point at it
};

}  // namespace xnode::tls
