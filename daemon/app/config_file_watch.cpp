#include "app/config_file_watch.hpp"

#include <sys/stat.h>

#include "app/config_push.hpp"

namespace xnode::app {

namespace {

std::string stat_line(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return "-";
  const long long mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  return std::to_string(st.st_size) + " " + std::to_string(mtime_ns) + " " + std::to_string(st.st_ino);
}

}  // namespace

ConfigFileWatch::ConfigFileWatch(std::string path) : m_path(std::move(path)) { m_seen = fingerprint(); }

std::string ConfigFileWatch::fingerprint() const {
  if (m_path.empty()) return {};
  return stat_line(m_path) + "\n" + stat_line(signature_path(m_path));
}

bool ConfigFileWatch::changed() {
  if (m_path.empty()) return false;
  std::string now = fingerprint();
  if (now == m_seen) {
    m_pending.clear();
    return false;
  }
  if (now != m_pending) {
    m_pending = std::move(now);
    return false;
  }
  m_seen = std::move(now);
  m_pending.clear();
  return true;
}

void ConfigFileWatch::seen(std::string fingerprint) {
  m_seen = std::move(fingerprint);
  m_pending.clear();
}

}  // namespace xnode::app
