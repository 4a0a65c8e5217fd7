// xnodectl's side of the control socket: one request, one response, every step bounded by a
// deadline (a hung daemon cannot hang the operator's shell).
#pragma once
#include <chrono>
#include <string>

#include "core/base/expected.hpp"
#include "core/control/control_protocol.hpp"

namespace xnode::app {

struct ControlCallError {
  bool not_running = false;  // nobody listens (no socket file, connection refused): xnoded is not running
  std::string message;
};

// Sends `request` to the daemon at `socket_path` and waits for its response until `timeout`.
// On failure, `error` says why (and whether the daemon simply is not running).
bool control_call(const std::string& socket_path, const control::Request& request, std::chrono::milliseconds timeout,
                  control::Response& response, ControlCallError& error);

}  // namespace xnode::app
