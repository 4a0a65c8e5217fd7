// xnode-https-get: one request with the project's HTTPS client, for interop tests and by hand.
//
//   xnode-https-get --ca CA.crt [--cert node.crt --key node.key] --server-name NAME
//                   [--crl crl.pem] [--pin HEX]... [--proxy http://h:p] [--method POST]
//                   [--data BODY] [--gzip] [--header 'Name: value']... [--timeout-ms N] URL
//
// Prints the status code on the first line of stdout, then the body. Exit status: 0 for a 2xx
// answer, 3 for another status, 1 when no answer was obtained (reason on stderr), 2 for usage.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "io/https/https_client.hpp"
#include "io/tls/tls_config.hpp"

namespace {

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "xnode-https-get: " << why << "\n"
            << "usage: xnode-https-get --ca CA [--cert CRT --key KEY] --server-name NAME [--crl CRL] [--pin HEX]...\n"
            << "                       [--proxy URL] [--method M] [--data BODY] [--gzip] [--header 'K: V']...\n"
            << "                       [--timeout-ms N] URL\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  xnode::tls::TlsSettings tls;
  xnode::https::Request request;
  std::string url;
  std::string proxy;
  long timeout_ms = 10000;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) usage(a + " needs a value");
      return args[++i];
    };
    if (a == "--ca") tls.ca_file = value();
    else if (a == "--cert") tls.cert_file = value();
    else if (a == "--key") tls.key_file = value();
    else if (a == "--crl") tls.crl_file = value();
    else if (a == "--server-name") tls.server_name = value();
    else if (a == "--pin") tls.spki_pins.push_back(value());
    else if (a == "--proxy") proxy = value();
    else if (a == "--method") request.method = value();
    else if (a == "--data") request.body = value();
    else if (a == "--gzip") request.gzip = true;
    else if (a == "--timeout-ms") timeout_ms = std::atol(value().c_str());
    else if (a == "--header") {
      const std::string& h = value();
      auto colon = h.find(':');
      if (colon == std::string::npos) usage("--header wants 'Name: value'");
      std::size_t start = h.find_first_not_of(' ', colon + 1);
      request.headers.emplace_back(h.substr(0, colon), start == std::string::npos ? "" : h.substr(start));
    } else if (!a.empty() && a[0] == '-') usage("unknown option " + a);
    else if (url.empty()) url = a;
    else usage("one URL only");
  }
  if (url.empty()) usage("no URL");
  auto parsed = xnode::https::parse_url(url);
  if (!parsed) usage(parsed.error().message);
  request.target = parsed->base_path.empty() ? "/" : parsed->base_path;
  parsed->base_path.clear();

  xnode::https::ClientOptions options;
  options.endpoints = {parsed->text()};
  options.proxy = proxy;
  auto timeout = std::chrono::milliseconds(timeout_ms);
  options.connect_timeout = options.handshake_timeout = options.write_timeout = options.read_timeout = timeout;
  if (parsed->scheme == "https") {
    auto config = xnode::tls::TlsConfig::create(tls);
    if (!config) {
      std::cerr << "xnode-https-get: " << config.error().message << "\n";
      return 1;
    }
    options.tls = *config;
  }

  boost::asio::io_context io;
  int status = 1;
  try {
    xnode::https::HttpsClient client(io.get_executor(), options);
    client.async_request(request, [&](boost::system::error_code ec, xnode::https::Response response) {
      if (ec) {
        std::cerr << "xnode-https-get: " << xnode::https::error_class_name(response.error_class) << " error: "
                  << response.error_detail << "\n";
        status = 1;
      } else {
        std::cout << response.status << "\n" << response.body;
        std::cout.flush();
        status = response.status / 100 == 2 ? 0 : 3;
      }
      client.close();
    });
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "xnode-https-get: " << e.what() << "\n";
    return 1;
  }
  return status;
}
