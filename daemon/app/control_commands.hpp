// What the daemon does with a request on the control socket: every one is an audit event
// `operator.command` with the caller's uid (from SO_PEERCRED); `quarantine retry` and `quarantine
// purge` are performed here, on the queue store's thread, in bounded steps (a page of entries a
// store task, so intake is never held up for long). Runs on the daemon's loop.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "app/configuration.hpp"
#include "app/control_server.hpp"
#include "io/queue/queue_store.hpp"
#include "io/stores/audit_store.hpp"

namespace xnode::app {

class ControlCommands {
 public:
  // `config`: the configuration in force when a command runs (reload may change it).
  // `committed`: a retry queued records; the uplink wakes up for them.
  ControlCommands(boost::asio::any_io_executor executor, io::QueueStore& store, io::AuditStore& audit,
                  std::function<const CheckedConfiguration&()> config,
                  std::function<void(const std::string& stream, std::uint64_t last_seq)> committed);

  void handle(const ControlPeer& peer, control::Request request, ControlServer::Reply reply);

 private:
  struct Job;
  void finish(const std::shared_ptr<Job>& job);
  void retry_step(const std::shared_ptr<Job>& job);
  void purge_step(const std::shared_ptr<Job>& job);

  boost::asio::any_io_executor m_executor;
  io::QueueStore& m_store;
  io::AuditStore& m_audit;
  std::function<const CheckedConfiguration&()> m_config;
  std::function<void(const std::string&, std::uint64_t)> m_committed;
};

}  // namespace xnode::app
