#include "core/config/units.hpp"

#include <array>
#include <utility>

namespace xnode::config {

namespace {

// Reads the leading digits of `text` into `value`; false on overflow or when there are none.
bool take_digits(std::string_view& text, std::uint64_t& value) {
  std::size_t i = 0;
  value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (__builtin_mul_overflow(value, 10u, &value) || __builtin_add_overflow(value, digit, &value))
      return false;
    ++i;
  }
  if (i == 0) return false;
  text.remove_prefix(i);
  return true;
}

struct Unit {
  std::string_view name;
  std::uint64_t factor;
};

constexpr std::uint64_t kKi = 1024;
constexpr std::array<Unit, 9> kSizeUnits{{{"B", 1},
                                          {"KiB", kKi},
                                          {"MiB", kKi * kKi},
                                          {"GiB", kKi * kKi * kKi},
                                          {"TiB", kKi * kKi * kKi * kKi},
                                          {"KB", 1000},
                                          {"MB", 1000 * 1000},
                                          {"GB", 1000 * 1000 * 1000},
                                          {"TB", 1000ull * 1000 * 1000 * 1000}}};

// Largest first, so that format_duration finds the largest exact unit.
constexpr std::array<Unit, 5> kDurationUnits{{{"d", 86'400'000},
                                              {"h", 3'600'000},
                                              {"m", 60'000},
                                              {"s", 1'000},
                                              {"ms", 1}}};

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t number = 0;
  if (!take_digits(text, number)) return std::nullopt;
  if (text.empty()) return number;
  for (const Unit& unit : kSizeUnits) {
    if (text != unit.name) continue;
    std::uint64_t bytes = 0;
    if (__builtin_mul_overflow(number, unit.factor, &bytes)) return std::nullopt;
    return bytes;
  }
  return std::nullopt;
}

std::string format_size(std::uint64_t bytes) {
  if (bytes == 0) return "0B";
  // Binary units first (TiB down to KiB), then decimal ones (TB down to KB).
  static constexpr std::array<std::size_t, 8> order{4, 3, 2, 1, 8, 7, 6, 5};
  for (std::size_t index : order) {
    const Unit& unit = kSizeUnits[index];
    if (bytes % unit.factor == 0) return std::to_string(bytes / unit.factor) + std::string(unit.name);
  }
  return std::to_string(bytes) + "B";
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t total = 0;
  std::size_t next_unit = 0;  // units must come in decreasing order, each at most once
  while (!text.empty()) {
    std::uint64_t number = 0;
    if (!take_digits(text, number)) return std::nullopt;
    // "ms" must be tried before "m".
    std::size_t unit_index = kDurationUnits.size();
    if (text.starts_with("ms")) unit_index = 4;
    else if (!text.empty()) {
      for (std::size_t i = 0; i < 4; ++i)
        if (text.front() == kDurationUnits[i].name.front()) unit_index = i;
    }
    if (unit_index == kDurationUnits.size() || unit_index < next_unit) return std::nullopt;
    text.remove_prefix(kDurationUnits[unit_index].name.size());
    next_unit = unit_index + 1;
    std::uint64_t part = 0;
    if (__builtin_mul_overflow(number, kDurationUnits[unit_index].factor, &part) ||
        __builtin_add_overflow(total, part, &total))
      return std::nullopt;
  }
  if (total > static_cast<std::uint64_t>(std::chrono::milliseconds::max().count())) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(total));
}

std::string format_duration(std::chrono::milliseconds value) {
  const std::int64_t ms = value.count();
  if (ms == 0) return "0s";
  for (const Unit& unit : kDurationUnits) {
    const auto factor = static_cast<std::int64_t>(unit.factor);
    if (ms % factor == 0) return std::to_string(ms / factor) + std::string(unit.name);
  }
  return std::to_string(ms) + "ms";  // unreachable: every value is a whole number of ms
}

}  // namespace xnode::config
