// The server side of XEP/1 (platform-api.md §1–§3.7) as a pure request → response function over
// the platform's store: no sockets, time injected. The HTTP server and the tests both call
// handle(); the admin interface reads and changes state through the other members.
//
// Checks run in the order of §2: path and method, identity, stream, size, form, state, content.
// In-memory state (per node: catalog, streams' high-water marks and counters, audit head, waiting
// config) mirrors the store and is changed only after the store has committed.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/json.hpp"
#include "core/base/time.hpp"
#include "tests/platform/catalog_rules.hpp"
#include "tests/platform/http_types.hpp"
#include "tests/platform/platform_store.hpp"

namespace xnode::platform {

struct ServiceOptions {
  std::int64_t max_batch_bytes = 4 * 1024 * 1024;
  std::int64_t heartbeat_interval_s = 60;
  std::chrono::milliseconds clock_offset{0};  // shifts server_time (clock-offset tests)
};

class PlatformService {
 public:
  PlatformService(PlatformStore& store, ServiceOptions options);

  Response handle(const Request& request, TimePoint now);

  // --- admin (inspection and bureau actions)
  void set_disabled(const std::string& node_id, bool disabled, TimePoint now);
  void place_config(const std::string& node_id, const WaitingConfig& config, TimePoint now);
  // The bureau refuses a resource code (a rule of its own the node does not know): a PUT of a
  // slice holding it is answered 422 with a problem naming it. An empty reason lifts the refusal.
  void refuse_resource(const std::string& code, const std::string& reason);
  // {"nodes": {"<node>": {"disabled", "catalog_version", "audit_acked_through", "config_version",
  //   "streams": {"<code>": {acked_through, stored, duplicates, mismatches, rejected, gap_records,
  //   batches}}}}}
  json::Value state_report() const;
  // One stream's counters plus its declared gaps and rejections; nullopt when unknown.
  std::optional<json::Value> stream_report(const std::string& node_id, const std::string& code);
  std::optional<std::string> latest_health(const std::string& node_id);
  // {"acked_through", "events", "chain_ok", "problem"} — re-verifies every stored event.
  json::Value audit_report(const std::string& node_id);
  // Accepted records of a stream, in seq order, each as received.
  std::vector<std::string> records(const std::string& node_id, const std::string& code);

  const ServiceOptions& options() const { return m_options; }

 private:
  struct StreamState {
    std::int64_t id = 0;
    StreamCounters counters;
  };
  struct Node {
    NodeState state;
    std::shared_ptr<const SliceRules> rules;  // the current catalog's record rules
    std::map<std::string, StreamState> streams;
    std::int64_t catalog_puts = 0;  // PUT /catalog requests received (an unchanged slice sends none)
  };
  struct Body;  // a decoded request body

  Response route(const Request& request, TimePoint now);
  Node& node(const std::string& node_id, TimePoint now);
  StreamState& stream(const std::string& node_id, Node& n, const std::string& code);

  Response hello(const std::string& node_id, Node& n, const json::Value& body, TimePoint now);
  Response put_catalog(const std::string& node_id, Node& n, const json::Value& body, TimePoint now);
  Response get_catalog(Node& n);
  Response batches(const std::string& node_id, Node& n, const std::string& code, const Request& request,
                   const Body& body, TimePoint now);
  Response gaps(const std::string& node_id, Node& n, const std::string& code, const json::Value& body,
                TimePoint now);
  Response health(const std::string& node_id, Node& n, const Body& body, const json::Value& report, TimePoint now);
  Response audit(const std::string& node_id, Node& n, const Body& body);
  Response config(Node& n, const Request& request);

  std::int64_t config_version(const Node& n) const { return n.state.config ? n.state.config->version : 0; }

  PlatformStore& m_store;
  ServiceOptions m_options;
  std::map<std::string, Node> m_nodes;
  std::map<std::string, std::string> m_refused_resources;  // code → reason
};

// Builds an error answer of §2: {"error": code, "message": message, …extra}.
Response error_response(int status, std::string_view code, std::string_view message,
                        json::Object extra = {});
Response json_response(int status, const json::Value& body);

}  // namespace xnode::platform
