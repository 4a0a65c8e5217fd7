// Loads the department's catalog slice from `conf/catalog.d/*.yaml`. Each file holds one resource
// (a mapping) or a list of resources, in the form of platform-api.md §4 with the English codes;
// the Chinese labels are accepted as aliases. Unknown members are errors. Every error names
// `file:line:col: <resource code>: <field>: <rule>` (`#<index in the file>` when the code is
// missing) and all errors are reported at once, so an operator fixes a file in one pass.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog/resource.hpp"

namespace xnode::catalog {

struct LoadDiagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when the error concerns the whole file
  int column = 0;  // 1-based
  std::string code;   // resource code or #index; empty for YAML syntax and file errors
  std::string field;  // e.g. items[1].purpose; empty when not about one field
  std::string reason;

  // "file:line:col: code: field: reason" (parts that are empty are left out).
  std::string to_string() const;
};

struct SliceLoad {
  Slice slice;  // sorted by code; complete only when ok()
  std::vector<LoadDiagnostic> errors;

  bool ok() const { return errors.empty(); }
  std::string error_text() const;  // one diagnostic a line
};

// One YAML document's text, named `file_name` in diagnostics.
SliceLoad load_slice_text(std::string_view yaml, std::string_view file_name);
// Every `*.yaml` / `*.yml` file of `dir`, in name order; codes must be unique across files.
SliceLoad load_slice_dir(const std::filesystem::path& dir);

}  // namespace xnode::catalog
