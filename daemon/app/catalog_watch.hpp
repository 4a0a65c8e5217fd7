// Notices edits to the catalog directory while the daemon runs (issue #4 "Sync": changes on disk
// are picked up within one heartbeat). A cheap check of the slice files' names, sizes and
// modification times on the daemon's 1 s tick, rather than inotify: it needs no extra descriptor
// or thread, survives the directory being replaced (editors and config tooling rename files into
// place), and one stat() a file a second is nothing next to the intake work.
#pragma once
#include <optional>
#include <string>

#include "core/base/time.hpp"

namespace xnode::app {

class CatalogWatch {
 public:
  // `dir` is the catalog.dir of the configuration in force; the current state counts as seen.
  explicit CatalogWatch(std::string dir = {});

  // Watch another directory (after a reload changed catalog.dir); its current state counts as seen.
  void reset(std::string dir);

  // True once per change of the directory's slice files since the last call (or reset).
  bool changed();

  // A reload read the files as they were at `fingerprint` (taken before it read them): that state
  // counts as seen, so a SIGHUP after an edit is not followed by a second reload of the same
  // files, while an edit made during the reload still differs and is picked up on the next tick.
  void seen(std::string fingerprint) { m_seen = std::move(fingerprint); }

  const std::string& dir() const { return m_dir; }

 private:
  std::string m_dir;
  std::string m_seen;  // fingerprint: one "name size mtime_ns" line per file, sorted by name
};

// The fingerprint of the *.yaml / *.yml files of `dir` (empty when the directory is unreadable:
// a directory that disappears is a change, and the reload that follows says what is wrong).
std::string catalog_dir_fingerprint(const std::string& dir);

// When the department last edited or re-saved its slice files (the newest modification time of
// them): the start of the yearly review period (domain.md Art. 12). None without any file.
std::optional<TimePoint> catalog_dir_last_edit(const std::string& dir);

}  // namespace xnode::app
