#include "core/config/config_schema.hpp"

#include <type_traits>
#include <utility>

#include "core/base/identifiers.hpp"
#include "core/config/config.hpp"
#include "core/config/rules.hpp"

namespace xnode::config {

namespace {

template <class T>
T extract(const SettingValue& value) {
  if constexpr (std::is_same_v<T, std::string>) return value.text;
  else if constexpr (std::is_same_v<T, bool>) return value.boolean;
  else if constexpr (std::is_same_v<T, std::int64_t>) return value.integer;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return value.bytes;
  else if constexpr (std::is_same_v<T, Millis>) return value.duration;
  else if constexpr (std::is_same_v<T, std::vector<std::string>>) return value.list;
  else if constexpr (std::is_same_v<T, Settings>) return value.objects.empty() ? Settings() : value.objects.front();
  else static_assert(!sizeof(T), "no extraction for this member type");
}

// Binds a key to a member of the struct that holds it (the section's struct).
template <class Owner, class T>
KeySpec bind(T Owner::*member, KeySpec key) {
  key.assign = [member](void* owner, const SettingValue& value) {
    static_cast<Owner*>(owner)->*member = extract<T>(value);
  };
  return key;
}

// Binds an enumeration key; `values` run parallel to the key's words.
template <class Owner, class E>
KeySpec bind_enum(E Owner::*member, std::vector<std::pair<std::string, E>> choices, std::string name,
                  std::string doc) {
  std::vector<std::string> words;
  for (const auto& choice : choices) words.push_back(choice.first);
  KeySpec key = enum_key(std::move(name), std::move(words), std::move(doc));
  key.assign = [member, choices](void* owner, const SettingValue& value) {
    for (const auto& [word, e] : choices)
      if (word == value.text) static_cast<Owner*>(owner)->*member = e;
  };
  return key;
}

template <class Owner, class S>
KeySpec section(S Owner::*member, std::string name, std::string doc, std::vector<KeySpec> children) {
  KeySpec key = object_key(std::move(name), std::move(doc), std::move(children));
  key.enter = [member](void* owner) -> void* { return &(static_cast<Owner*>(owner)->*member); };
  return key;
}

template <class Owner, class S>
KeySpec section_list(std::vector<S> Owner::*member, std::string name, std::string doc,
                     std::vector<KeySpec> children) {
  KeySpec key = object_list_key(std::move(name), std::move(doc), std::move(children));
  key.append = [member](void* owner) -> void* { return &(static_cast<Owner*>(owner)->*member).emplace_back(); };
  return key;
}

ValueCheck must(bool (*valid)(std::string_view), std::string rule) {
  return [valid, rule](std::string_view value) -> std::optional<std::string> {
    if (valid(value)) return std::nullopt;
    return rule;
  };
}

bool valid_https_url(std::string_view v) { return parse_https_url(v).has_value(); }
bool valid_proxy_url(std::string_view v) { return parse_http_proxy_url(v).has_value(); }
bool valid_loopback_listen(std::string_view v) { return parse_loopback_listen(v).has_value(); }
bool valid_uscc(std::string_view v) { return identifiers::valid_uscc(v); }
// sun_path holds 108 bytes with its terminator.
bool fits_unix_socket(std::string_view v) { return v.size() <= 107; }

std::vector<KeySpec> build() {
  using C = Config;
  using N = NodeConfig;
  using U = UplinkConfig;
  using Q = QueueConfig;
  using K = CatalogConfig;
  using S = SourceConfig;
  using H = HealthConfig;
  using A = AlarmConfig;
  using Au = AuditConfig;
  using Qu = QuarantineConfig;
  using P = ConfigPushConfig;
  using L = LogConfig;
  return {
      bind(&C::version,
           integer_key("version", "Version of this configuration; a signed push is applied only when it is higher "
                                  "than the running one")
               .def("0")
               .at_least("0")),

      section(&C::node, "node", "Who this node is.",
              {bind(&N::id, string_key("id", "Node id: the CN of the node's client certificate, sent as X-XN-Node")
                                .required()
                                .rule("`[a-z0-9][a-z0-9-]{0,62}`",
                                      must(valid_node_id, "must match [a-z0-9][a-z0-9-]{0,62}"))),
               bind(&N::department,
                    string_key("department", "The department's unified social credit code")
                        .required()
                        .rule("GB 32100 check character",
                              must(valid_uscc, "must be a unified social credit code valid per GB 32100"))),
               bind(&N::department_name, string_key("department_name", "The department's name, for operators"))}),

      section(
          &C::uplink, "uplink", "The link to the municipal platform (XEP/1 over mutually authenticated TLS).",
          {bind(&U::endpoints, list_key("endpoints", "Platform base URLs, tried in this order")
                                   .required()
                                   .entries_at_least(1)
                                   .rule("`https://host[:port]`",
                                         must(valid_https_url, "must be an https://host:port base URL"))),
           bind(&U::server_name,
                string_key("server_name", "DNS name (SAN) the platform certificate must carry")
                    .required()
                    .rule("DNS name", must(valid_dns_name, "must be a DNS name"))),
           bind(&U::ca_file, path_key("ca_file", "CA bundle (PEM) the platform certificate must chain to").required()),
           bind(&U::cert_file,
                path_key("cert_file", "The node's client certificate (PEM), issued by the bureau's node CA")
                    .required()),
           bind(&U::key_file, path_key("key_file", "Private key of the client certificate (PEM)").required()),
           bind(&U::crl_file,
                path_key("crl_file", "Revocation list checked against the platform certificate; empty: none")),
           bind(&U::pins, list_key("pins", "SHA-256 (hex) of the platform's SubjectPublicKeyInfo; one must match; "
                                           "empty: no pinning")
                              .def("[]")
                              .rule("64 hex digits", must(valid_sha256_hex, "must be 64 hex digits"))),
           bind(&U::proxy, string_key("proxy", "HTTP CONNECT proxy (the unified access point); empty: direct")
                               .rule("`http://host:port`",
                                     must(valid_proxy_url, "must be an http://host:port proxy URL"))),
           bind_enum(&U::tls_min_version, {{"1.2", TlsVersion::tls1_2}, {"1.3", TlsVersion::tls1_3}},
                     "tls_min_version", "Oldest TLS version offered")
               .def("1.2"),
           bind(&U::connect_timeout, duration_key("connect_timeout", "Limit for one TCP connect (and proxy CONNECT)")
                                         .def("5s")
                                         .at_least("100ms")
                                         .at_most("5m")),
           bind(&U::handshake_timeout,
                duration_key("handshake_timeout", "Limit for the TLS handshake").def("10s").at_least("100ms").at_most("5m")),
           bind(&U::request_timeout, duration_key("request_timeout", "Limit for one request, sent to answered")
                                         .def("30s")
                                         .at_least("1s")
                                         .at_most("10m")),
           bind(&U::idle_timeout,
                duration_key("idle_timeout", "Close a kept-alive connection idle this long (the platform closes at 120s)")
                    .def("100s")
                    .at_least("1s")
                    .at_most("119s")),
           bind(&U::backoff_initial, duration_key("backoff_initial", "First retry delay after a failure")
                                         .def("500ms")
                                         .at_least("100ms")
                                         .at_most("1m")),
           // 2 s: after an outage the first batch waits at most this long once the platform is back
           // (issue #3: a 1M backlog drains in ~10 s, so a 10 s cap decided the drain figure); each
           // attempt while down is one refused connect, far below 1 % of a core.
           bind(&U::backoff_max, duration_key("backoff_max", "Longest retry delay (doubling with jitter)")
                                     .def("2s")
                                     .at_least("1s")
                                     .at_most("10m")),
           bind(&U::forbidden_backoff,
                duration_key("forbidden_backoff", "Retry delay after 403 (identity refused or node disabled)")
                    .def("10m")
                    .at_least("1m")
                    .at_most("1d")),
           bind(&U::max_batch_records,
                integer_key("max_batch_records", "Most records in one batch").def("2000").at_least("1").at_most("100000")),
           bind(&U::max_batch_bytes, size_key("max_batch_bytes", "Largest uncompressed batch body (the platform may "
                                                                 "lower it in hello)")
                                         .def("1MiB")
                                         .at_least("4KiB")
                                         .at_most("64MiB")),
           bind(&U::gzip, bool_key("gzip", "Send batch bodies with Content-Encoding: gzip").def("false")),
           bind(&U::max_response_bytes, size_key("max_response_bytes", "Largest response body accepted")
                                            .def("1MiB")
                                            .at_least("64KiB")
                                            .at_most("64MiB"))}),

      section(&C::queue, "queue", "The durable queue of records waiting for the platform (SQLite).",
              {bind(&Q::path, path_key("path", "SQLite file of the queue").def("/var/lib/xnode/queue.db")),
               bind_enum(&Q::durability, {{"full", Durability::full}, {"normal", Durability::normal}}, "durability",
                         "full: a record acknowledged to its source survives power loss; normal: may lose the "
                         "last commits on power loss")
                   .def("full"),
               bind(&Q::max_bytes,
                    size_key("max_bytes", "Most disk space the queued records may take").def("512MiB").at_least("16MiB")),
               bind_enum(&Q::on_full, {{"block", OnFull::block}, {"drop_oldest", OnFull::drop_oldest}}, "on_full",
                         "block: hold the sources back; drop_oldest: evict the oldest records and declare the gap")
                   .def("block"),
               bind(&Q::linger,
                    duration_key("linger", "The longest an enqueue waits to share its commit with others; the wait adapts "
                                        "below it: none for a lone source or one that waits for each answer, about "
                                        "as long as other submits take to arrive while they keep arriving; 0 never waits")
                        .def("5ms")
                        .at_most("1s"))}),

      section(&C::catalog, "catalog", "The department's catalog slice.",
              {bind(&K::dir, path_key("dir", "Directory of the catalog resource files").def("/etc/xnode/catalog.d")),
               bind(&K::overdue_grace,
                    duration_key("overdue_grace", "Slack past a resource's update cycle before it is reported overdue")
                        .def("1d")
                        .at_most("30d")),
               bind(&K::review_warning,
                    duration_key("review_warning", "Warn when the slice has not been reviewed for this long")
                        .def("365d")
                        .at_least("1d")
                        .at_most("3650d"))}),

      section_list(
          &C::sources, "sources", "Where records come from: one entry per source, each feeding one resource's stream.",
          {bind(&S::name, string_key("name", "Unique name of the source, used in logs and health reports")
                              .required()
                              .rule("`[a-z0-9][a-z0-9_-]*`, at most 64 characters",
                                    must(valid_source_name, "must match [a-z0-9][a-z0-9_-]* (at most 64 characters)"))),
           bind(&S::driver, string_key("driver", "Driver that reads the source (spool, …)").required()),
           bind(&S::resource,
                string_key("resource", "Resource code of the catalog entry (the stream) the records belong to")
                    .required()
                    .rule("`<classification>/<provider USCC>-<5 digits>`",
                          must(valid_resource_code,
                               "must be a resource code <classification>/<provider USCC>-<5 digits>"))),
           bind(&S::enabled, bool_key("enabled", "false keeps the source declared but stopped").def("true")),
           bind(&S::settings,
                driver_settings_key("settings", "Driver settings, checked by the driver's own schema"))})
          .def("[]"),

      section(
          &C::health, "health", "Link health, alarms and status.",
          {bind(&H::interval,
                duration_key("interval", "Heartbeat: health report period").def("60s").at_least("5s").at_most("1h")),
           bind(&H::probe_interval, duration_key("probe_interval", "How often local state (disk, queue, sources, "
                                                                   "certificate and CRL dates) is sampled; also "
                                                                   "bounds how long a silent cut of an idle uplink "
                                                                   "connection goes unnoticed (TCP keep-alive)")
                                        .def("10s")
                                        .at_least("1s")
                                        .at_most("10m")),
           bind(&H::prometheus_listen,
                string_key("prometheus_listen", "Prometheus metrics listener on loopback; empty: off")
                    .def("")
                    .rule("`127.x.x.x:port` or `[::1]:port`",
                          must(valid_loopback_listen, "must be a loopback address 127.x.x.x:port or [::1]:port"))),
           bind(&H::status_file,
                path_key("status_file", "JSON status file read by xnodectl").def("/run/xnode/status.json")),
           bind(&H::control_socket,
                path_key("control_socket", "Unix socket for xnodectl's commands (mode 0660: root and the service "
                                           "group); empty: off")
                    .def("/run/xnode/control.sock")
                    .rule("at most 107 bytes", must(fits_unix_socket, "must be at most 107 bytes (a unix socket path)"))),
           section(
               &H::alarms, "alarms", "Alarm thresholds.",
               {bind(&A::link_down_after,
                     duration_key("link_down_after", "Raise link_down after the link is down this long")
                         .def("60s")
                         .at_most("1d")),
                bind(&A::backlog_age, duration_key("backlog_age", "Raise backlog when the oldest pending record is "
                                                                  "this old")
                                          .def("1h")
                                          .at_least("1m")
                                          .at_most("30d")),
                bind(&A::disk_free_min, size_key("disk_free_min", "Raise disk_low below this much free space")
                                            .def("1GiB")),
                bind(&A::cert_expiry_warning,
                     duration_key("cert_expiry_warning", "Raise cert_expiring this long before a certificate expires")
                         .def("30d")
                         .at_least("1d")
                         .at_most("365d")),
                bind(&A::clock_offset_max,
                     duration_key("clock_offset_max", "Raise clock_offset when the clock is off the platform's by more")
                         .def("2s")
                         .at_least("100ms")
                         .at_most("1h")),
                bind(&A::clear_after,
                     duration_key("clear_after", "Hysteresis: clear an alarm after its condition is gone this long")
                         .def("30s")
                         .at_most("1h"))})}),

      section(&C::audit, "audit", "The hash-chained audit trail.",
              {bind(&Au::path, path_key("path", "SQLite file of the audit trail").def("/var/lib/xnode/audit.db")),
               bind(&Au::retention_days,
                    integer_key("retention_days", "Days audit events are kept (3 years at least, by regulation)")
                        .def("1095")
                        .at_least("1095")
                        .at_most("36500")),
               bind(&Au::max_bytes,
                    size_key("max_bytes", "Disk space for the audit trail before an alarm").def("1GiB").at_least("64MiB"))}),

      section(&C::quarantine, "quarantine", "Records refused locally or by the platform.",
              {bind(&Qu::retention, duration_key("retention", "How long quarantined records are kept")
                                        .def("90d")
                                        .at_least("1d")
                                        .at_most("3650d"))}),

      section(&C::config_push, "config_push", "Signed configuration pushed by the bureau.",
              {bind(&P::require_signature,
                    bool_key("require_signature",
                             "Apply only configuration files signed with public_key (xnode.yaml.sig) and newer "
                             "than the running one; pushes from the platform need the signature either way")
                        .def("false")),
               bind(&P::public_key, path_key("public_key", "The bureau's configuration key (PEM, ECDSA P-256); "
                                                           "required when require_signature is true; without "
                                                           "it the node refuses every push from the platform"))}),

      section(&C::log, "log", "Logging to stderr (journald).",
              {bind_enum(&L::level,
                         {{"error", LogLevel::error},
                          {"warning", LogLevel::warning},
                          {"notice", LogLevel::notice},
                          {"info", LogLevel::info},
                          {"debug", LogLevel::debug}},
                         "level", "Least severe level logged")
                   .def("info")}),
  };
}

}  // namespace

const std::vector<KeySpec>& config_schema() {
  static const std::vector<KeySpec> schema = build();
  return schema;
}

}  // namespace xnode::config
