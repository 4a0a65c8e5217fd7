// Driver schemas used by the configuration tests: the spool driver's settings as issue #2 describes
// them (the real driver declares its own in drivers/spool), and a second driver with every type.
#pragma once
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/config/schema.hpp"

// Shows both sides of a failed CHECK on error lists, one line each.
namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& lines) {
    std::string out = "{";
    for (const auto& line : lines) out += "\n  " + line;
    out += "}";
    return String(out.c_str());
  }
};
}  // namespace doctest

namespace xnode::config::test {

inline SettingsSchema spool_schema() {
  return SettingsSchema{
      path_key("dir", "Directory the business system drops files into").required(),
      enum_key("format", {"auto", "ndjson", "csv"}, "File format; auto goes by the file name").def("auto"),
      enum_key("on_done", {"delete", "move"}, "What happens to a consumed file").def("delete"),
      path_key("done_dir", "Where consumed files go when on_done is move"),
      path_key("failed_dir", "Where unreadable files go"),
  };
}

inline SettingsSchema every_type_schema() {
  return SettingsSchema{
      string_key("label", "A string").def("none"),
      integer_key("workers", "An integer").def("2").at_least("1").at_most("16"),
      bool_key("verbose", "A bool").def("false"),
      size_key("buffer", "A size").def("64KiB").at_least("4KiB"),
      duration_key("poll", "A duration").def("1s").at_most("1h"),
      path_key("root", "A path").required(),
      list_key("tables", "A list").def("[]"),
      map_key("headers", "A map").def("{}"),
  };
}

// The first error line, for INFO() when a load that should succeed does not.
inline std::string first_error(const std::vector<std::string>& errors) {
  return errors.empty() ? std::string() : errors.front();
}

inline DriverSchemas test_drivers() { return {{"spool", spool_schema()}, {"probe", every_type_schema()}}; }

}  // namespace xnode::config::test
