// The configuration reference, generated from the schema so that docs/configuration.md can never
// drift from what the loader accepts (a unit test compares the two).
#pragma once
#include <string>

#include "core/config/schema.hpp"

namespace xnode::config {

// The whole of docs/configuration.md: a short introduction, then one table per section.
std::string config_reference_markdown();

// A table of one driver's settings, for the driver's own documentation.
std::string settings_reference_markdown(const SettingsSchema& schema);

}  // namespace xnode::config
