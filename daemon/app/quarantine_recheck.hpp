// `xnodectl quarantine retry`: a quarantined record goes through the catalog checks again, against
// the slice in force now (the catalog may have been fixed since). Local rejections keep the
// source's original NDJSON line; platform rejections keep the wire line as it was sent (its `at`
// is kept: it says when the node took the record in).
#pragma once
#include <string>
#include <vector>

#include "core/catalog/resource.hpp"
#include "core/config/config.hpp"
#include "io/queue/queue_inspect.hpp"

namespace xnode::app {

struct Recheck {
  bool passed = false;
  std::string stream;  // passed: the stream to queue it in
  std::string tail;    // passed: the wire text after the seq
  std::string reason;  // !passed: why it stays in quarantine
};

Recheck recheck_quarantined(const io::QuarantineRecord& entry, const catalog::Slice& slice,
                            const std::vector<config::SourceConfig>& sources, TimePoint now);

}  // namespace xnode::app
