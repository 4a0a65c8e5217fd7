// The declaration of every configuration key: type, default, limits, one-line doc, and where the
// value goes in Config. Validation, the typed Config and docs/configuration.md all come from it.
#pragma once
#include <vector>

#include "core/config/schema.hpp"

namespace xnode::config {

// The top-level keys of xnode.yaml (sections are object keys with children).
const std::vector<KeySpec>& config_schema();

}  // namespace xnode::config
