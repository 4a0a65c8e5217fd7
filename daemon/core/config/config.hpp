// The daemon's configuration as plain typed structs: durations as milliseconds, sizes as bytes,
// paths absolute (resolved against the configuration file's directory). Only the loader
// (loader.hpp) fills these; every default, limit and doc lives in the schema (config_schema.cpp),
// so the members here carry no defaults of their own.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/config/settings.hpp"

namespace xnode::config {

using Millis = std::chrono::milliseconds;

enum class Durability : std::uint8_t { full, normal };
enum class OnFull : std::uint8_t { block, drop_oldest };
enum class LogLevel : std::uint8_t { error, warning, notice, info, debug };
enum class TlsVersion : std::uint8_t { tls1_2, tls1_3 };

struct NodeConfig {
  std::string id;          // the client certificate's CN, sent as X-XN-Node
  std::string department;  // unified social credit code (GB 32100)
  std::string department_name;
};

struct UplinkConfig {
  std::vector<std::string> endpoints;  // `https://host:port` base URLs, tried in order
  std::string server_name;             // DNS SAN the platform certificate must carry
  std::string ca_file, cert_file, key_file;
  std::string crl_file;                // empty: no CRL check
  std::vector<std::string> pins;       // lower-case hex SHA-256 of SubjectPublicKeyInfo
  std::string proxy;                   // `http://host:port` CONNECT proxy; empty: direct
  TlsVersion tls_min_version{};
  Millis connect_timeout{}, handshake_timeout{}, request_timeout{}, idle_timeout{};
  Millis backoff_initial{}, backoff_max{}, forbidden_backoff{};
  std::int64_t max_batch_records = 0;
  std::uint64_t max_batch_bytes = 0;
  bool gzip = false;
  std::uint64_t max_response_bytes = 0;
};

struct QueueConfig {
  std::string path;
  Durability durability{};
  std::uint64_t max_bytes = 0;
  OnFull on_full{};
  Millis linger{};
};

struct CatalogConfig {
  std::string dir;
  Millis overdue_grace{};
  Millis review_warning{};
};

struct SourceConfig {
  std::string name;
  std::string driver;
  std::string resource;  // resource code = stream
  bool enabled = false;
  Settings settings;     // checked by the driver's SettingsSchema
};

struct AlarmConfig {
  Millis link_down_after{}, backlog_age{};
  std::uint64_t disk_free_min = 0;
  Millis cert_expiry_warning{}, clock_offset_max{}, clear_after{};
};

struct HealthConfig {
  Millis interval{}, probe_interval{};
  std::string prometheus_listen;  // `127.0.0.1:9464` or `[::1]:9464`; empty: off
  std::string status_file;
  std::string control_socket;  // xnodectl's unix socket; empty: off
  AlarmConfig alarms;
};

struct AuditConfig {
  std::string path;
  std::int64_t retention_days = 0;
  std::uint64_t max_bytes = 0;
};

struct QuarantineConfig {
  Millis retention{};
};

struct ConfigPushConfig {
  bool require_signature = false;
  std::string public_key;  // PEM, ECDSA P-256
};

struct LogConfig {
  LogLevel level{};
};

struct Config {
  std::int64_t version = 0;
  NodeConfig node;
  UplinkConfig uplink;
  QueueConfig queue;
  CatalogConfig catalog;
  std::vector<SourceConfig> sources;
  HealthConfig health;
  AuditConfig audit;
  QuarantineConfig quarantine;
  ConfigPushConfig config_push;
  LogConfig log;
};

}  // namespace xnode::config
