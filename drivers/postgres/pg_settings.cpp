#include "drivers/postgres/pg_settings.hpp"

#include <cctype>

namespace xnode::drivers::postgres {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// An offset as RFC 3339 writes it: Z or ±HH:MM.
bool valid_offset(std::string_view s) {
  if (s == "Z") return true;
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return false;
  for (std::size_t i : {1u, 2u, 4u, 5u})
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return (s[1] - '0') * 10 + (s[2] - '0') <= 23 && (s[4] - '0') * 10 + (s[5] - '0') <= 59;
}

}  // namespace

std::optional<std::string> conninfo_problem(std::string_view conninfo) {
  // Both forms libpq reads: key=value words and postgresql:// URIs (password in the user-info
  // part or as a ?password= parameter). A secret in the configuration file would travel with
  // every pushed configuration and land in logs; it belongs in password_file.
  const std::string text = lower(conninfo);
  std::size_t at = 0;
  while ((at = text.find("password", at)) != std::string::npos) {
    std::size_t after = at + 8;
    while (after < text.size() && text[after] == ' ') ++after;
    const bool word_start = at == 0 || !(std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '_');
    if (word_start && after < text.size() && text[after] == '=') return "must not contain a password (use password_file)";
    at += 8;
  }
  if (text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0) {
    const auto scheme_end = text.find("://") + 3;
    const auto authority_end = text.find_first_of("/?", scheme_end);
    const auto authority = text.substr(scheme_end, authority_end == std::string::npos ? std::string::npos : authority_end - scheme_end);
    const auto at_sign = authority.rfind('@');
    if (at_sign != std::string::npos && authority.substr(0, at_sign).find(':') != std::string::npos)
      return "must not contain a password (use password_file)";
  }
  return std::nullopt;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

config::SettingsSchema settings_schema() {
  using namespace xnode::config;
  return SettingsSchema{
      string_key("conninfo", "libpq connection string (key=value words or a postgresql:// URI), without the password")
          .required()
          .rule("must not contain a password", [](std::string_view v) { return conninfo_problem(v); })
          .secret(),
      path_key("password_file", "File holding the database password (first line); readable by the service user only"),
      string_key("query", "SQL returning the rows (columns named as the items); the driver pages it by the cursor"),
      string_key("table", "Table to read, instead of query (with columns)"),
      map_key("columns", "With table: item name → column name"),
      list_key("cursor", "Monotonic column then a unique tie-breaker, e.g. [updated_at, id]").required().entries_at_least(1),
      duration_key("poll_interval", "Pause between polls once everything is read").def("5s").at_least("100ms").at_most("1h"),
      integer_key("batch_size", "Rows a page (one queue transaction, one cursor mark)")
          .def("1000")
          .at_least("1")
          .at_most("100000"),
      string_key("soft_delete_column", "Boolean column: a row with true becomes a delete of its key"),
      string_key("change_table",
                 "Table of deletions (change_id bigserial, op text, key columns named as the items), read by change_id"),
      string_key("naive_timestamp_offset", "UTC offset given to `timestamp without time zone` values")
          .def("+08:00")
          .rule("must be Z or ±HH:MM",
                [](std::string_view v) -> std::optional<std::string> {
                  if (valid_offset(v)) return std::nullopt;
                  return std::string("must be Z or ±HH:MM");
                }),
  };
}

Expected<PostgresSettings> settings_from(const config::Settings& settings) {
  PostgresSettings out;
  if (!settings.has("conninfo")) return make_error("settings.conninfo: required");
  out.conninfo = settings.get_string("conninfo");
  if (auto problem = conninfo_problem(out.conninfo)) return make_error("settings.conninfo: " + *problem);
  if (settings.has("password_file")) out.password_file = settings.get_string("password_file");
  if (settings.has("query")) out.query = settings.get_string("query");
  if (settings.has("table")) out.table = settings.get_string("table");
  if (settings.has("columns")) out.columns = settings.get_map("columns");
  if (settings.has("cursor")) out.cursor = settings.get_list("cursor");
  if (settings.has("poll_interval")) out.poll_interval = settings.get_duration("poll_interval");
  if (settings.has("batch_size")) out.batch_size = static_cast<std::size_t>(settings.get_int("batch_size"));
  if (settings.has("soft_delete_column")) out.soft_delete_column = settings.get_string("soft_delete_column");
  if (settings.has("change_table")) out.change_table = settings.get_string("change_table");
  if (settings.has("naive_timestamp_offset")) out.naive_timestamp_offset = settings.get_string("naive_timestamp_offset");

  if (out.query.empty() == out.table.empty()) return make_error("settings: give either query or table (with columns), not both");
  if (!out.table.empty() && out.columns.empty()) return make_error("settings.columns: required with table (item: column)");
  if (!out.query.empty() && !out.columns.empty()) return make_error("settings.columns: only with table; name the query's columns as the items");
  if (out.cursor.empty()) return make_error("settings.cursor: required (a monotonic column and a unique tie-breaker)");
  for (const auto& c : out.cursor)
    if (c.empty()) return make_error("settings.cursor: empty column name");
  if (out.batch_size == 0) return make_error("settings.batch_size: must be at least 1");
  if (out.poll_interval.count() <= 0) return make_error("settings.poll_interval: must be positive");
  if (!valid_offset(out.naive_timestamp_offset)) return make_error("settings.naive_timestamp_offset: must be Z or ±HH:MM");
  return out;
}

}  // namespace xnode::drivers::postgres
