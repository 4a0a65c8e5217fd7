// The audit chain: appends events (assigning seq, prev and hash) and verifies a sequence of stored
// events, naming every event that was edited, deleted or reordered.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/audit/audit_event.hpp"
#include "core/base/expected.hpp"
#include "core/base/time.hpp"

namespace xnode::audit {

// The last event of a chain (seq 0 / genesis_prev for an empty one).
struct ChainHead {
  std::int64_t seq = 0;
  std::string hash = genesis_prev;
};

class AuditChain {
 public:
  AuditChain() = default;
  // Continues a chain whose last event is `head` (read back from the store at open).
  explicit AuditChain(ChainHead head) : m_head(std::move(head)) {}

  // Builds the next event at time `at`. Refuses an entry whose values cannot be hashed
  // reproducibly (fractional numbers, invalid UTF-8); the chain is unchanged then.
  Expected<AuditEvent> append(AuditEntry entry, TimePoint at);

  const ChainHead& head() const { return m_head; }

 private:
  ChainHead m_head;
};

// One thing found wrong, named by the event it concerns.
struct ChainProblem {
  std::int64_t seq = 0;
  std::string message;  // "event 17: hash mismatch (edited)"
};

struct VerifyReport {
  std::int64_t checked = 0;     // events looked at
  std::int64_t first_seq = 0;   // 0 when there were none
  std::int64_t last_seq = 0;
  std::string last_hash;        // stored hash of the last event
  std::vector<ChainProblem> problems;
  bool ok() const { return problems.empty(); }
  // "audit chain intact: events 1-250 (250)" or the problems, one a line.
  std::string summary() const;
};

// Streaming verifier: feed events in stored order. Without an anchor the chain must start at
// seq 1 with prev = 64 zeros; after pruning, the anchor is the last pruned event's seq and hash.
class ChainVerifier {
 public:
  explicit ChainVerifier(std::optional<ChainHead> anchor = std::nullopt, std::size_t max_problems = 1000);
  void feed(const AuditEvent& event);
  // Notes an event the store could not read back into an AuditEvent (bad JSON in detail, …).
  void unreadable(std::int64_t seq, const std::string& why);
  // Ends the stream: reports the seq ranges that never turned up, sorts the problems by seq.
  VerifyReport take();

 private:
  struct Missing {
    std::int64_t first, last;
  };
  // Seq bookkeeping shared by feed() and unreadable(); false when the event is out of place.
  bool place(std::int64_t seq, const std::string& prev, bool check_prev);
  void problem(std::int64_t seq, std::string message);
  void report_missing(const Missing& m);
  std::optional<ChainHead> m_anchor;
  std::optional<ChainHead> m_previous;  // stored seq/hash of the highest event fed so far
  std::vector<Missing> m_missing;       // gaps not (yet) filled by a later, reordered event
  std::size_t m_max_problems;
  std::int64_t m_suppressed = 0;
  VerifyReport m_report;
};

VerifyReport verify(const std::vector<AuditEvent>& events, std::optional<ChainHead> anchor = std::nullopt);

}  // namespace xnode::audit
