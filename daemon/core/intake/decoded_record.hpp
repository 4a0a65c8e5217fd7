// One record decoded from a source's bytes (an NDJSON line, a CSV row), with where it ends so that
// a reader can resume after a crash from a byte offset and never take a record twice.
#pragma once
#include <cstdint>
#include <string>

#include "core/base/json.hpp"

namespace xnode::intake {

struct DecodedRecord {
  std::uint64_t line = 0;        // 1-based line number where the record starts
  std::uint64_t end_line = 0;    // line number of its last line (CSV fields may span lines)
  std::uint64_t end_offset = 0;  // byte offset just after the record and its line terminator
  std::string raw;               // the record's text without its terminator (for the quarantine)
  json::Value data;              // a JSON object when ok()
  std::string error;             // why the record was refused (empty: ok)
  bool is_delete = false;        // the spool deletion form (`_op: delete`)

  bool ok() const { return error.empty(); }
};

// Position to resume decoding from: the byte offset after the last record taken and the number of
// lines it covered (so line numbers stay right after a resume).
struct ResumePoint {
  std::uint64_t offset = 0;
  std::uint64_t lines = 0;
};

// Removes the spool deletion member `_op` from an object record and applies it: "delete" marks the
// record a deletion by key, "upsert" (or null) is the default; anything else is an error.
// Returns an empty string on success, else the reason.
std::string apply_op_member(DecodedRecord& record);

}  // namespace xnode::intake
