#include "app/configuration.hpp"

#include <filesystem>
#include <set>

#include "core/catalog/loader.hpp"
#include "core/config/loader.hpp"
#include "drivers/registry.hpp"
#include "io/tls/signature.hpp"
#include "io/tls/tls_config.hpp"

namespace xnode::app {

tls::TlsSettings uplink_tls_settings(const config::UplinkConfig& uplink) {
  tls::TlsSettings t;
  t.role = tls::Role::client;
  t.ca_file = uplink.ca_file;
  t.crl_file = uplink.crl_file;
  t.cert_file = uplink.cert_file;
  t.key_file = uplink.key_file;
  t.server_name = uplink.server_name;
  t.spki_pins = uplink.pins;
  return t;
}

namespace {
CheckedConfiguration check_loaded(config::LoadResult loaded, const std::string& path, bool check_tls_files);
}  // namespace

CheckedConfiguration check_configuration(const std::string& path, bool check_tls_files) {
  return check_loaded(config::load_config_file(path, drivers::driver_schemas()), path, check_tls_files);
}

CheckedConfiguration check_configuration_text(std::string_view text, const std::string& path, bool check_tls_files) {
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  const std::string base_dir = ec ? std::string() : absolute.parent_path().lexically_normal().string();
  return check_loaded(config::load_config_text(text, path, drivers::driver_schemas(), base_dir), path,
                      check_tls_files);
}

namespace {
CheckedConfiguration check_loaded(config::LoadResult loaded, const std::string& path, bool check_tls_files) {
  CheckedConfiguration out;
  out.path = path;
  out.sha256 = loaded.sha256;
  out.version = loaded.version.value_or(0);
  if (!loaded.ok()) {
    out.errors = std::move(loaded.errors);
    return out;
  }
  config::Config cfg = std::move(*loaded.config);

  auto slice = catalog::load_slice_dir(cfg.catalog.dir);
  if (!slice.ok()) {
    for (const auto& d : slice.errors) out.errors.push_back(d.to_string());
  } else if (slice.slice.resources.empty()) {
    out.warnings.push_back(cfg.catalog.dir + ": the catalog slice is empty");
  }
  std::set<std::string> fed;
  for (const auto& source : cfg.sources) {
    if (!source.enabled) continue;
    const catalog::Resource* r = slice.slice.find(source.resource);
    if (!r) {
      if (slice.ok())
        out.errors.push_back(path + ": sources." + source.name + ".resource: \"" + source.resource +
                             "\" is not a resource of the catalog slice in " + cfg.catalog.dir);
      continue;
    }
    if (!r->shared())
      out.warnings.push_back("source " + source.name + " feeds " + r->code +
                             ", whose share.type is none: its records are checked and counted but never sent");
    fed.insert(r->code);
  }

  if (check_tls_files) {
    auto tls = tls::TlsConfig::create(uplink_tls_settings(cfg.uplink));
    if (!tls) out.errors.push_back(path + ": uplink: " + tls.error().message);
    // A node told to require signatures without a usable bureau key could never take a push.
    if (cfg.config_push.require_signature)
      if (auto key = tls::check_signing_key(cfg.config_push.public_key); !key)
        out.errors.push_back(path + ": config_push.public_key: " + key.error().message);
  }

  out.slice = std::move(slice.slice);
  if (out.errors.empty()) out.config = std::move(cfg);
  return out;
}
}  // namespace

}  // namespace xnode::app
