// The intake pipeline: what drivers hand their records to (drivers::IntakeSink).
//
// Each source feeds one resource. Every record is checked against that resource's items
// (core/catalog RecordChecker) on the driver's own thread, undeclared members are stripped, the
// wire text after the seq is built once, and the lot — records, quarantine entries, the driver's
// progress marks — goes to the queue store as ONE transaction. Rejected records go to the
// quarantine with the reason; records of a `share.type: none` resource never leave the node and
// are only counted. Nothing is dropped silently.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/catalog/record_checker.hpp"
#include "core/catalog/resource.hpp"
#include "core/config/config.hpp"
#include "drivers/driver.hpp"
#include "io/queue/queue_store.hpp"

namespace xnode::app {

struct SourceCounters {
  std::uint64_t accepted = 0;    // records handed to the queue
  std::uint64_t rejected = 0;    // records quarantined by the local checks
  std::uint64_t not_shared = 0;  // records of a share.type none resource, kept at the node
  std::uint64_t stripped = 0;    // undeclared members removed
};

class IntakePipeline final : public drivers::IntakeSink {
 public:
  // Called (on the submitting thread) after a batch is durable with what it quarantined, for the
  // audit trail: one call a batch, not a record.
  using QuarantineNote = std::function<void(const std::string& source, std::size_t count, const std::string& first_reason)>;

  IntakePipeline(io::QueueStore& store, std::function<TimePoint()> clock);

  // Binds sources to resources of `slice` (a checker compiled once per resource). Safe to call
  // while drivers submit: a batch uses the bindings current when it started.
  void bind(const catalog::Slice& slice, const std::vector<config::SourceConfig>& sources);
  void on_quarantine(QuarantineNote note) { m_note = std::move(note); }
  // Called (on the store's thread) after a batch is durable, per stream with its highest new seq:
  // the uplink wakes up for it.
  void on_committed(std::function<void(const std::string& stream, std::uint64_t last_seq)> f) { m_committed = std::move(f); }

  void submit(drivers::SourceBatch batch, std::function<void(io::SubmitResult)> done) override;
  void read_marks(const std::string& source, std::function<void(std::vector<io::SourceMark>)> done) override;

  SourceCounters counters(const std::string& source) const;
  // The item type letter of `field` in the resource that `source` feeds (0: not declared).
  char item_type(const std::string& source, std::string_view field) const;

 private:
  struct Binding {
    std::string stream;  // resource code
    std::shared_ptr<const catalog::RecordChecker> checker;  // null: resource not in the slice
    std::map<std::string, char, std::less<>> item_types;
  };
  using Bindings = std::map<std::string, Binding, std::less<>>;

  std::shared_ptr<const Bindings> bindings() const;

  io::QueueStore& m_store;
  std::function<TimePoint()> m_clock;
  QuarantineNote m_note;
  std::function<void(const std::string&, std::uint64_t)> m_committed;
  mutable std::mutex m_mutex;
  std::shared_ptr<const Bindings> m_bindings;
  std::map<std::string, SourceCounters, std::less<>> m_counters;
};

}  // namespace xnode::app
