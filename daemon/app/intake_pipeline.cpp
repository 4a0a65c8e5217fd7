#include "app/intake_pipeline.hpp"

#include "core/catalog/enums.hpp"
#include "core/catalog/record_wire.hpp"

namespace xnode::app {

IntakePipeline::IntakePipeline(io::QueueStore& store, std::function<TimePoint()> clock)
    : m_store(store), m_clock(std::move(clock)), m_bindings(std::make_shared<Bindings>()) {}

void IntakePipeline::bind(const catalog::Slice& slice, const std::vector<config::SourceConfig>& sources) {
  auto next = std::make_shared<Bindings>();
  std::map<std::string, std::shared_ptr<const catalog::RecordChecker>> checkers;
  for (const auto& source : sources) {
    Binding b;
    b.stream = source.resource;
    if (const catalog::Resource* r = slice.find(source.resource)) {
      auto& checker = checkers[r->code];
      if (!checker) checker = std::make_shared<const catalog::RecordChecker>(*r);
      b.checker = checker;
      for (const auto& item : r->items)
        if (item.type) b.item_types.emplace(item.name, catalog::code_of(*item.type).front());
    }
    next->emplace(source.name, std::move(b));
  }
  std::lock_guard lock(m_mutex);
  m_bindings = std::move(next);
}

std::shared_ptr<const IntakePipeline::Bindings> IntakePipeline::bindings() const {
  std::lock_guard lock(m_mutex);
  return m_bindings;
}

char IntakePipeline::item_type(const std::string& source, std::string_view field) const {
  auto b = bindings();
  auto it = b->find(source);
  if (it == b->end()) return 0;
  auto t = it->second.item_types.find(field);
  return t == it->second.item_types.end() ? 0 : t->second;
}

void IntakePipeline::submit(drivers::SourceBatch batch, std::function<void(io::SubmitResult)> done) {
  auto b = bindings();
  const TimePoint now = m_clock();
  const std::string at = format_rfc3339(now);
  io::IntakeBatch out;
  out.records.reserve(batch.records.size());
  out.quarantine = std::move(batch.quarantine);
  out.marks = std::move(batch.marks);
  SourceCounters delta;

  auto binding = b->find(batch.source);
  catalog::CheckResult result;
  for (auto& rec : batch.records) {
    if (binding == b->end() || !binding->second.checker) {
      std::string stream = binding == b->end() ? std::string() : binding->second.stream;
      std::string reason = binding == b->end() ? "source " + batch.source + " is not configured"
                                               : "resource " + stream + " is not in the catalog slice";
      out.quarantine.push_back({batch.source, stream, std::move(rec.origin), std::move(reason), std::move(rec.raw), now});
      ++delta.rejected;
      continue;
    }
    const auto& checker = *binding->second.checker;
    const auto op = rec.is_delete ? catalog::RecordOp::remove : catalog::RecordOp::upsert;
    checker.check(op, rec.data, result);
    switch (result.verdict) {
      case catalog::Verdict::accepted: {
        io::QueuedRecord q;
        q.stream = binding->second.stream;
        // The tail is about as long as the line it came from: one allocation instead of the
        // string doubling its way up while the record is serialised.
        q.tail.reserve(rec.raw.size() + result.key.size() + at.size() + 48);
        catalog::build_tail(q.tail, op, result.key, at, rec.is_delete ? nullptr : &rec.data);
        out.records.push_back(std::move(q));
        ++delta.accepted;
        delta.stripped += result.stripped;
        break;
      }
      case catalog::Verdict::rejected:
        out.quarantine.push_back(
            {batch.source, binding->second.stream, std::move(rec.origin), result.reason, std::move(rec.raw), now});
        ++delta.rejected;
        break;
      case catalog::Verdict::not_shared:
        ++delta.not_shared;
        break;
    }
  }

  // The last record index of each stream in this batch (usually one stream), to wake the uplink.
  std::vector<std::pair<std::string, std::size_t>> last_index;
  for (std::size_t i = 0; i < out.records.size(); ++i) {
    if (!last_index.empty() && last_index.back().first == out.records[i].stream) last_index.back().second = i;
    else {
      bool found = false;
      for (auto& [stream, idx] : last_index)
        if (stream == out.records[i].stream) { idx = i; found = true; }
      if (!found) last_index.emplace_back(out.records[i].stream, i);
    }
  }
  const std::size_t quarantined = out.quarantine.size();
  std::string first_reason = quarantined ? out.quarantine.front().reason : std::string();
  std::string source = batch.source;
  m_store.submit(std::move(out), [this, done = std::move(done), delta, quarantined, first_reason = std::move(first_reason),
                                  source = std::move(source), last_index = std::move(last_index)](io::SubmitResult r) {
    if (r.status == io::SubmitStatus::ok) {
      if (m_committed)
        for (const auto& [stream, idx] : last_index)
          if (idx < r.first_seq.size()) m_committed(stream, r.first_seq[idx]);
      {
        std::lock_guard lock(m_mutex);
        auto& c = m_counters[source];
        c.accepted += delta.accepted;
        c.rejected += delta.rejected;
        c.not_shared += delta.not_shared;
        c.stripped += delta.stripped;
      }
      if (quarantined && m_note) m_note(source, quarantined, first_reason);
    }
    done(std::move(r));
  });
}

void IntakePipeline::read_marks(const std::string& source, std::function<void(std::vector<io::SourceMark>)> done) {
  m_store.read_marks(source, std::move(done));
}

SourceCounters IntakePipeline::counters(const std::string& source) const {
  std::lock_guard lock(m_mutex);
  auto it = m_counters.find(source);
  return it == m_counters.end() ? SourceCounters{} : it->second;
}

}  // namespace xnode::app
