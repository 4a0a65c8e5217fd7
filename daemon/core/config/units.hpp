// Sizes and durations as operators write them in the configuration: `512MiB`, `16KiB`, `4096`,
// `250ms`, `30s`, `1h30m`. Strict on purpose: a typo in a config pushed to a box nobody can walk
// up to must be refused, not guessed at.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xnode::config {

// Bytes: digits with an optional unit. B, KiB, MiB, GiB, TiB are powers of two; KB, MB, GB, TB
// powers of ten; no unit means bytes. nullopt when malformed or above 2^64 - 1.
std::optional<std::uint64_t> parse_size(std::string_view text);
// The shortest exact form: the largest binary unit that divides the value, else a decimal unit,
// else bytes (`512MiB`, `1MB`, `100B`).
std::string format_size(std::uint64_t bytes);

// One or more <digits><unit> parts with units ms, s, m, h, d in decreasing order (`90s`, `1h30m`).
// A bare number is refused: `10` could mean seconds or milliseconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// The largest unit that divides the value exactly (`30s`, `10m`, `365d`, `1500ms`).
std::string format_duration(std::chrono::milliseconds value);

}  // namespace xnode::config
