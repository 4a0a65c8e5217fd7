// Incremental CSV decoding (RFC 4180), bytes in (any chunking), one DecodedRecord per row out.
//
// - The first row is the header: column names, non-empty, unique, valid UTF-8, no NUL byte. A bad
//   header makes the whole input unreadable (fatal_error()), not just one row.
// - Fields are separated by ',', rows end in "\n" or "\r\n" (a final row without newline is taken
//   at finish()); a quoted field may hold ',', newlines and "" (one quote). Blank lines are skipped.
//   A UTF-8 byte-order mark at the very start is ignored.
// - Every row must have the header's column count and be valid UTF-8; a bare quote inside an
//   unquoted field, or text after a closing quote, is an error for that row only.
// - Values are typed by the column's catalog item type (platform-api.md §4), looked up once per
//   column through CsvOptions::item_type: N/Y/B/F → a JSON number, I → an integer, L → a boolean
//   (true/false/1/0), anything else (C, M, D, T, G, or a column the catalog does not declare) → a
//   string. An EMPTY UNQUOTED field is null; a quoted empty field ("") is the empty string.
// - A column "_op" is the spool deletion form: "delete" marks the row a deletion by key; "upsert"
//   or empty is the default. The column is removed from the data.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/intake/decoded_record.hpp"

namespace xnode::intake {

// The catalog item type letter of a column ('C', 'N', 'L', …), or 0 when it is not declared.
using ItemTypeLookup = std::function<char(std::string_view column)>;

struct CsvOptions {
  std::size_t max_record_bytes = 1u << 20;
  std::size_t max_columns = 1024;
  ItemTypeLookup item_type;  // empty: every value is a string (or null)
  bool deletion_form = true;
};

// Converts one CSV field to its JSON value for an item type; an error reason when it does not fit.
Expected<json::Value> typed_csv_value(char item_type, std::string_view text, bool quoted);

class CsvDecoder {
 public:
  explicit CsvDecoder(CsvOptions options = {});

  void feed(std::string_view bytes, std::vector<DecodedRecord>& out);
  void finish(std::vector<DecodedRecord>& out);
  // Continues as if the input so far ended at `point` (a row boundary after the header), dropping
  // partial state. The header must have been read first (feed the input's start until header_done()).
  void reposition(ResumePoint point);

  bool header_done() const { return m_header_done; }
  const std::vector<std::string>& header() const { return m_header; }
  // Non-empty when the input cannot be read as CSV at all (bad header); nothing more is decoded.
  const std::string& fatal_error() const { return m_fatal; }
  std::uint64_t offset() const { return m_offset; }
  std::uint64_t lines() const { return m_lines; }

 private:
  enum class State : std::uint8_t { field_start, unquoted, quoted, quote_in_quoted };

  void consume(char c, std::vector<DecodedRecord>& out);
  void end_field();
  void end_record(std::vector<DecodedRecord>& out);
  void take_header();
  void reset_record();
  void set_row_error(std::string reason);

  CsvOptions m_options;
  State m_state = State::field_start;
  std::string m_raw;                  // the current row's bytes
  std::string m_field;                // the current field's value
  bool m_field_quoted = false;
  bool m_cr_unquoted = false;         // the last byte was a '\r' outside quotes
  std::vector<std::string> m_fields;
  std::vector<bool> m_quoted;
  std::string m_row_error;
  bool m_overflow = false;
  std::uint64_t m_row_line = 0;       // line the current row starts on
  bool m_row_started = false;

  std::uint64_t m_offset = 0;
  std::uint64_t m_lines = 0;          // '\n' consumed
  std::string m_bom_hold;             // first bytes of the input while checking for a BOM
  bool m_bom_check = true;

  bool m_header_done = false;
  std::vector<std::string> m_header;
  std::vector<char> m_column_types;
  std::ptrdiff_t m_op_column = -1;
  std::string m_fatal;
};

}  // namespace xnode::intake
