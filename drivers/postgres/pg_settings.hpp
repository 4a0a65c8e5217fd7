// The postgres driver's settings: what a source's `settings:` mapping may hold, and the typed form.
#pragma once
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/expected.hpp"
#include "core/config/schema.hpp"
#include "core/config/settings.hpp"

namespace xnode::drivers::postgres {

struct PostgresSettings {
  std::string conninfo;       // libpq connection string, never with a password in it
  std::string password_file;  // optional; readable by the service user only
  std::string query;          // either a query returning the rows …
  std::string table;          // … or a table with
  std::map<std::string, std::string> columns;  // item → column
  std::vector<std::string> cursor;             // monotonic column(s) then a unique tie-breaker
  std::chrono::milliseconds poll_interval{5000};
  std::size_t batch_size = 1000;
  std::string soft_delete_column;  // boolean column: true → op delete by key
  std::string change_table;        // (change_id bigserial, op text, key columns named as the items)
  std::string naive_timestamp_offset = "+08:00";  // zone of `timestamp without time zone` values
};

config::SettingsSchema settings_schema();
// Reads checked settings; missing keys fall back to the defaults above (hand-made Settings in tests).
Expected<PostgresSettings> settings_from(const config::Settings& settings);

// "must be …" when a libpq connection string carries a password; nullopt when it does not.
std::optional<std::string> conninfo_problem(std::string_view conninfo);
// A SQL identifier, double-quoted (an embedded quote doubled).
std::string quote_identifier(std::string_view name);

}  // namespace xnode::drivers::postgres
