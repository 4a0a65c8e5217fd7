// The spool driver: business systems drop complete NDJSON (.ndjson, .jsonl) or CSV (.csv) files
// into one directory per source; the driver takes each file's records into the queue exactly once.
//
// - A file is taken only when complete: written under a temporary name (a leading '.', or a
//   .tmp / .part suffix) and renamed into place. inotify (IN_MOVED_TO, IN_CLOSE_WRITE) reports new
//   names; a full scan at start and every rescan_interval is the safety net.
// - A file is streamed in 64 KiB reads and decoded by core/intake; every batch of chunk_records
//   records goes to the sink TOGETHER with a mark {source, key = file identity, value = byte offset
//   and line count after the batch} — one queue transaction. After a crash the driver reads the
//   marks and resumes each file from its offset. The last batch carries the mark "done"; then the
//   file is deleted or moved to done_dir and the mark cleared. Marks of files gone are cleared.
// - A malformed line goes to the quarantine (file:line, reason, raw text) in the same batch; an
//   unreadable file (cannot open, binary, bad CSV header, read error) moves to failed_dir with a
//   <name>.reason file beside it.
// - queue_full: the file stays, the driver backs off (100 ms doubling to 5 s), state `blocked`.
//
// Threading: the driver runs on its own thread (poll on inotify + an eventfd); sink completions
// may run on any thread and only queue a note and wake it. Up to max_in_flight batches of a file
// are in flight at once (pipelining), and the next batch is decoded while they commit. After the
// queue refused a batch, batches go one at a time until 8 in a row were accepted.
// Known limit: at the moment the queue first fills, it may refuse batch k and accept k+1 (space
// freed by an acknowledgement in between). Nothing is lost or duplicated — k+1's byte range is
// skipped when k is sent again — but k's records are queued after k+1's, and a crash before k is
// durable loses k (the mark already names k+1's end). Closing this needs the queue to refuse the
// later batches of a source once it refused one (see docs/spool.md).
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/config/config.hpp"
#include "drivers/driver.hpp"
#include "drivers/spool/spool_settings.hpp"
#include "io/sys/inotify_watcher.hpp"
#include "io/sys/wake_event.hpp"

namespace xnode::drivers::spool {

class SpoolDriver final : public Driver {
 public:
  // `stream` is the resource code (for quarantine entries).
  SpoolDriver(std::string source, std::string stream, SpoolSettings settings, DriverContext& context);
  ~SpoolDriver() override;

  void start() override;
  void stop() override;
  SourceStatus status() const override;

 private:
  struct FileJob;
  using SteadyTime = std::chrono::steady_clock::time_point;

  void run();
  bool read_marks();
  void clear_stale_marks();
  void ensure_watch();
  void scan();
  void consider(const std::string& name);
  void handle_inotify();
  void handle_completions();
  void open_next_file();
  void pump_job();
  bool prepare_batch();
  void send_prepared();
  bool read_more();
  void rewind_job();
  void finish_job();
  void fail_file(const std::string& name, const std::string& key, const std::string& reason);
  void submit_marks_only(std::vector<io::SourceMark> marks);
  std::uint64_t submit(SourceBatch batch);
  bool work_ready(SteadyTime now) const;
  std::size_t window() const;
  void refresh_state();
  void set_error(std::string error, bool sticky);

  const std::string m_source;
  const std::string m_stream;
  const SpoolSettings m_settings;
  IntakeSink& m_sink;
  std::function<char(std::string_view)> m_item_type;
  std::function<TimePoint()> m_clock;

  std::thread m_thread;
  std::atomic<bool> m_stop{false};
  io::WakeEvent m_wake;

  std::mutex m_completions_mutex;
  std::vector<std::pair<std::uint64_t, io::SubmitResult>> m_completions;

  mutable std::mutex m_status_mutex;
  SourceStatus m_status;

  // Driver thread only.
  std::uint64_t m_next_id = 1;
  std::set<std::uint64_t> m_other_in_flight;  // mark-only submits (clearing marks)
  std::map<std::string, std::string> m_marks;  // file key → mark value, as the queue holds them
  std::deque<std::string> m_pending;
  std::set<std::string> m_pending_names;
  std::set<std::string> m_skip_names;  // not to retry before the next rescan
  std::unique_ptr<FileJob> m_job;
  std::optional<io::InotifyWatcher> m_watcher;
  int m_watch = -1;
  SteadyTime m_next_rescan{};
  SteadyTime m_blocked_until{};
  std::chrono::milliseconds m_backoff{0};
  bool m_sticky_error = false;
  std::size_t m_cautious_batches = 0;
  std::vector<char> m_read_buffer;
};

Expected<std::unique_ptr<Driver>> make_driver(const config::SourceConfig& source, DriverContext& context);

}  // namespace xnode::drivers::spool
