// The spool driver's settings: what a source's `settings:` mapping may hold, and the typed form.
#pragma once
#include <chrono>
#include <cstddef>
#include <string>

#include "core/base/expected.hpp"
#include "core/config/schema.hpp"
#include "core/config/settings.hpp"

namespace xnode::drivers::spool {

enum class Format { by_extension, ndjson, csv };
enum class OnDone { remove, move };

struct SpoolSettings {
  std::string dir;
  Format format = Format::by_extension;
  OnDone on_done = OnDone::remove;
  std::string done_dir;    // default <dir>/done
  std::string failed_dir;  // default <dir>/failed
  std::chrono::milliseconds rescan_interval{30000};
  std::size_t chunk_records = 1000;  // records (and quarantine entries) a submitted batch at most
  std::size_t max_in_flight = 4;     // batches submitted and not yet durable, per file
  std::size_t max_line_bytes = 1u << 20;
};

config::SettingsSchema settings_schema();
// Reads checked settings (defaults applied by the configuration loader; missing keys fall back to
// the defaults above, so hand-made Settings in tests work too).
Expected<SpoolSettings> settings_from(const config::Settings& settings);

}  // namespace xnode::drivers::spool
