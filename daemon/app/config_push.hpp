// Signed configuration push (issue #6, platform-api.md §3.7): the rules a new configuration must
// pass before the daemon's reload path may apply it, the same for a file placed in /etc/xnode
// (+ SIGHUP or noticed) and for one pulled from the platform. daemon.cpp does the wiring (when to
// check, audit, health); this file decides and writes files.
//
// The rules:
// - from the platform: always signed (a push with no bureau key configured is refused), the
//   envelope's version equals the signed YAML's top-level `version:`, which is newer than the
//   running one — with or without require_signature;
// - from a file, require_signature off: applied as before (no signature, no version rule);
// - from a file, require_signature on: `<file>.sig` verifies with the running key and the version
//   is newer; a file whose bytes equal the running ones is not a new configuration (a SIGHUP or a
//   catalog edit reloads it without the version rule).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/expected.hpp"
#include "core/config/config.hpp"

namespace xnode::app {

enum class ConfigOrigin { file, platform };

// A configuration on offer: its exact bytes, and the signature over them when it has one.
struct ConfigCandidate {
  ConfigOrigin origin = ConfigOrigin::file;
  std::string yaml;
  std::optional<std::string> signature;          // base64 DER, as `openssl dgst -sha256 -sign` | base64
  std::optional<std::int64_t> envelope_version;  // the platform answer's "version"
};

// What the running configuration says about the next one.
struct RunningConfig {
  std::int64_t version = 0;
  std::string sha256;  // of the running file's bytes
  config::ConfigPushConfig push;
};

// `<config>.sig`: where a file's signature lives.
std::string signature_path(const std::string& config_path);

// Reads the configuration file and, when present, `<file>.sig` beside it. Errors name the file.
Expected<ConfigCandidate> read_config_file(const std::string& path);

// The platform's answer `{"version": N, "yaml": "…", "signature": "…"}`.
Expected<ConfigCandidate> parse_config_offer(std::string_view body);

// The signature and version rules above. `yaml_version` is the candidate's top-level `version:`
// (0 when it could not be read). The error is the reason to refuse, for log, audit and health.
Expected<void> check_push_rules(const ConfigCandidate& candidate, std::int64_t yaml_version,
                                const RunningConfig& running);

// At start there is no running configuration: a file whose own config_push requires signatures
// must carry a valid one, and its version may not be below the highest this node ever applied
// (`highest_applied`, kept in the queue database) — a rollback cannot come in through a restart.
Expected<void> check_start_rules(const ConfigCandidate& candidate, std::int64_t yaml_version,
                                 const config::ConfigPushConfig& own, std::optional<std::int64_t> highest_applied);

// Replaces the configuration file with `yaml` and its `.sig` with `signature`, each atomically
// (temporary file, fsync, rename, fsync of the directory); the files they replace are kept as
// `<file>.prev` and `<file>.prev.sig`.
Expected<void> install_config_file(const std::string& path, std::string_view yaml, std::string_view signature);

// Puts `<file>.prev` (and its signature) back after an installed file could not be applied.
Expected<void> restore_previous_config(const std::string& path);

}  // namespace xnode::app
