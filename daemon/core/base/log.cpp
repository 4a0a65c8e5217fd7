#include "core/base/log.hpp"

#include <atomic>
#include <unistd.h>

namespace xnode::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
}

bool parse_level(std::string_view s, Level& out) {
  if (s == "error") out = Level::error;
  else if (s == "warning") out = Level::warning;
  else if (s == "notice") out = Level::notice;
  else if (s == "info") out = Level::info;
  else if (s == "debug") out = Level::debug;
  else return false;
  return true;
}

const char* level_name(Level l) {
  switch (l) {
    case Level::error: return "error";
    case Level::warning: return "warning";
    case Level::notice: return "notice";
    case Level::info: return "info";
    case Level::debug: return "debug";
  }
  return "info";
}

void set_level(Level l) { g_level.store(static_cast<int>(l)); }
Level level() { return static_cast<Level>(g_level.load()); }
bool enabled(Level l) { return static_cast<int>(l) <= g_level.load(); }

void write(Level l, std::string_view category, std::string_view message) {
  if (!enabled(l)) return;
  std::string line;
  line.reserve(message.size() + category.size() + 8);
  line.push_back('<');
  line.push_back(static_cast<char>('0' + static_cast<int>(l)));
  line.push_back('>');
  line.append(category);
  line.append(": ");
  // One record a line: a message from a peer must not forge further log lines.
  for (char c : message) line.push_back(c == '\n' || c == '\r' ? ' ' : c);
  line.push_back('\n');
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(2, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
}

bool RateLimit::allow(std::uint64_t& suppressed) {
  std::lock_guard lock(m_mutex);
  auto now = std::chrono::steady_clock::now();
  if (now - m_window_start >= m_window) {
    m_window_start = now;
    m_in_window = 0;
  }
  if (m_in_window >= m_burst) {
    ++m_suppressed;
    return false;
  }
  ++m_in_window;
  suppressed = m_suppressed;
  m_suppressed = 0;
  return true;
}

void RateLimit::write(Level l, std::string_view category, std::string message) {
  std::uint64_t suppressed = 0;
  if (!allow(suppressed)) return;
  if (suppressed) message += " (" + std::to_string(suppressed) + " similar suppressed)";
  log::write(l, category, message);
}

}  // namespace xnode::log
