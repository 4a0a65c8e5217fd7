// Building blocks of the Prometheus text exposition (format 0.0.4) that
// HealthModel::prometheus_text() renders (issue #5: the optional loopback metrics endpoint).
// Pure and exact, so the unit tests can compare whole outputs.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace xnode::health::prometheus {

// The content type a scraper expects for this format.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

// A label value with backslash, double quote and line feed escaped (the format's only escapes).
std::string escape_label(std::string_view value);
// A HELP text with backslash and line feed escaped.
std::string escape_help(std::string_view text);
// Milliseconds as seconds in plain decimal: 12 → "0.012", -140 → "-0.14", 2000 → "2". Exact (no
// binary floating point), so the same value always prints the same text.
std::string seconds_from_ms(std::int64_t ms);

// Accumulates metric families: HELP and TYPE once per family, then its samples.
class Exposition {
 public:
  // Starts a family; `type` is "gauge" or "counter".
  void family(std::string_view name, std::string_view type, std::string_view help);
  // One sample of the current family. `labels` is the inside of the braces, already escaped
  // (build it with label()); empty for none. `value` is the number as text.
  void sample(std::string_view name, std::string_view labels, std::string_view value);
  void sample(std::string_view name, std::string_view labels, std::int64_t value);
  // A family with one unlabelled sample.
  void gauge(std::string_view name, std::string_view help, std::int64_t value);
  void gauge_text(std::string_view name, std::string_view help, std::string_view value);
  // `name="escaped value"`; join several with ','.
  static std::string label(std::string_view name, std::string_view value);

  const std::string& text() const { return m_text; }
  std::string take() { return std::move(m_text); }

 private:
  std::string m_text;
};

}  // namespace xnode::health::prometheus
