#include "drivers/http/http_request.hpp"

#include <algorithm>
#include <cstring>

namespace xnode::drivers::http {
namespace {

constexpr std::size_t kMaxChunkLine = 1024;  // chunk size + extensions

bool is_tchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Does the comma-separated header value hold `token` (case-insensitive)?
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    auto comma = value.find(',');
    std::string_view item = trim(value.substr(0, comma));
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

const std::string* HttpRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n == name) return &v;
  return nullptr;
}

RequestParser::RequestParser(HttpLimits limits) : m_limits(limits) {}

void RequestParser::reset() {
  m_state = State::headers;
  m_request = HttpRequest{};
  m_head.clear();
  m_line.clear();
  m_chunked = false;
  m_content_length = 0;
  m_remaining = 0;
  m_chunk = Chunk::size;
  m_trailer_bytes = 0;
  m_blank_bytes = 0;
  m_error_status = 0;
  m_error_message.clear();
}

void RequestParser::fail(int status, std::string message) {
  m_state = State::error;
  m_error_status = status;
  m_error_message = std::move(message);
}

std::size_t RequestParser::feed(std::string_view data) {
  std::size_t used = 0;
  while (used < data.size() || m_state == State::body) {
    std::size_t n = 0;
    if (m_state == State::headers)
      n = feed_headers(data.substr(used));
    else if (m_state == State::body)
      n = feed_body(data.substr(used));
    else
      break;
    used += n;
    if (n == 0 && (m_state == State::headers || m_state == State::body)) break;
  }
  return used;
}

std::size_t RequestParser::feed_headers(std::string_view data) {
  std::size_t skipped = 0;
  // Empty lines before a request line are ignored (RFC 9112 §2.2: a client may send a CRLF after a body).
  if (m_head.empty()) {
    while (skipped < data.size() && (data[skipped] == '\r' || data[skipped] == '\n')) ++skipped;
    m_blank_bytes += skipped;
    if (m_blank_bytes > m_limits.max_header_bytes) {  // counted against the header bound
      fail(431, "request header larger than " + std::to_string(m_limits.max_header_bytes) + " bytes");
      return skipped;
    }
    data.remove_prefix(skipped);
    if (data.empty()) return skipped;
  }
  const std::size_t old = m_head.size();
  const std::size_t room = m_limits.max_header_bytes > old ? m_limits.max_header_bytes - old : 0;
  const std::size_t take = std::min(data.size(), room);
  m_head.append(data.substr(0, take));
  const std::size_t from = old >= 3 ? old - 3 : 0;
  const std::size_t end = m_head.find("\r\n\r\n", from);
  if (end == std::string::npos) {
    if (m_head.size() >= m_limits.max_header_bytes) {
      fail(431, "request header larger than " + std::to_string(m_limits.max_header_bytes) + " bytes");
    }
    return skipped + take;
  }
  m_head.resize(end + 4);
  const std::size_t used = skipped + (end + 4 - old);
  if (!parse_header_block()) return used;
  m_state = State::body;
  return used;
}

bool RequestParser::parse_header_block() {
  std::string_view head(m_head);
  head.remove_suffix(4);  // the blank line
  // Lines end in CRLF only; a bare CR or LF anywhere is refused (request smuggling).
  auto next_line = [&head]() {
    auto pos = head.find("\r\n");
    std::string_view line = head.substr(0, pos);
    head = pos == std::string_view::npos ? std::string_view() : head.substr(pos + 2);
    return line;
  };
  std::string_view line = next_line();
  if (line.find_first_of("\r\n") != std::string_view::npos) return fail(400, "bare CR or LF in the request line"), false;
  // METHOD SP target SP HTTP/1.x
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return fail(400, "malformed request line"), false;
  std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                   version = line.substr(sp2 + 1);
  if (method.empty() || method.size() > 32) return fail(400, "malformed method"), false;
  for (unsigned char c : method)
    if (!is_tchar(c)) return fail(400, "malformed method"), false;
  if (target.empty()) return fail(400, "empty request target"), false;
  for (unsigned char c : target)
    if (c <= 0x20 || c >= 0x7F) return fail(400, "request target with a control or non-ASCII byte"), false;
  if (version == "HTTP/1.1")
    m_request.version_minor = 1;
  else if (version == "HTTP/1.0")
    m_request.version_minor = 0;
  else if (version.substr(0, 5) == "HTTP/")
    return fail(505, "only HTTP/1.0 and HTTP/1.1 are spoken"), false;
  else
    return fail(400, "malformed request line"), false;
  m_request.method = std::string(method);
  m_request.target = std::string(target);

  bool have_length = false;
  bool have_te = false;
  std::string connection;
  while (!head.empty()) {
    line = next_line();
    if (line.find_first_of("\r\n") != std::string_view::npos) return fail(400, "bare CR or LF in a header"), false;
    if (line.empty()) continue;  // only possible at the very end
    if (line.front() == ' ' || line.front() == '\t') return fail(400, "obsolete header line folding"), false;
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail(400, "malformed header line"), false;
    std::string name(line.substr(0, colon));
    for (char& c : name) {
      if (!is_tchar(static_cast<unsigned char>(c))) return fail(400, "malformed header name"), false;
      c = lower(c);
    }
    std::string_view value = trim(line.substr(colon + 1));
    for (unsigned char c : value)
      if ((c < 0x20 && c != '\t') || c == 0x7F) return fail(400, "control byte in a header value"), false;
    if (name == "content-length") {
      if (value.empty() || value.size() > 18 || value.find_first_not_of("0123456789") != std::string_view::npos)
        return fail(400, "malformed Content-Length"), false;
      std::uint64_t n = 0;
      for (char c : value) n = n * 10 + static_cast<std::uint64_t>(c - '0');
      if (have_length && n != m_content_length) return fail(400, "conflicting Content-Length headers"), false;
      have_length = true;
      m_content_length = n;
    } else if (name == "transfer-encoding") {
      if (have_te || !iequals(value, "chunked")) return fail(501, "only the chunked transfer coding is understood"), false;
      have_te = true;
    } else if (name == "connection") {
      if (!connection.empty()) connection += ",";
      connection += value;
    }
    m_request.headers.emplace_back(std::move(name), std::string(value));
  }
  if (have_length && have_te) return fail(400, "both Content-Length and Transfer-Encoding"), false;
  if (have_te && m_request.version_minor == 0) return fail(400, "chunked transfer coding in HTTP/1.0"), false;
  m_request.keep_alive = m_request.version_minor == 1 ? !has_token(connection, "close") : has_token(connection, "keep-alive");
  m_chunked = have_te;
  if (have_length && m_content_length > m_limits.max_body_bytes)
    return fail(413, "request body of " + std::to_string(m_content_length) + " bytes; the limit is " +
                         std::to_string(m_limits.max_body_bytes)),
           false;
  m_remaining = m_content_length;
  // Not all of it up front: a client announcing 8 MiB and sending nothing must not cost 8 MiB.
  if (!m_chunked) m_request.body.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(m_content_length, 256u << 10)));
  m_head.clear();
  m_head.shrink_to_fit();
  return true;
}

std::size_t RequestParser::feed_body(std::string_view data) {
  if (m_chunked) return feed_chunked(data);
  const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(m_remaining, data.size()));
  m_request.body.append(data.substr(0, take));
  m_remaining -= take;
  if (m_remaining == 0) m_state = State::complete;
  return take;
}

std::size_t RequestParser::feed_chunked(std::string_view data) {
  std::size_t i = 0;
  while (i < data.size() && m_state == State::body) {
    switch (m_chunk) {
      case Chunk::data: {
        const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(m_remaining, data.size() - i));
        m_request.body.append(data.substr(i, take));
        i += take;
        m_remaining -= take;
        if (m_remaining == 0) m_chunk = Chunk::data_crlf;
        break;
      }
      case Chunk::data_crlf: {
        m_line.push_back(data[i++]);
        if (m_line.size() == 2) {
          if (m_line != "\r\n") return fail(400, "chunk not followed by CRLF"), i;
          m_line.clear();
          m_chunk = Chunk::size;
        }
        break;
      }
      case Chunk::size: {
        const char c = data[i++];
        if (c != '\n') {
          if (m_line.size() >= kMaxChunkLine) return fail(400, "chunk size line too long"), i;
          m_line.push_back(c);
          break;
        }
        if (m_line.empty() || m_line.back() != '\r') return fail(400, "bare LF in a chunk size line"), i;
        m_line.pop_back();
        std::string_view text(m_line);
        text = text.substr(0, text.find(';'));
        text = trim(text);
        if (text.empty() || text.size() > 15) return fail(400, "malformed chunk size"), i;
        std::uint64_t size = 0;
        for (char h : text) {
          int v = (h >= '0' && h <= '9') ? h - '0' : (lower(h) >= 'a' && lower(h) <= 'f') ? lower(h) - 'a' + 10 : -1;
          if (v < 0) return fail(400, "malformed chunk size"), i;
          size = size * 16 + static_cast<std::uint64_t>(v);
        }
        m_line.clear();
        if (size == 0) {
          m_chunk = Chunk::trailer;
        } else {
          if (m_request.body.size() + size > m_limits.max_body_bytes)
            return fail(413, "request body larger than " + std::to_string(m_limits.max_body_bytes) + " bytes"), i;
          m_remaining = size;
          m_chunk = Chunk::data;
        }
        break;
      }
      case Chunk::trailer: {
        const char c = data[i++];
        if (++m_trailer_bytes > m_limits.max_header_bytes) return fail(431, "chunked trailer too large"), i;
        if (c != '\n') {
          m_line.push_back(c);
          break;
        }
        if (m_line.empty() || m_line.back() != '\r') return fail(400, "bare LF in the chunked trailer"), i;
        const bool end = m_line.size() == 1;
        m_line.clear();
        if (end) m_state = State::complete;
        break;
      }
    }
  }
  return i;
}

std::string records_route(std::string_view target) {
  target = target.substr(0, target.find('?'));
  constexpr std::string_view prefix = "/v1/sources/", suffix = "/records";
  if (target.size() <= prefix.size() + suffix.size()) return {};
  if (target.substr(0, prefix.size()) != prefix || target.substr(target.size() - suffix.size()) != suffix) return {};
  std::string_view name = target.substr(prefix.size(), target.size() - prefix.size() - suffix.size());
  if (name.empty() || name.size() > 128) return {};
  for (unsigned char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return {};
  }
  return std::string(name);
}

bool bearer_matches(std::string_view authorization, std::string_view token) {
  authorization = trim(authorization);
  constexpr std::string_view scheme = "bearer";
  if (authorization.size() <= scheme.size() || !iequals(authorization.substr(0, scheme.size()), scheme)) return false;
  std::string_view given = authorization.substr(scheme.size());
  if (given.front() != ' ') return false;
  given = trim(given);
  if (given.empty() || token.empty()) return false;
  // Every byte of the token is compared whatever the given value is: the time depends on the
  // token's length only, not on how much of it a guess got right.
  unsigned diff = given.size() == token.size() ? 0u : 1u;
  for (std::size_t i = 0; i < token.size(); ++i)
    diff |= static_cast<unsigned char>(token[i]) ^ static_cast<unsigned char>(given[i % given.size()]);
  return diff == 0;
}

std::string idempotency_key_problem(std::string_view key) {
  if (key.empty() || key.size() > 128) return "Idempotency-Key must be 1 to 128 characters";
  for (unsigned char c : key)
    if (c < 0x21 || c > 0x7E) return "Idempotency-Key must be printable ASCII without spaces";
  return {};
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string make_response(int status, std::string_view json_body, bool keep_alive, std::string_view extra) {
  std::string out;
  out.reserve(160 + extra.size() + json_body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: ";
  out += std::to_string(json_body.size());
  out += keep_alive ? "\r\nConnection: keep-alive\r\n" : "\r\nConnection: close\r\n";
  out += extra;
  out += "\r\n";
  out += json_body;
  return out;
}

}  // namespace xnode::drivers::http
