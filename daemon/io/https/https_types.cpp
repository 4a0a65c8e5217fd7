#include "io/https/https_types.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include "io/tls/tls_error.hpp"

namespace xnode::https {

namespace {

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"  // error_category's destructor is protected by design
class HttpsCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "https"; }
  std::string message(int value) const override {
    switch (static_cast<HttpsErrc>(value)) {
      case HttpsErrc::no_endpoints: return "no platform endpoint configured";
      case HttpsErrc::bad_endpoint: return "endpoint URL not usable (https://host:port or http://host:port)";
      case HttpsErrc::proxy_refused: return "the proxy refused the CONNECT tunnel";
      case HttpsErrc::client_closed: return "the client was closed";
    }
    return "https error " + std::to_string(value);
  }
};
#pragma GCC diagnostic pop

}  // namespace

std::string Url::host_port() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::string Url::text() const { return scheme + "://" + host_port() + base_path; }

Expected<Url> parse_url(const std::string& text) {
  Url u;
  auto fail = [&](const std::string& why) { return Error("URL '" + text + "': " + why); };
  auto sep = text.find("://");
  if (sep == std::string::npos) return fail("expected scheme://host[:port][/path]");
  u.scheme = text.substr(0, sep);
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  if (u.scheme != "https" && u.scheme != "http") return fail("scheme must be https or http");
  std::string rest = text.substr(sep + 3);
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) {
    u.base_path = rest.substr(slash);
    while (!u.base_path.empty() && u.base_path.back() == '/') u.base_path.pop_back();
    if (u.base_path.find_first_of("?# ") != std::string::npos) return fail("no query, fragment or space in the base path");
  }
  if (authority.find('@') != std::string::npos) return fail("credentials in URLs are not supported");
  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return fail("unclosed '[' in IPv6 address");
    u.host = authority.substr(1, close - 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("garbage after IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    auto colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  if (u.host.empty()) return fail("no host");
  if (port_text.empty()) {
    u.port = u.scheme == "https" ? 443 : 80;
  } else {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return fail("bad port '" + port_text + "'");
    }
    u.port = static_cast<std::uint16_t>(value);
  }
  return u;
}

const char* error_class_name(ErrorClass c) {
  switch (c) {
    case ErrorClass::none: return "none";
    case ErrorClass::dns: return "dns";
    case ErrorClass::connect: return "connect";
    case ErrorClass::tls: return "tls";
    case ErrorClass::timeout: return "timeout";
    case ErrorClass::http: return "http";
  }
  return "unknown";
}

std::string Response::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

const boost::system::error_category& https_category() {
  static const HttpsCategory category;
  return category;
}

ErrorClass classify(const boost::system::error_code& ec) {
  if (!ec) return ErrorClass::none;
  if (ec == boost::beast::error::timeout || ec == boost::asio::error::timed_out) return ErrorClass::timeout;
  if (ec.category() == tls::tls_category()) {
    return ec == tls::TlsErrc::stream_truncated ? ErrorClass::connect : ErrorClass::tls;
  }
  if (ec.category() == boost::asio::error::get_netdb_category() ||
      ec.category() == boost::asio::error::get_addrinfo_category()) {
    return ErrorClass::dns;
  }
  if (ec.category() == boost::beast::http::make_error_code(boost::beast::http::error::body_limit).category()) {
    return ec == boost::beast::http::error::end_of_stream ? ErrorClass::connect : ErrorClass::http;
  }
  return ErrorClass::connect;
}

std::string gzip_compress(std::string_view data, int level) {
  z_stream z{};
  // 15 window bits + 16: write a gzip header and trailer rather than zlib's.
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::bad_alloc();
  }
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(data.size())) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int ret = deflate(&z, Z_FINISH);
  std::size_t produced = out.size() - z.avail_out;
  deflateEnd(&z);
  if (ret != Z_STREAM_END) throw std::runtime_error("gzip: deflate did not finish (output bound too small)");
  out.resize(produced);
  return out;
}

Expected<std::string> gzip_decompress(const std::string& data, std::size_t limit) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return Error("gzip: inflateInit failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char chunk[16384];
  int ret = Z_OK;
  while (ret != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    ret = inflate(&z, Z_NO_FLUSH);
    if (ret != Z_OK && ret != Z_STREAM_END) {
      inflateEnd(&z);
      return Error(std::string("gzip: corrupt data (") + (z.msg ? z.msg : "inflate error") + ")");
    }
    out.append(chunk, sizeof chunk - z.avail_out);
    if (out.size() > limit) {
      inflateEnd(&z);
      return Error("gzip: decompressed size above the limit of " + std::to_string(limit) + " bytes");
    }
    if (ret == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      return Error("gzip: truncated data");
    }
  }
  inflateEnd(&z);
  return out;
}

}  // namespace xnode::https
