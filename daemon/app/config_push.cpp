#include "app/config_push.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/base/json.hpp"
#include "core/base/sha256.hpp"
#include "core/config/loader.hpp"
#include "io/tls/signature.hpp"

namespace fs = std::filesystem;

namespace xnode::app {

namespace {

// A signature is some 100 bytes of base64; anything much larger is not one.
constexpr std::size_t kMaxSignatureBytes = 4096;

enum class Read { ok, missing, failed };

// At most `limit` + 1 bytes, so that an oversized file is told apart without reading it whole.
Read read_file(const std::string& path, std::size_t limit, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return Read::missing;
    error = path + ": cannot open: " + std::strerror(errno);
    return Read::failed;
  }
  out.resize(limit + 1);
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  if (in.bad()) {
    error = path + ": cannot read: " + std::strerror(errno);
    return Read::failed;
  }
  out.resize(static_cast<std::size_t>(in.gcount()));
  if (out.size() > limit) {
    error = path + ": too large (more than " + std::to_string(limit) + " bytes)";
    return Read::failed;
  }
  return Read::ok;
}

std::string errno_text() { return std::strerror(errno); }

// Writes `data` to `path.tmp` and syncs it; the caller renames. Keeps the mode of the file it
// replaces (the configuration is 0640, readable by the service group only).
Expected<std::string> write_synced_temp(const std::string& path, std::string_view data) {
  mode_t mode = 0640;
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Error(tmp + ": cannot create: " + errno_text());
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string e = tmp + ": cannot write: " + errno_text();
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error(std::move(e));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    std::string e = tmp + ": cannot sync: " + errno_text();
    ::close(fd);
    ::unlink(tmp.c_str());
    return Error(std::move(e));
  }
  ::close(fd);
  return tmp;
}

Expected<void> rename_into_place(const std::string& tmp, const std::string& path) {
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string e = path + ": cannot replace: " + errno_text();
    ::unlink(tmp.c_str());
    return Error(std::move(e));
  }
  return {};
}

// The renames are durable only once the directory entry is.
void sync_directory(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

Expected<void> write_atomically(const std::string& path, std::string_view data) {
  XNODE_TRY(std::string tmp, write_synced_temp(path, data));
  return rename_into_place(tmp, path);
}

// Copies `from` to `to` atomically; a missing `from` removes a stale `to`.
Expected<void> copy_atomically(const std::string& from, const std::string& to) {
  std::string bytes, error;
  switch (read_file(from, config::kMaxConfigBytes, bytes, error)) {
    case Read::missing: ::unlink(to.c_str()); return {};
    case Read::failed: return Error(error);
    case Read::ok: break;
  }
  return write_atomically(to, bytes);
}

std::string prev_path(const std::string& path) { return path + ".prev"; }

}  // namespace

std::string signature_path(const std::string& config_path) { return config_path + ".sig"; }

Expected<ConfigCandidate> read_config_file(const std::string& path) {
  ConfigCandidate c;
  c.origin = ConfigOrigin::file;
  std::string error;
  switch (read_file(path, config::kMaxConfigBytes, c.yaml, error)) {
    case Read::missing: return Error(path + ": cannot open: " + std::strerror(ENOENT));
    case Read::failed: return Error(error);
    case Read::ok: break;
  }
  std::string sig;
  switch (read_file(signature_path(path), kMaxSignatureBytes, sig, error)) {
    case Read::missing: break;
    case Read::failed: return Error(error);
    case Read::ok: c.signature = std::move(sig); break;
  }
  return c;
}

Expected<ConfigCandidate> parse_config_offer(std::string_view body) {
  auto doc = json::parse(body);
  if (!doc || !doc->is_object()) return Error("the platform's configuration answer is not a JSON object");
  const json::Value* version = doc->find("version");
  const json::Value* yaml = doc->find("yaml");
  const json::Value* signature = doc->find("signature");
  if (!version || !version->as_int()) return Error("the platform's configuration answer has no integer version");
  if (!yaml || !yaml->is_string()) return Error("the platform's configuration answer has no yaml text");
  if (!signature || !signature->is_string() || signature->as_string().empty())
    return Error("the platform's configuration answer is not signed");
  if (yaml->as_string().size() > config::kMaxConfigBytes)
    return Error("the pushed configuration is larger than " + std::to_string(config::kMaxConfigBytes) + " bytes");
  ConfigCandidate c;
  c.origin = ConfigOrigin::platform;
  c.envelope_version = *version->as_int();
  c.yaml = yaml->as_string();
  c.signature = signature->as_string();
  return c;
}

Expected<void> check_push_rules(const ConfigCandidate& c, std::int64_t yaml_version, const RunningConfig& running) {
  const bool from_platform = c.origin == ConfigOrigin::platform;
  if (!from_platform) {
    if (!running.push.require_signature) return {};  // files as before: the operator's own edit
    if (Sha256::hex(c.yaml) == running.sha256) return {};  // not a new configuration
  }
  if (from_platform && c.envelope_version && *c.envelope_version != yaml_version)
    return Error("the platform announced version " + std::to_string(*c.envelope_version) +
                 " but the signed YAML says version " + std::to_string(yaml_version));
  if (running.push.public_key.empty())
    return Error("a configuration pushed by the platform needs the bureau's key: config_push.public_key is not set "
                 "on this node");
  if (!c.signature)
    return Error("unsigned: config_push.require_signature is on and there is no signature file " +
                 std::string("(<file>.sig)"));
  if (auto v = tls::verify_signature(running.push.public_key, c.yaml, *c.signature); !v) return v.error();
  if (yaml_version <= running.version)
    return Error("version " + std::to_string(yaml_version) + " is not newer than the running version " +
                 std::to_string(running.version) + " (no rollback)");
  return {};
}

Expected<void> check_start_rules(const ConfigCandidate& c, std::int64_t yaml_version,
                                 const config::ConfigPushConfig& own, std::optional<std::int64_t> highest_applied) {
  if (!own.require_signature) return {};
  if (!c.signature)
    return Error("config_push.require_signature is on and the file has no signature beside it (.sig)");
  if (auto v = tls::verify_signature(own.public_key, c.yaml, *c.signature); !v) return v.error();
  if (highest_applied && yaml_version < *highest_applied)
    return Error("version " + std::to_string(yaml_version) + " is older than version " +
                 std::to_string(*highest_applied) + ", which this node already applied (no rollback)");
  return {};
}

Expected<void> install_config_file(const std::string& path, std::string_view yaml, std::string_view signature) {
  const std::string sig = signature_path(path);
  // Both new files written and synced before anything else changes: a push that cannot be
  // written leaves every file as it was, and the window in which the file and its signature
  // disagree is two renames long.
  XNODE_TRY(std::string sig_tmp, write_synced_temp(sig, std::string(signature) + "\n"));
  auto yaml_tmp = write_synced_temp(path, yaml);
  if (!yaml_tmp) {
    ::unlink(sig_tmp.c_str());
    return yaml_tmp.error();
  }
  auto abandon = [&](const Error& e) -> Expected<void> {
    ::unlink(sig_tmp.c_str());
    ::unlink(yaml_tmp->c_str());
    return e;
  };
  if (auto r = copy_atomically(path, prev_path(path)); !r) return abandon(r.error());
  if (auto r = copy_atomically(sig, signature_path(prev_path(path))); !r) return abandon(r.error());
  if (auto r = rename_into_place(sig_tmp, sig); !r) {
    ::unlink(yaml_tmp->c_str());
    return r.error();
  }
  if (auto r = rename_into_place(*yaml_tmp, path); !r) return r.error();
  sync_directory(path);
  return {};
}

Expected<void> restore_previous_config(const std::string& path) {
  if (auto r = copy_atomically(signature_path(prev_path(path)), signature_path(path)); !r) return r.error();
  if (auto r = copy_atomically(prev_path(path), path); !r) return r.error();
  sync_directory(path);
  return {};
}

}  // namespace xnode::app
