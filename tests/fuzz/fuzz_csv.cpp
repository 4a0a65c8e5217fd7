// libFuzzer target: the incremental CSV decoder on arbitrary bytes, with typed columns.
// Oracle: decoding the same bytes in arbitrary chunks (sizes taken from the input's first bytes)
// gives exactly the header, fatal error and records of a one-piece decode. Invariants: offsets
// increase and stay within the input, a good row is an object with the header's columns (minus
// "_op"), typed values have the form their item type demands.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/intake/csv_decoder.hpp"

using namespace xnode;
using namespace xnode::intake;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

// Column types by the first letter of the column name, so the fuzzer can reach every type.
char type_of(std::string_view column) {
  if (column.empty()) return 0;
  switch (column.front()) {
    case 'n': return 'N';
    case 'i': return 'I';
    case 'l': return 'L';
    case 'c': return 'C';
    default: return 0;
  }
}

struct Result {
  std::vector<DecodedRecord> records;
  std::vector<std::string> header;
  std::string fatal;
};

Result decode(std::string_view input, const std::vector<std::size_t>& chunks) {
  CsvOptions options;
  options.max_record_bytes = 128;
  options.max_columns = 16;
  options.item_type = type_of;
  CsvDecoder decoder(options);
  Result result;
  std::size_t at = 0, i = 0;
  while (at < input.size()) {
    std::size_t n = chunks.empty() ? input.size() : chunks[i++ % chunks.size()];
    if (n > input.size() - at) n = input.size() - at;
    decoder.feed(input.substr(at, n), result.records);
    at += n;
  }
  decoder.finish(result.records);
  result.header = decoder.header();
  result.fatal = decoder.fatal_error();
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::vector<std::size_t> chunks;
  for (std::size_t i = 0; i < 2; ++i) chunks.push_back(1 + data[i] % 13);
  std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

  auto whole = decode(input, {});
  auto pieces = decode(input, chunks);
  check(whole.fatal == pieces.fatal && whole.header == pieces.header);
  check(whole.records.size() == pieces.records.size());
  if (!whole.fatal.empty()) check(whole.records.empty());
  std::uint64_t last_offset = 0;
  for (std::size_t i = 0; i < whole.records.size(); ++i) {
    const auto& a = whole.records[i];
    const auto& b = pieces.records[i];
    check(a.line == b.line && a.end_line == b.end_line && a.end_offset == b.end_offset && a.raw == b.raw &&
          a.error == b.error && a.is_delete == b.is_delete && a.data == b.data);
    check(a.end_offset > last_offset && a.end_offset <= input.size());
    check(a.end_line >= a.line);
    last_offset = a.end_offset;
    if (!a.ok()) continue;
    check(a.data.is_object() && json::valid_utf8(a.raw));
    std::size_t columns = 0;
    for (const auto& name : whole.header) {
      if (name == "_op") continue;
      const json::Value* v = a.data.find(name);
      check(v != nullptr);
      ++columns;
      if (v->is_null()) continue;
      switch (type_of(name)) {
        case 'N': check(v->is_number()); break;
        case 'I': check(v->is_number() && v->is_integer()); break;
        case 'L': check(v->is_bool()); break;
        default: check(v->is_string()); break;
      }
    }
    check(a.data.as_object().size() == columns);
  }
  return 0;
}
