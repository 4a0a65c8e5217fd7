#include "core/intake/csv_decoder.hpp"

#include <algorithm>
#include <unordered_set>

namespace xnode::intake {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::size_t kOverflowExcerpt = 1024;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// JSON number grammar (RFC 8259 §6): -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool json_number(std::string_view s, bool integer_only) {
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return false;
  if (s[i] == '0') {
    ++i;
  } else if (is_digit(s[i])) {
    while (i < s.size() && is_digit(s[i])) ++i;
  } else {
    return false;
  }
  if (integer_only) return i == s.size();
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !is_digit(s[i])) return false;
    while (i < s.size() && is_digit(s[i])) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !is_digit(s[i])) return false;
    while (i < s.size() && is_digit(s[i])) ++i;
  }
  return i == s.size();
}

std::string shown(std::string_view text) {
  std::string out = json::quote(text.substr(0, 64));
  if (text.size() > 64) out += "...";
  return out;
}

}  // namespace

Expected<json::Value> typed_csv_value(char item_type, std::string_view text, bool quoted) {
  switch (item_type) {
    case 'N':
    case 'Y':
    case 'B':
    case 'F':
      if (text.empty()) return json::Value();
      if (!json_number(text, false)) return make_error(shown(text) + " is not a number");
      return json::Value::number_text(std::string(text));
    case 'I':
      if (text.empty()) return json::Value();
      if (!json_number(text, true)) return make_error(shown(text) + " is not an integer");
      return json::Value::number_text(std::string(text));
    case 'L':
      if (text.empty()) return json::Value();
      if (text == "true" || text == "TRUE" || text == "True" || text == "1") return json::Value(true);
      if (text == "false" || text == "FALSE" || text == "False" || text == "0") return json::Value(false);
      return make_error(shown(text) + " is not a boolean (true/false/1/0)");
    default:
      if (text.empty() && !quoted) return json::Value();
      return json::Value(text);
  }
}

CsvDecoder::CsvDecoder(CsvOptions options) : m_options(std::move(options)) {}

void CsvDecoder::reposition(ResumePoint point) {
  reset_record();
  m_offset = point.offset;
  m_lines = point.lines;
  m_bom_check = false;
  m_bom_hold.clear();
}

void CsvDecoder::reset_record() {
  m_state = State::field_start;
  m_raw.clear();
  m_field.clear();
  m_field_quoted = false;
  m_cr_unquoted = false;
  m_fields.clear();
  m_quoted.clear();
  m_row_error.clear();
  m_overflow = false;
  m_row_started = false;
}

void CsvDecoder::set_row_error(std::string reason) {
  if (m_row_error.empty()) m_row_error = std::move(reason);
}

void CsvDecoder::feed(std::string_view bytes, std::vector<DecodedRecord>& out) {
  if (m_bom_check) {
    while (!bytes.empty() && m_bom_hold.size() < kBom.size()) {
      m_bom_hold.push_back(bytes.front());
      bytes.remove_prefix(1);
      if (kBom.substr(0, m_bom_hold.size()) != m_bom_hold) break;
    }
    if (m_bom_hold == kBom) {
      m_offset += kBom.size();
      m_bom_hold.clear();
      m_bom_check = false;
    } else if (kBom.substr(0, m_bom_hold.size()) != m_bom_hold) {
      m_bom_check = false;
      std::string held = std::move(m_bom_hold);
      m_bom_hold.clear();
      for (char c : held) {
        if (!m_fatal.empty()) return;
        ++m_offset;
        consume(c, out);
      }
    } else {
      return;  // still a possible BOM: wait for more bytes
    }
  }
  for (char c : bytes) {
    if (!m_fatal.empty()) return;
    ++m_offset;
    consume(c, out);
  }
}

void CsvDecoder::consume(char c, std::vector<DecodedRecord>& out) {
  if (!m_row_started) {
    m_row_started = true;
    m_row_line = m_lines + 1;
  }
  if (c == '\n' && m_state != State::quoted) {
    ++m_lines;
    if (m_cr_unquoted) {
      // "\r\n": the '\r' belongs to the terminator, not to the row.
      if (!m_raw.empty() && m_raw.back() == '\r') m_raw.pop_back();
      if (m_state == State::unquoted && !m_field.empty() && m_field.back() == '\r') m_field.pop_back();
    }
    end_field();
    end_record(out);
    return;
  }
  if (m_cr_unquoted) {
    m_cr_unquoted = false;
    if (m_state == State::quote_in_quoted) {
      set_row_error("text after a closing quote");
      m_field.push_back('\r');
      m_state = State::unquoted;
    }
  }
  if (c == '\n') ++m_lines;  // inside quotes: part of the value
  if (c == '\0') set_row_error("NUL byte (binary data?)");
  if (!m_overflow) {
    if (m_raw.size() >= m_options.max_record_bytes) {
      m_overflow = true;
      set_row_error("row longer than " + std::to_string(m_options.max_record_bytes) + " bytes");
      m_raw.resize(std::min(m_raw.size(), kOverflowExcerpt));
      m_raw += "...";
      m_field.clear();
    } else {
      m_raw.push_back(c);
    }
  }
  const bool keep = !m_overflow;
  switch (m_state) {
    case State::field_start:
      if (c == '"') {
        m_state = State::quoted;
        m_field_quoted = true;
      } else if (c == ',') {
        end_field();
      } else {
        if (c == '\r') m_cr_unquoted = true;
        m_state = State::unquoted;
        if (keep) m_field.push_back(c);
      }
      break;
    case State::unquoted:
      if (c == ',') {
        end_field();
      } else {
        if (c == '"') set_row_error("a quote inside an unquoted field");
        if (c == '\r') m_cr_unquoted = true;
        if (keep) m_field.push_back(c);
      }
      break;
    case State::quoted:
      if (c == '"')
        m_state = State::quote_in_quoted;
      else if (keep)
        m_field.push_back(c);
      break;
    case State::quote_in_quoted:
      if (c == '"') {
        if (keep) m_field.push_back('"');
        m_state = State::quoted;
      } else if (c == ',') {
        end_field();
      } else if (c == '\r') {
        m_cr_unquoted = true;  // "\r\n" may follow; anything else is an error (checked above)
      } else {
        set_row_error("text after a closing quote");
        if (keep) m_field.push_back(c);
        m_state = State::unquoted;
      }
      break;
  }
}

void CsvDecoder::end_field() {
  if (m_fields.size() < m_options.max_columns + 1) {
    m_fields.push_back(std::move(m_field));
    m_quoted.push_back(m_field_quoted);
  } else {
    set_row_error("more than " + std::to_string(m_options.max_columns) + " columns");
  }
  m_field.clear();
  m_field_quoted = false;
  m_state = State::field_start;
}

void CsvDecoder::finish(std::vector<DecodedRecord>& out) {
  if (!m_fatal.empty()) return;
  if (m_bom_check) {
    m_bom_check = false;
    std::string held = std::move(m_bom_hold);
    m_bom_hold.clear();
    if (held != kBom) {
      for (char c : held) {
        if (!m_fatal.empty()) return;
        ++m_offset;
        consume(c, out);
      }
    } else {
      m_offset += held.size();
    }
  }
  if (!m_fatal.empty() || !m_row_started) return;
  if (m_state == State::quoted) set_row_error("unterminated quoted field");
  if (m_cr_unquoted) {
    if (!m_raw.empty() && m_raw.back() == '\r') m_raw.pop_back();
    if (m_state == State::unquoted && !m_field.empty() && m_field.back() == '\r') m_field.pop_back();
  }
  ++m_lines;  // the final line had no newline
  end_field();
  end_record(out);
}

void CsvDecoder::take_header() {
  auto fatal = [this](std::string reason) { m_fatal = "CSV header (line " + std::to_string(m_row_line) + "): " + reason; };
  if (!m_row_error.empty()) return fatal(m_row_error);
  if (!json::valid_utf8(m_raw)) return fatal("not valid UTF-8");
  if (m_fields.size() > m_options.max_columns)
    return fatal("more than " + std::to_string(m_options.max_columns) + " columns");
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < m_fields.size(); ++i) {
    const std::string& name = m_fields[i];
    if (name.empty()) return fatal("column " + std::to_string(i + 1) + " has no name");
    if (!seen.insert(name).second) return fatal("column name " + json::quote(name) + " appears twice");
  }
  m_header = std::move(m_fields);
  m_column_types.assign(m_header.size(), 0);
  m_op_column = -1;
  for (std::size_t i = 0; i < m_header.size(); ++i) {
    if (m_options.deletion_form && m_header[i] == "_op")
      m_op_column = static_cast<std::ptrdiff_t>(i);
    else if (m_options.item_type)
      m_column_types[i] = m_options.item_type(m_header[i]);
  }
  m_header_done = true;
}

void CsvDecoder::end_record(std::vector<DecodedRecord>& out) {
  const bool blank_line = m_fields.size() == 1 && m_fields[0].empty() && !m_quoted[0] && m_raw.empty();
  if (blank_line) {
    reset_record();
    return;
  }
  if (!m_header_done) {
    take_header();
    reset_record();
    return;
  }
  DecodedRecord record;
  record.line = m_row_line;
  record.end_line = m_lines;
  record.end_offset = m_offset;
  record.raw = std::move(m_raw);
  m_raw.clear();
  if (!m_row_error.empty()) {
    record.error = std::move(m_row_error);
  } else if (!json::valid_utf8(record.raw)) {
    record.error = "not valid UTF-8";
  } else if (m_fields.size() != m_header.size()) {
    record.error = "row has " + std::to_string(m_fields.size()) + " fields, the header has " +
                   std::to_string(m_header.size());
  } else {
    json::Object members;
    members.reserve(m_header.size());
    for (std::size_t i = 0; i < m_fields.size(); ++i) {
      if (static_cast<std::ptrdiff_t>(i) == m_op_column) {
        const std::string& op = m_fields[i];
        if (op == "delete") {
          record.is_delete = true;
        } else if (!op.empty() && op != "upsert") {
          record.error = "_op must be \"delete\" or \"upsert\" (got " + shown(op) + ")";
          break;
        }
        continue;
      }
      auto value = typed_csv_value(m_column_types[i], m_fields[i], m_quoted[i]);
      if (!value) {
        record.error = "column " + json::quote(m_header[i]) + ": " + value.error().message;
        break;
      }
      members.emplace_back(m_header[i], std::move(value).value());
    }
    if (record.ok()) record.data = json::Value(std::move(members));
  }
  if (!record.ok()) record.is_delete = false;
  out.push_back(std::move(record));
  reset_record();
}

}  // namespace xnode::intake
