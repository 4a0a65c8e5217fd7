// Logging: level + category to stderr with systemd priority prefixes (<3>…<7>) so that journald
// keeps the level. Anything a remote peer can trigger goes through a RateLimit.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace xnode::log {

enum class Level : int { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

// Parses "error|warning|notice|info|debug".
bool parse_level(std::string_view s, Level& out);
const char* level_name(Level l);

void set_level(Level l);
Level level();
bool enabled(Level l);
// Writes "<N>category: message\n" to stderr in one write (lines from threads never interleave).
void write(Level l, std::string_view category, std::string_view message);

inline void error(std::string_view cat, std::string_view msg) { write(Level::error, cat, msg); }
inline void warning(std::string_view cat, std::string_view msg) { write(Level::warning, cat, msg); }
inline void notice(std::string_view cat, std::string_view msg) { write(Level::notice, cat, msg); }
inline void info(std::string_view cat, std::string_view msg) { write(Level::info, cat, msg); }
inline void debug(std::string_view cat, std::string_view msg) {
  if (enabled(Level::debug)) write(Level::debug, cat, msg);
}

// At most `burst` messages per `window`; the rest are counted and reported with the next one let
// through ("... (N similar suppressed)"). Thread-safe.
class RateLimit {
 public:
  RateLimit(int burst, std::chrono::steady_clock::duration window) : m_burst(burst), m_window(window) {}
  // Returns true when the message may be written; `suppressed` receives the count dropped before it.
  bool allow(std::uint64_t& suppressed);
  void write(Level l, std::string_view category, std::string message);

 private:
  std::mutex m_mutex;
  int m_burst;
  std::chrono::steady_clock::duration m_window;
  std::chrono::steady_clock::time_point m_window_start{};
  int m_in_window = 0;
  std::uint64_t m_suppressed = 0;
};

}  // namespace xnode::log
