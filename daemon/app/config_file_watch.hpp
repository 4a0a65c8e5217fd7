// Notices the configuration file (and its `.sig`) being replaced while the daemon runs, so that
// files placed by the bureau's tooling are applied without a SIGHUP (issue #6). Like the catalog
// watch, a stat() of two files on the 1 s tick rather than inotify: nothing to set up, and it
// survives the files being renamed into place.
#pragma once
#include <string>

namespace xnode::app {

class ConfigFileWatch {
 public:
  // The files' current state counts as seen.
  explicit ConfigFileWatch(std::string path = {});

  // True once per change, when the files have stayed as they are for one tick: the tooling writes
  // the YAML and its signature one after the other, and a reload between the two would refuse a
  // half-placed pair (and audit a refusal nobody caused).
  bool changed();

  // A reload read the files as they were at `fingerprint` (taken before it read them): a SIGHUP
  // after an edit, or the daemon's own rewrite of a platform push, is not reloaded a second time.
  void seen(std::string fingerprint);

  // "size mtime_ns inode" of the file and of its .sig ("-" for one that is missing).
  std::string fingerprint() const;

 private:
  std::string m_path;
  std::string m_seen;
  std::string m_pending;  // a change observed on the previous tick, waiting to settle
};

}  // namespace xnode::app
