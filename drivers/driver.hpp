// The one small interface every source driver implements (spool files, databases, HTTP push).
//
// A driver turns what a local business system produces into SourceBatches and hands them to the
// IntakeSink (the daemon), which checks every record against the catalog and queues it durably.
// A batch carries the driver's progress marks: the queue commits records, quarantine entries and
// marks in ONE transaction, so after a crash the driver resumes exactly where the queue stands —
// nothing lost, nothing taken twice. Drivers know nothing of Asio; each runs on its own thread
// (or on callbacks of its own) and returns from stop() only when nothing is in flight.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/json.hpp"
#include "core/base/time.hpp"
#include "io/queue/queue_store.hpp"

namespace xnode::drivers {

struct SourceRecord {
  std::string origin;  // where it came from, for the quarantine and the logs: "file.ndjson:17"
  std::string raw;     // the original text, verbatim
  json::Value data;    // a JSON object
  bool is_delete = false;  // a deletion by key (the spool's `_op: delete`)
};

struct SourceBatch {
  std::string source;  // the source's configured name
  std::vector<SourceRecord> records;
  std::vector<io::QuarantineEntry> quarantine;  // lines the driver could not decode
  std::vector<io::SourceMark> marks;            // progress, committed with the records
};

// Implemented by the daemon: checks records against the catalog, queues them.
class IntakeSink {
 public:
  virtual ~IntakeSink() = default;
  // `done` runs (on any thread) once the batch is durable, or refused: queue_full (keep the input,
  // retry later) or failed (with the error). Never called inline while the caller holds a lock
  // it needs again: drivers must tolerate both inline and deferred completion.
  virtual void submit(SourceBatch batch, std::function<void(io::SubmitResult)> done) = 0;
  virtual void read_marks(const std::string& source, std::function<void(std::vector<io::SourceMark>)> done) = 0;
};

struct SourceStatus {
  std::string name;
  std::string driver;
  std::string state;  // starting | ok | idle | blocked | error | stopped
  std::optional<TimePoint> last_ok;
  std::string last_error;
  std::uint64_t records = 0;      // records queued (durable)
  std::uint64_t quarantined = 0;  // entries quarantined by the driver (durable)
  std::uint64_t files = 0;        // files (or other units) completed
};

class Driver {
 public:
  virtual ~Driver() = default;
  virtual void start() = 0;
  // Returns when nothing is in flight; idempotent.
  virtual void stop() = 0;
  virtual SourceStatus status() const = 0;
};

// What the daemon gives a driver besides its settings.
struct DriverContext {
  IntakeSink& sink;
  // The catalog item type (platform-api.md §4 letter) of a field of the source's resource, 0 when
  // the resource does not declare it: CSV values are typed by it. Empty: all values are strings.
  std::function<char(std::string_view field)> item_type;
  // The wall clock, injectable for tests (quarantine times, last_ok).
  std::function<TimePoint()> clock = [] { return Clock::now(); };
};

// The source's progress marks, read through the sink and waited for on the driver's own thread.
// nullopt when `stop` was set before they arrived.
std::optional<std::vector<io::SourceMark>> wait_for_marks(IntakeSink& sink, const std::string& source,
                                                          const std::atomic<bool>& stop);

}  // namespace xnode::drivers
