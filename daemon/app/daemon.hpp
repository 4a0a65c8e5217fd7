// xnoded: the wiring. Owns the stores, the drivers, the uplink and the health model, runs the
// network loop on the calling thread until SIGTERM/SIGINT, and reloads on SIGHUP.
#pragma once
#include <memory>
#include <string>

namespace xnode::app {

class Daemon {
 public:
  explicit Daemon(std::string config_path);
  ~Daemon();
  // Runs until stopped. Returns the process exit code: 0 after a clean stop, 1 when it could not
  // start (configuration invalid, stores unusable — the reason is logged).
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace xnode::app
