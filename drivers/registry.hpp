// The drivers the configuration can name: driver name → {settings schema, factory}. The
// configuration loader checks each source's `settings` with the schema of its `driver`; the
// daemon then makes the driver. Adding a driver: its own folder plus one line in registry.cpp.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "core/base/expected.hpp"
#include "core/config/config.hpp"
#include "core/config/schema.hpp"
#include "drivers/driver.hpp"

namespace xnode::drivers {

using DriverFactory =
    std::function<Expected<std::unique_ptr<Driver>>(const config::SourceConfig& source, DriverContext& context)>;

struct DriverEntry {
  config::SettingsSchema schema;
  DriverFactory factory;
};

// Every known driver's settings schema, for the configuration loader.
const config::DriverSchemas& driver_schemas();

// Makes the driver a source names (not started). An error names the source and what is wrong
// (unknown driver, settings the driver cannot use).
Expected<std::unique_ptr<Driver>> make_driver(const config::SourceConfig& source, DriverContext& context);

}  // namespace xnode::drivers
