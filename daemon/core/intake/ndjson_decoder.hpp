// Incremental NDJSON decoding: bytes in (any chunking), one DecodedRecord per non-blank line out.
// Lines end in "\n" or "\r\n"; a final line without newline is taken at finish(); blank lines are
// skipped; a UTF-8 byte-order mark at the very start of the input is ignored. Each line must be
// valid UTF-8 and one JSON object (duplicate member names refused). A line longer than
// max_line_bytes (counted before its "\n", BOM and "\r" included) becomes an error record
// without buffering the rest of it (bounded memory); its first KiB is kept as the raw text.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/intake/decoded_record.hpp"

namespace xnode::intake {

struct NdjsonOptions {
  std::size_t max_line_bytes = 1u << 20;
  // Keep the spool deletion form: a member "_op" ("delete" | "upsert") is removed from the data
  // and sets DecodedRecord::is_delete. Off: "_op" stays an ordinary member.
  bool deletion_form = true;
};

class NdjsonDecoder {
 public:
  explicit NdjsonDecoder(NdjsonOptions options = {});

  // Decodes the complete lines in `bytes` (after what was fed before) and appends their records.
  void feed(std::string_view bytes, std::vector<DecodedRecord>& out);
  // End of input: a pending line without newline becomes a record.
  void finish(std::vector<DecodedRecord>& out);
  // Continues as if the input so far ended at `point` (a line boundary), dropping partial state.
  void reposition(ResumePoint point);

  // Bytes consumed so far (offset of the next byte fed).
  std::uint64_t offset() const { return m_offset; }
  std::uint64_t lines() const { return m_lines; }

 private:
  void take_line(std::string_view line, std::vector<DecodedRecord>& out);
  void take_overflow(std::vector<DecodedRecord>& out);

  NdjsonOptions m_options;
  std::string m_pending;         // start of an incomplete line
  bool m_overflow = false;       // the pending line passed max_line_bytes: skip to its end
  std::uint64_t m_offset = 0;    // bytes consumed
  std::uint64_t m_lines = 0;     // complete lines consumed
  bool m_at_input_start = true;  // a BOM may only appear here
};

// Decodes one NDJSON line (no terminator) into `record` (data or error). Shared with the fuzz target.
void decode_ndjson_line(std::string_view line, DecodedRecord& record, bool deletion_form);

}  // namespace xnode::intake
