// An incremental HTTP/1.1 request parser for the push listener, written here rather than taken from
// Beast so that every limit is enforced while reading (Beast 1.74 ignores its body_limit when the
// body arrives with the header) and so that it is pure and fuzzed (tests/fuzz/fuzz_http_request).
//
// Bytes in (any chunking) → one request at a time. The request line and headers are bounded by
// max_header_bytes (431), the body by max_body_bytes (413, decided from Content-Length before any
// body byte is read, or while reading a chunked body). Content-Length and chunked transfer coding
// are understood; both at once, several different Content-Lengths, obs-fold, and bare LF line ends
// inside the header are refused (request smuggling). After a complete request, reset() readies it
// for the next request of a keep-alive connection.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xnode::drivers::http {

struct HttpRequest {
  std::string method;
  std::string target;
  int version_minor = 1;  // HTTP/1.x
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, values trimmed
  std::string body;                                          // after transfer decoding
  bool keep_alive = true;

  // The first header named `name` (lower case), or nullptr.
  const std::string* header(std::string_view name) const;
};

struct HttpLimits {
  std::size_t max_header_bytes = 16u << 10;
  std::size_t max_body_bytes = 8u << 20;
};

class RequestParser {
 public:
  enum class State { headers, body, complete, error };

  explicit RequestParser(HttpLimits limits);

  // Consumes bytes of `data`; returns how many were used. Stops at the end of a request (the rest
  // belongs to the next one) or at an error.
  std::size_t feed(std::string_view data);

  State state() const { return m_state; }
  // True once the header is complete (state body or complete): the request line and headers can
  // be looked at (to answer early, or send 100 Continue) before the body is read.
  bool header_done() const { return m_state == State::body || m_state == State::complete; }
  const HttpRequest& request() const { return m_request; }
  HttpRequest& request() { return m_request; }
  // Error: the status to answer (400, 411, 413, 431, 501, 505) and why.
  int error_status() const { return m_error_status; }
  const std::string& error_message() const { return m_error_message; }
  // The declared body size (Content-Length), or 0 for chunked / none.
  std::uint64_t content_length() const { return m_content_length; }

  void reset();

 private:
  enum class Chunk { size, data, data_crlf, trailer };
  std::size_t feed_headers(std::string_view data);
  std::size_t feed_body(std::string_view data);
  std::size_t feed_chunked(std::string_view data);
  bool parse_header_block();
  void fail(int status, std::string message);

  HttpLimits m_limits;
  State m_state = State::headers;
  HttpRequest m_request;
  std::string m_head;  // the header block so far
  std::string m_line;  // chunked: the current size or trailer line
  bool m_chunked = false;
  std::uint64_t m_content_length = 0;
  std::uint64_t m_remaining = 0;  // body bytes (Content-Length) or chunk bytes still to read
  Chunk m_chunk = Chunk::size;
  std::size_t m_trailer_bytes = 0;
  std::size_t m_blank_bytes = 0;  // empty lines before the request line
  int m_error_status = 0;
  std::string m_error_message;
};

// --- the push endpoint -----------------------------------------------------------------------

// The source name of `/v1/sources/{name}/records` (a query string is ignored), or "" when the
// target is not that shape. Names are the configuration's `[a-z0-9][a-z0-9_-]*`.
std::string records_route(std::string_view target);

// Checks an `Authorization` value against the token: "Bearer <token>" (scheme case-insensitive),
// the comparison in constant time with respect to the token's content.
bool bearer_matches(std::string_view authorization, std::string_view token);

// An Idempotency-Key is 1-128 printable ASCII characters without spaces; else the reason.
std::string idempotency_key_problem(std::string_view key);

// An HTTP/1.1 response with a JSON body, and `extra` header lines (each "Name: value\r\n").
std::string make_response(int status, std::string_view json_body, bool keep_alive, std::string_view extra = {});
const char* reason_phrase(int status);

}  // namespace xnode::drivers::http
