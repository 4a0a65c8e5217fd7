#include "core/audit/audit_chain.hpp"

#include <algorithm>

namespace xnode::audit {

Expected<AuditEvent> AuditChain::append(AuditEntry entry, TimePoint at) {
  AuditEvent e;
  e.seq = m_head.seq + 1;
  e.at = format_rfc3339(at);
  e.actor = std::move(entry.actor);
  e.action = std::move(entry.action);
  e.object = std::move(entry.object);
  e.result = std::move(entry.result);
  e.detail = entry.detail.is_null() ? json::Value::object() : std::move(entry.detail);
  e.prev = m_head.hash;
  auto checked = check_values(e);
  if (!checked) return make_error("audit event '" + e.action + "' refused: " + checked.error().message);
  e.hash = compute_hash(e);
  m_head.seq = e.seq;
  m_head.hash = e.hash;
  return e;
}

std::string VerifyReport::summary() const {
  if (ok()) {
    if (checked == 0) return "audit chain intact: no events";
    return "audit chain intact: events " + std::to_string(first_seq) + "-" + std::to_string(last_seq) + " (" +
           std::to_string(checked) + ")";
  }
  std::string out = "audit chain BROKEN (" + std::to_string(problems.size()) + " problem" +
                    (problems.size() == 1 ? "" : "s") + " in " + std::to_string(checked) + " events):";
  for (const auto& p : problems) {
    out += "\n  ";
    out += p.message;
  }
  return out;
}

ChainVerifier::ChainVerifier(std::optional<ChainHead> anchor, std::size_t max_problems)
    : m_anchor(std::move(anchor)), m_max_problems(max_problems) {}

void ChainVerifier::problem(std::int64_t seq, std::string message) {
  if (m_report.problems.size() >= m_max_problems) {
    // Keep the report bounded on a wrecked table; the count still tells the scale.
    ++m_suppressed;
    return;
  }
  m_report.problems.push_back({seq, std::move(message)});
}

bool ChainVerifier::place(std::int64_t seq, const std::string& prev, bool check_prev) {
  const std::string n = std::to_string(seq);
  const std::optional<ChainHead>& before = m_previous ? m_previous : m_anchor;
  const std::int64_t expected = before ? before->seq + 1 : 1;
  if (seq < expected) {
    // Either it fills a gap seen earlier (the list was reordered) or it repeats a seq.
    auto gap = std::find_if(m_missing.begin(), m_missing.end(),
                            [&](const Missing& m) { return m.first <= seq && seq <= m.last; });
    if (gap != m_missing.end()) {
      Missing m = *gap;
      m_missing.erase(gap);
      if (m.first < seq) m_missing.push_back({m.first, seq - 1});
      if (seq < m.last) m_missing.push_back({seq + 1, m.last});
      problem(seq, "event " + n + ": out of order (reordered): found after event " + std::to_string(before->seq));
    } else if (before && seq <= before->seq && seq > (m_anchor ? m_anchor->seq : 0)) {
      problem(seq, "event " + n + ": appears again after event " + std::to_string(before->seq) + " (duplicated)");
    } else {
      problem(seq, "event " + n + ": before the start of the chain (event " + std::to_string(expected) + ")");
    }
    return false;
  }
  if (seq > expected) {
    // Gaps wait for a reordered event that may fill them; keep that bounded on a wrecked table.
    if (m_missing.size() >= m_max_problems) {
      report_missing(m_missing.front());
      m_missing.erase(m_missing.begin());
    }
    m_missing.push_back({expected, seq - 1});
    return true;  // prev cannot be checked across a gap; the gap is what gets named
  }
  if (!check_prev) return true;
  if (!before) {
    if (prev != genesis_prev) problem(seq, "event 1: prev is not 64 zeros (edited)");
  } else if (!before->hash.empty() && prev != before->hash) {
    problem(seq, "event " + n + ": prev does not match " + (m_previous ? "event " : "the last pruned event ") +
                     std::to_string(before->seq) + " (reordered or edited)");
  }
  return true;
}

void ChainVerifier::unreadable(std::int64_t seq, const std::string& why) {
  ++m_report.checked;
  if (m_report.first_seq == 0) m_report.first_seq = seq;
  problem(seq, "event " + std::to_string(seq) + ": unreadable (edited): " + why);
  // An empty hash: the next event's prev is not compared with a row we cannot trust, so one
  // damaged row is reported once, not twice.
  if (place(seq, std::string(), false)) {
    m_previous = ChainHead{seq, std::string()};
    m_report.last_seq = seq;
    m_report.last_hash.clear();
  }
}

void ChainVerifier::feed(const AuditEvent& e) {
  ++m_report.checked;
  if (m_report.first_seq == 0) m_report.first_seq = e.seq;
  if (!is_hash_text(e.hash) || compute_hash(e) != e.hash)
    problem(e.seq, "event " + std::to_string(e.seq) + ": hash mismatch (edited)");
  if (place(e.seq, e.prev, true)) {
    // Continue from what is stored: an edited event that kept its old hash does not also break
    // the link to the next one, so exactly the edited event is named.
    m_previous = ChainHead{e.seq, e.hash};
    m_report.last_seq = e.seq;
    m_report.last_hash = e.hash;
  }
}

void ChainVerifier::report_missing(const Missing& m) {
  std::string which = m.first == m.last ? "event " + std::to_string(m.first)
                                        : "events " + std::to_string(m.first) + "-" + std::to_string(m.last);
  std::string how = m.first == 1 && !m_anchor
                        ? "the chain starts at event " + std::to_string(m.last + 1)
                        : "seq jumps from " + std::to_string(m.first - 1) + " to " + std::to_string(m.last + 1);
  problem(m.first, which + " missing (deleted): " + how);
}

VerifyReport ChainVerifier::take() {
  for (const Missing& m : m_missing) report_missing(m);
  m_missing.clear();
  std::stable_sort(m_report.problems.begin(), m_report.problems.end(),
                   [](const ChainProblem& a, const ChainProblem& b) { return a.seq < b.seq; });
  if (m_suppressed > 0) m_report.problems.push_back({-1, std::to_string(m_suppressed) + " further problems not listed"});
  m_suppressed = 0;
  return std::move(m_report);
}

VerifyReport verify(const std::vector<AuditEvent>& events, std::optional<ChainHead> anchor) {
  ChainVerifier verifier(std::move(anchor));
  for (const auto& e : events) verifier.feed(e);
  return verifier.take();
}

}  // namespace xnode::audit
