#include "drivers/registry.hpp"

#include <map>

#include "drivers/http/http_driver.hpp"
#include "drivers/postgres/postgres_driver.hpp"
#include "drivers/spool/spool_driver.hpp"

namespace xnode::drivers {
namespace {

const std::map<std::string, DriverEntry, std::less<>>& registry() {
  static const std::map<std::string, DriverEntry, std::less<>> entries = {
      {"spool", {spool::settings_schema(), spool::make_driver}},
      {"postgres", {postgres::settings_schema(), postgres::make_driver}},
      {"http", {http::settings_schema(), http::make_driver}},
  };
  return entries;
}

}  // namespace

const config::DriverSchemas& driver_schemas() {
  static const config::DriverSchemas schemas = [] {
    config::DriverSchemas out;
    for (const auto& [name, entry] : registry()) out.emplace(name, entry.schema);
    return out;
  }();
  return schemas;
}

Expected<std::unique_ptr<Driver>> make_driver(const config::SourceConfig& source, DriverContext& context) {
  auto it = registry().find(source.driver);
  if (it == registry().end()) return make_error("source " + source.name + ": unknown driver \"" + source.driver + "\"");
  return it->second.factory(source, context);
}

}  // namespace xnode::drivers
