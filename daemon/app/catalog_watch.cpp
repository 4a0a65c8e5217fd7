#include "app/catalog_watch.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;

namespace xnode::app {

std::string catalog_dir_fingerprint(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return {};
  std::vector<std::string> lines;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return {};
    const fs::path& path = it->path();
    const auto ext = path.extension();
    // The same selection as catalog::load_slice_dir: hidden files are editors' swap files.
    if ((ext != ".yaml" && ext != ".yml") || path.filename().string().front() == '.') continue;
    std::error_code fec;
    const auto size = fs::file_size(path, fec);
    if (fec) continue;  // vanished between listing and stat: the next tick sees the new state
    const auto mtime = fs::last_write_time(path, fec);
    if (fec) continue;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
    lines.push_back(path.filename().string() + " " + std::to_string(size) + " " + std::to_string(ns));
  }
  std::sort(lines.begin(), lines.end());
  std::string out = "dir\n";  // an empty but readable directory differs from an unreadable one
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::optional<TimePoint> catalog_dir_last_edit(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return std::nullopt;
  std::optional<TimePoint> newest;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::path& path = it->path();
    const auto ext = path.extension();
    if ((ext != ".yaml" && ext != ".yml") || path.filename().string().front() == '.') continue;
    std::error_code fec;
    const auto mtime = fs::last_write_time(path, fec);
    if (fec) continue;
    const TimePoint at = std::chrono::time_point_cast<Clock::duration>(fs::file_time_type::clock::to_sys(mtime));
    if (!newest || at > *newest) newest = at;
  }
  return newest;
}

CatalogWatch::CatalogWatch(std::string dir) { reset(std::move(dir)); }

void CatalogWatch::reset(std::string dir) {
  m_dir = std::move(dir);
  m_seen = m_dir.empty() ? std::string() : catalog_dir_fingerprint(m_dir);
}

bool CatalogWatch::changed() {
  if (m_dir.empty()) return false;
  std::string now = catalog_dir_fingerprint(m_dir);
  if (now == m_seen) return false;
  m_seen = std::move(now);
  return true;
}

}  // namespace xnode::app
