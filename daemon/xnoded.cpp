// xnoded — the exchange node daemon.
//   xnoded --config FILE         run in the foreground (systemd: Type=notify), logs to stderr
//   xnoded --check-config FILE   validate configuration, catalog and TLS files (and FILE.sig when
//                                require_signature is on); exit 0 or 1
//   xnoded --version
#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "app/config_push.hpp"
#include "app/configuration.hpp"
#include "app/daemon.hpp"
#include "core/base/log.hpp"

namespace {

void usage(FILE* out) {
  std::fprintf(out,
               "usage: xnoded --config FILE        run the node (foreground; logs to stderr)\n"
               "       xnoded --check-config FILE  validate the configuration, catalog slice and TLS files\n"
               "       xnoded --version\n");
}

int check_config(const std::string& path) {
  auto checked = xnode::app::check_configuration(path);
  for (const auto& e : checked.errors) std::fprintf(stderr, "%s\n", e.c_str());
  for (const auto& w : checked.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (!checked.ok()) {
    std::fprintf(stderr, "%s: invalid (%zu error%s)\n", path.c_str(), checked.errors.size(),
                 checked.errors.size() == 1 ? "" : "s");
    return 1;
  }
  // With require_signature the file must carry the bureau's signature (.sig), as at start.
  if (checked.config->config_push.require_signature) {
    auto file = xnode::app::read_config_file(path);
    auto signed_ok = file ? xnode::app::check_start_rules(*file, checked.version, checked.config->config_push, std::nullopt)
                          : xnode::Expected<void>(file.error());
    if (!signed_ok) {
      std::fprintf(stderr, "%s: %s\n%s: invalid (signature)\n", path.c_str(), signed_ok.error().message.c_str(),
                   path.c_str());
      return 1;
    }
  }
  std::printf("%s: valid (configuration version %lld, %zu source%s, %zu catalog resource%s)\n", path.c_str(),
              static_cast<long long>(checked.version), checked.config->sources.size(),
              checked.config->sources.size() == 1 ? "" : "s", checked.slice.resources.size(),
              checked.slice.resources.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "-V") == 0)) {
    std::printf("xnoded %s\n", XNODE_VERSION);
    return 0;
  }
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    usage(stdout);
    return 0;
  }
  if (argc != 3) {
    usage(stderr);
    return 2;
  }
  const std::string opt = argv[1], path = argv[2];
  try {
    if (opt == "--check-config") return check_config(path);
    if (opt == "--config") {
      // A gateway daemon with a 16 MiB budget: glibc gives every allocating thread an arena of its
      // own (up to 8 a core), each keeping what was freed; two arenas keep the intake and store
      // threads apart without that growth. A fixed mmap threshold hands large buffers (batch
      // bodies, compressed chunks) back to the system at once instead of letting it drift upward.
      ::mallopt(M_ARENA_MAX, 2);
      ::mallopt(M_MMAP_THRESHOLD, 256 * 1024);
      ::mallopt(M_TRIM_THRESHOLD, 512 * 1024);
      return xnode::app::Daemon(path).run();
    }
  } catch (const std::exception& e) {
    xnode::log::error("xnoded", std::string("fatal: ") + e.what());
    return 1;
  }
  usage(stderr);
  return 2;
}
