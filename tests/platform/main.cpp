// xnode-refplatform: the reference implementation of the municipal platform's side of XEP/1, for
// tests, demos and benchmarks. See docs/reference-platform.md.
#include <charconv>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "core/base/log.hpp"
#include "tests/platform/admin.hpp"
#include "tests/platform/platform_service.hpp"
#include "tests/platform/platform_store.hpp"
#include "tests/platform/server.hpp"

namespace {

constexpr const char* kUsage =
    "usage: xnode-refplatform --listen HOST:PORT --cert FILE --key FILE --ca FILE [--crl FILE]\n"
    "                         --db FILE [--admin 127.0.0.1:PORT] [--max-batch-bytes N] [--heartbeat S]\n"
    "                         [--clock-offset-ms N] [--idle-timeout S] [--log-level LEVEL]\n"
    "                         [--plain-for-tests]\n"
    "  --plain-for-tests  plain TCP, node id taken from X-XN-Node (never outside tests)\n";

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "xnode-refplatform: %s\n%s", message.c_str(), kUsage);
  std::exit(2);
}

std::int64_t integer(std::string_view option, std::string_view text) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size())
    usage_error(std::string(option) + ": '" + std::string(text) + "' is not an integer");
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace xnode;
  using namespace xnode::platform;
  ServerOptions server_options;
  ServiceOptions service_options;
  std::string db_path;
  bool have_listen = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--plain-for-tests") {
      server_options.plain_for_tests = true;
      continue;
    }
    if (i + 1 >= argc) usage_error(std::string(arg) + " needs a value");
    std::string value = argv[++i];
    if (arg == "--listen" || arg == "--admin") {
      auto ep = parse_endpoint(value);
      if (!ep) usage_error(std::string(arg) + ": " + ep.error().message);
      if (arg == "--listen") {
        server_options.listen = *ep;
        have_listen = true;
      } else {
        server_options.admin = *ep;
      }
    } else if (arg == "--cert") server_options.cert_file = value;
    else if (arg == "--key") server_options.key_file = value;
    else if (arg == "--ca") server_options.ca_file = value;
    else if (arg == "--crl") server_options.crl_file = value;
    else if (arg == "--db") db_path = value;
    else if (arg == "--max-batch-bytes") {
      service_options.max_batch_bytes = integer(arg, value);
      if (service_options.max_batch_bytes < 1024) usage_error("--max-batch-bytes must be at least 1024");
    } else if (arg == "--heartbeat") {
      service_options.heartbeat_interval_s = integer(arg, value);
      if (service_options.heartbeat_interval_s < 1) usage_error("--heartbeat must be at least 1");
    } else if (arg == "--clock-offset-ms") service_options.clock_offset = std::chrono::milliseconds(integer(arg, value));
    else if (arg == "--idle-timeout") server_options.idle_timeout = std::chrono::seconds(integer(arg, value));
    else if (arg == "--log-level") {
      log::Level level;
      if (!log::parse_level(value, level)) usage_error("--log-level: error, warning, notice, info or debug");
      log::set_level(level);
    } else usage_error("unknown option " + std::string(arg));
  }
  if (!have_listen) usage_error("--listen is required");
  if (db_path.empty()) usage_error("--db is required");
  if (!server_options.plain_for_tests &&
      (server_options.cert_file.empty() || server_options.key_file.empty() || server_options.ca_file.empty()))
    usage_error("--cert, --key and --ca are required (mutual TLS)");
  // Bodies up to twice the batch limit are read so that the protocol answers 413 itself.
  server_options.body_limit = static_cast<std::size_t>(service_options.max_batch_bytes) * 2 + (1u << 20);

  try {
    PlatformStore store(db_path);
    PlatformService service(store, service_options);
    Faults faults;
    boost::asio::io_context io;
    Server server(io, service, faults, server_options);
    if (auto started = server.start(); !started) {
      log::error("platform", started.error().message);
      return 1;
    }
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      log::notice("platform", std::string("stopping on ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT"));
      server.stop();
    });
    log::notice("platform", "listening on " + server_options.listen.host + ":" + std::to_string(server.port()) +
                                (server_options.plain_for_tests ? " (PLAIN, tests only)" : " (mutual TLS)") +
                                (server_options.admin ? ", admin on " + server_options.admin->host + ":" +
                                                            std::to_string(server.admin_port())
                                                      : std::string()) +
                                ", database " + db_path);
    io.run();
    log::notice("platform", "stopped");
    return 0;
  } catch (const std::exception& e) {
    log::error("platform", std::string("cannot start: ") + e.what());
    return 1;
  }
}
