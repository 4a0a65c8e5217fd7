#include "core/intake/ndjson_decoder.hpp"

#include <cstring>

namespace xnode::intake {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
// Quarantine entries keep the start of an over-long line, not all of it.
constexpr std::size_t kOverflowExcerpt = 1024;

bool blank(std::string_view line) {
  for (char c : line)
    if (c != ' ' && c != '\t') return false;
  return true;
}

}  // namespace

void decode_ndjson_line(std::string_view line, DecodedRecord& record, bool deletion_form) {
  // The parser checks UTF-8 inside strings and takes nothing but ASCII outside them, so a line it
  // accepts is valid UTF-8: the separate whole-line check runs only to word a failure (2 % of the
  // daemon's instructions when it ran on every line).
  auto parsed = json::parse(line);
  if (!parsed) {
    record.error = json::valid_utf8(line) ? "not JSON: " + parsed.error().message : std::string("not valid UTF-8");
    return;
  }
  if (!parsed->is_object()) {
    record.error = "not a JSON object";
    return;
  }
  record.data = std::move(parsed).value();
  if (deletion_form) {
    std::string reason = apply_op_member(record);
    if (!reason.empty()) {
      record.error = std::move(reason);
      record.data = json::Value();
    }
  }
}

NdjsonDecoder::NdjsonDecoder(NdjsonOptions options) : m_options(options) {}

void NdjsonDecoder::reposition(ResumePoint point) {
  m_pending.clear();
  m_overflow = false;
  m_offset = point.offset;
  m_lines = point.lines;
  m_at_input_start = point.offset == 0;
}

void NdjsonDecoder::feed(std::string_view bytes, std::vector<DecodedRecord>& out) {
  // Keeps the start of an over-long line for the quarantine; the rest is dropped as it streams by.
  auto keep_excerpt = [this](std::string_view part) {
    if (m_pending.size() < kOverflowExcerpt) m_pending.append(part.substr(0, kOverflowExcerpt - m_pending.size()));
  };
  while (!bytes.empty()) {
    const void* nl = std::memchr(bytes.data(), '\n', bytes.size());
    std::size_t take = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - bytes.data()) : bytes.size();
    std::string_view segment = bytes.substr(0, take);
    m_offset += nl ? take + 1 : take;
    bytes.remove_prefix(nl ? take + 1 : take);
    if (!m_overflow && m_pending.size() + segment.size() > m_options.max_line_bytes) {
      m_overflow = true;
      if (m_pending.size() > kOverflowExcerpt) m_pending.resize(kOverflowExcerpt);
    }
    if (m_overflow) {
      keep_excerpt(segment);
      if (nl) take_overflow(out);
      continue;
    }
    if (!nl) {
      m_pending.append(segment);  // an incomplete line: wait for the rest
    } else if (m_pending.empty()) {
      take_line(segment, out);  // the common case: no copy
    } else {
      m_pending.append(segment);
      std::string line = std::move(m_pending);
      m_pending.clear();
      take_line(line, out);
    }
  }
}

void NdjsonDecoder::finish(std::vector<DecodedRecord>& out) {
  if (m_overflow) {
    take_overflow(out);
    return;
  }
  if (m_pending.empty()) return;
  std::string line = std::move(m_pending);
  m_pending.clear();
  take_line(line, out);
}

void NdjsonDecoder::take_overflow(std::vector<DecodedRecord>& out) {
  ++m_lines;
  DecodedRecord record;
  record.line = record.end_line = m_lines;
  record.end_offset = m_offset;
  record.raw = std::move(m_pending);
  record.raw += "...";
  record.error = "line longer than " + std::to_string(m_options.max_line_bytes) + " bytes";
  m_pending.clear();
  m_overflow = false;
  m_at_input_start = false;
  out.push_back(std::move(record));
}

void NdjsonDecoder::take_line(std::string_view line, std::vector<DecodedRecord>& out) {
  ++m_lines;
  if (m_at_input_start) {
    m_at_input_start = false;
    if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (blank(line)) return;
  DecodedRecord record;
  record.line = record.end_line = m_lines;
  record.end_offset = m_offset;
  record.raw.assign(line);
  decode_ndjson_line(line, record, m_options.deletion_form);
  out.push_back(std::move(record));
}

}  // namespace xnode::intake
