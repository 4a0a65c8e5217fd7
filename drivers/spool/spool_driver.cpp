#include "drivers/spool/spool_driver.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>

#include "core/base/log.hpp"
#include "core/intake/csv_decoder.hpp"
#include "core/intake/ndjson_decoder.hpp"
#include "io/sys/files.hpp"

namespace xnode::drivers::spool {
namespace {

using namespace std::chrono_literals;
using intake::DecodedRecord;
using intake::ResumePoint;

constexpr std::size_t kReadBytes = 64 * 1024;
constexpr std::size_t kSniffBytes = 4096;
constexpr std::chrono::milliseconds kBackoffMin = 100ms;
constexpr std::chrono::milliseconds kBackoffMax = 5s;
constexpr std::chrono::milliseconds kFailureBackoffMin = 1s;
constexpr const char* kDone = "done";
// After a refusal, batches go one at a time until this many in a row were accepted: a queue at its
// limit may refuse one batch and accept the next (after an acknowledgement freed space), which
// would queue records out of file order. One at a time, that cannot happen.
constexpr std::size_t kCautiousBatches = 8;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A name still being written (the convention: temporary name, then an atomic rename).
bool temporary_name(std::string_view name) {
  return name.empty() || name.front() == '.' || ends_with(name, ".tmp") || ends_with(name, ".part");
}

std::optional<Format> format_of(std::string_view name, Format configured) {
  if (temporary_name(name)) return std::nullopt;
  Format by_name;
  if (ends_with(name, ".ndjson") || ends_with(name, ".jsonl"))
    by_name = Format::ndjson;
  else if (ends_with(name, ".csv"))
    by_name = Format::csv;
  else
    return std::nullopt;
  return configured == Format::by_extension ? by_name : configured;
}

std::string encode_point(ResumePoint p) { return std::to_string(p.offset) + ":" + std::to_string(p.lines); }

std::optional<ResumePoint> decode_point(const std::string& value) {
  auto colon = value.find(':');
  if (colon == std::string::npos) return std::nullopt;
  try {
    std::size_t used = 0;
    ResumePoint p;
    p.offset = std::stoull(value.substr(0, colon), &used);
    if (used != colon) return std::nullopt;
    p.lines = std::stoull(value.substr(colon + 1), &used);
    if (used != value.size() - colon - 1) return std::nullopt;
    return p;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

struct SpoolDriver::FileJob {
  enum class Outcome { pending, ok, refused };
  struct InFlight {
    std::uint64_t id = 0;
    ResumePoint start, end;
    bool final = false;
    std::size_t records = 0, quarantined = 0;
    Outcome outcome = Outcome::pending;
    std::string mark_value;  // the mark this batch writes
  };

  std::string name, path, key;
  Format format = Format::ndjson;
  int fd = -1;
  std::unique_ptr<intake::NdjsonDecoder> ndjson;
  std::unique_ptr<intake::CsvDecoder> csv;
  std::vector<DecodedRecord> decoded;
  std::size_t next = 0;
  bool eof = false;            // the decoder has seen the end of the file
  bool final_prepared = false;  // the batch with the "done" mark is prepared (or sent)
  // The next batch, decoded while the previous ones are being committed (decode-ahead).
  struct Prepared {
    SourceBatch batch;
    InFlight flight;
  };
  std::optional<Prepared> prepared;
  bool done_committed = false;  // the "done" mark is durable: delete/move the file
  bool refused = false;         // a batch was refused: rewind once nothing is pending
  // The mark as the queue holds it ("" = none), and as the last prepared batch will leave it:
  // each batch expects the one before it (compare-and-swap), so the queue cannot take batch k+1
  // after refusing batch k.
  std::string durable_mark, last_mark;
  std::string failure;          // unreadable: move to failed/ once nothing is pending
  ResumePoint committed;        // durable: everything before it is queued
  ResumePoint read_through;     // through the last record put in a batch
  ResumePoint high_water;       // furthest point any durable mark of this file names
  // Byte ranges (start, end] queued durably ahead of a refused batch (a rare race: the queue
  // refused batch k, then accepted k+1 after space was freed). Records ending inside are skipped.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> skip;
  std::deque<InFlight> in_flight;
  std::uint64_t records = 0, quarantined = 0;

  ~FileJob() {
    if (fd >= 0) ::close(fd);
  }
  void reposition(ResumePoint p) {
    if (ndjson) ndjson->reposition(p);
    if (csv) csv->reposition(p);
  }
  // Batches submitted and not answered yet.
  bool awaiting_answers() const {
    return std::any_of(in_flight.begin(), in_flight.end(), [](const InFlight& f) { return f.outcome == Outcome::pending; });
  }
  bool skipped(std::uint64_t end_offset) const {
    for (auto [from, to] : skip)
      if (end_offset > from && end_offset <= to) return true;
    return false;
  }
};

SpoolDriver::SpoolDriver(std::string source, std::string stream, SpoolSettings settings, DriverContext& context)
    : m_source(std::move(source)),
      m_stream(std::move(stream)),
      m_settings(std::move(settings)),
      m_sink(context.sink),
      m_item_type(context.item_type),
      m_clock(context.clock ? context.clock : [] { return Clock::now(); }) {
  m_status.name = m_source;
  m_status.driver = "spool";
  m_status.state = "stopped";
  m_read_buffer.resize(kReadBytes);
}

SpoolDriver::~SpoolDriver() { stop(); }

void SpoolDriver::start() {
  if (m_thread.joinable()) return;
  m_stop = false;
  {
    std::lock_guard lock(m_status_mutex);
    m_status.state = "starting";
  }
  m_thread = std::thread([this] { run(); });
}

void SpoolDriver::stop() {
  m_stop = true;
  m_wake.notify();
  if (m_thread.joinable()) m_thread.join();
}

SourceStatus SpoolDriver::status() const {
  std::lock_guard lock(m_status_mutex);
  return m_status;
}

void SpoolDriver::set_error(std::string error, bool sticky) {
  log::warning("spool", m_source + ": " + error);
  if (sticky) m_sticky_error = true;
  std::lock_guard lock(m_status_mutex);
  m_status.last_error = std::move(error);
}

void SpoolDriver::refresh_state() {
  std::string state;
  if (m_stop)
    state = "stopped";
  else if (std::chrono::steady_clock::now() < m_blocked_until)
    state = m_sticky_error ? "error" : "blocked";
  else if (m_sticky_error)
    state = "error";
  else if (m_job || !m_pending.empty())
    state = "ok";
  else
    state = "idle";
  std::lock_guard lock(m_status_mutex);
  m_status.state = std::move(state);
}

// --- the thread --------------------------------------------------------------------------------

void SpoolDriver::run() {
  if (!read_marks()) {
    refresh_state();
    return;
  }
  try {
    m_watcher.emplace();
  } catch (const std::exception& e) {
    set_error(std::string("inotify unavailable, relying on rescans: ") + e.what(), false);
  }
  ensure_watch();
  scan();
  clear_stale_marks();
  m_next_rescan = std::chrono::steady_clock::now() + m_settings.rescan_interval;
  refresh_state();

  for (;;) {
    handle_completions();
    const auto now = std::chrono::steady_clock::now();
    if (m_stop) {
      const bool in_flight = !m_other_in_flight.empty() || (m_job && m_job->awaiting_answers());
      if (!in_flight) break;
    } else if (now >= m_blocked_until) {
      if (!m_job) open_next_file();
      if (m_job) pump_job();
    }
    refresh_state();

    int timeout_ms = 0;
    if (m_stop || !work_ready(std::chrono::steady_clock::now())) {
      auto wake_at = m_next_rescan;
      if (m_blocked_until > std::chrono::steady_clock::now()) wake_at = std::min(wake_at, m_blocked_until);
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - std::chrono::steady_clock::now());
      timeout_ms = static_cast<int>(std::clamp<std::int64_t>(wait.count() + 1, 0, 60000));
      if (m_stop) timeout_ms = 100;
    }
    pollfd fds[2] = {{m_wake.fd(), POLLIN, 0}, {m_watcher ? m_watcher->fd() : -1, POLLIN, 0}};
    int ready = ::poll(fds, m_watcher ? 2 : 1, timeout_ms);
    if (ready > 0) {
      if (fds[0].revents) m_wake.drain();
      if (m_watcher && fds[1].revents) handle_inotify();
    }
    if (!m_stop && std::chrono::steady_clock::now() >= m_next_rescan) {
      m_skip_names.clear();
      ensure_watch();
      scan();
      m_next_rescan = std::chrono::steady_clock::now() + m_settings.rescan_interval;
    }
  }
  m_job.reset();
  refresh_state();
}

bool SpoolDriver::work_ready(SteadyTime now) const {
  if (now < m_blocked_until) return false;
  if (!m_job) return !m_pending.empty();
  if (m_job->done_committed) return true;
  if (m_job->refused || !m_job->failure.empty()) return !m_job->awaiting_answers();
  if (!m_job->prepared) return !m_job->final_prepared;  // decode ahead
  return m_job->in_flight.size() < window();
}

std::size_t SpoolDriver::window() const { return m_cautious_batches > 0 ? 1 : m_settings.max_in_flight; }

bool SpoolDriver::read_marks() {
  auto marks = wait_for_marks(m_sink, m_source, m_stop);
  if (!marks) return false;
  for (auto& mark : *marks)
    if (mark.source == m_source && !mark.value.empty()) m_marks[mark.key] = mark.value;
  return true;
}

void SpoolDriver::clear_stale_marks() {
  // Marks whose file is gone: the file was finished (deleted or moved) before its mark was cleared,
  // or removed by an operator. Nothing to resume.
  std::set<std::string> present;
  auto names = io::list_directory(m_settings.dir);
  if (!names) return;  // cannot tell what is present: keep every mark
  for (const auto& name : *names) {
    auto id = io::identity_of_path(m_settings.dir + "/" + name);
    if (id && id->regular) present.insert(id->key(name));
  }
  std::vector<io::SourceMark> stale;
  for (auto it = m_marks.begin(); it != m_marks.end();) {
    if (present.count(it->first)) {
      ++it;
      continue;
    }
    stale.push_back({m_source, it->first, ""});
    it = m_marks.erase(it);
  }
  if (!stale.empty()) {
    log::info("spool", m_source + ": clearing " + std::to_string(stale.size()) + " mark(s) of files no longer present");
    submit_marks_only(std::move(stale));
  }
}

void SpoolDriver::ensure_watch() {
  if (!m_watcher || m_watch >= 0) return;
  auto wd = m_watcher->add_watch(m_settings.dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
  if (wd)
    m_watch = *wd;
  else
    set_error(wd.error().message, true);
}

void SpoolDriver::scan() {
  auto names = io::list_directory(m_settings.dir);
  if (!names) {
    set_error("spool directory: " + names.error().message, true);
    return;
  }
  if (m_watch >= 0 || !m_watcher) m_sticky_error = false;
  for (const auto& name : *names) consider(name);
  std::lock_guard lock(m_status_mutex);
  m_status.last_ok = m_clock();
}

void SpoolDriver::consider(const std::string& name) {
  if (!format_of(name, m_settings.format)) return;
  if (m_pending_names.count(name) || m_skip_names.count(name)) return;
  if (m_job && m_job->name == name) return;
  m_pending.push_back(name);
  m_pending_names.insert(name);
}

void SpoolDriver::handle_inotify() {
  std::vector<io::InotifyEvent> events;
  std::error_code error;
  if (!m_watcher->read_events(events, error)) set_error("inotify: " + error.message(), false);
  for (const auto& event : events) {
    if (event.overflow()) {
      m_next_rescan = std::chrono::steady_clock::now();  // events lost: rescan now
    } else if (event.watch == m_watch && event.watch_gone()) {
      m_watch = -1;
      set_error("spool directory " + m_settings.dir + " was removed or moved", true);
    } else if (event.file_complete()) {
      consider(event.name);
    }
  }
}

// --- batches ------------------------------------------------------------------------------------

std::uint64_t SpoolDriver::submit(SourceBatch batch) {
  const std::uint64_t id = m_next_id++;
  m_sink.submit(std::move(batch), [this, id](io::SubmitResult result) {
    {
      std::lock_guard lock(m_completions_mutex);
      m_completions.emplace_back(id, std::move(result));
    }
    m_wake.notify();
  });
  return id;
}

void SpoolDriver::submit_marks_only(std::vector<io::SourceMark> marks) {
  SourceBatch batch;
  batch.source = m_source;
  batch.marks = std::move(marks);
  m_other_in_flight.insert(submit(std::move(batch)));
}

void SpoolDriver::handle_completions() {
  std::vector<std::pair<std::uint64_t, io::SubmitResult>> completions;
  {
    std::lock_guard lock(m_completions_mutex);
    completions.swap(m_completions);
  }
  for (auto& [id, result] : completions) {
    if (m_other_in_flight.erase(id)) {
      if (result.status != io::SubmitStatus::ok)
        log::notice("spool", m_source + ": a mark could not be cleared now; it is cleared at the next start");
      continue;
    }
    if (!m_job) continue;
    auto it = std::find_if(m_job->in_flight.begin(), m_job->in_flight.end(), [id = id](const auto& f) { return f.id == id; });
    if (it == m_job->in_flight.end()) continue;
    if (result.status == io::SubmitStatus::ok) {
      it->outcome = FileJob::Outcome::ok;
      m_backoff = 0ms;
      if (m_cautious_batches > 0) --m_cautious_batches;
      if (m_sticky_error && m_watch >= 0) m_sticky_error = false;
      std::lock_guard lock(m_status_mutex);
      m_status.records += it->records;
      m_status.quarantined += it->quarantined;
      m_status.last_ok = m_clock();
    } else {
      it->outcome = FileJob::Outcome::refused;
      m_job->refused = true;
      m_cautious_batches = kCautiousBatches;
      const bool full = result.status == io::SubmitStatus::queue_full;
      auto floor = full ? kBackoffMin : kFailureBackoffMin;
      m_backoff = std::clamp(m_backoff * 2, floor, kBackoffMax);
      m_blocked_until = std::chrono::steady_clock::now() + m_backoff;
      if (full) {
        log::debug("spool", m_source + ": queue full, " + m_job->name + " waits");
      } else {
        set_error("queue refused a batch of " + m_job->name + ": " + result.error, false);
      }
    }
    if (it->outcome == FileJob::Outcome::ok) {
      m_job->records += it->records;
      m_job->quarantined += it->quarantined;
    }
  }
  if (!m_job) return;
  // Durable progress is the run of successful batches at the front.
  while (!m_job->in_flight.empty() && m_job->in_flight.front().outcome == FileJob::Outcome::ok) {
    const auto& front = m_job->in_flight.front();
    m_job->committed = front.end;
    m_job->durable_mark = front.mark_value;
    if (front.end.offset >= m_job->high_water.offset) m_job->high_water = front.end;
    if (front.final) {
      m_job->done_committed = true;
      m_marks[m_job->key] = kDone;
    }
    m_job->in_flight.pop_front();
  }
}

void SpoolDriver::pump_job() {
  FileJob& job = *m_job;
  if (job.done_committed) {
    finish_job();
    return;
  }
  if (job.refused || !job.failure.empty()) {
    if (job.awaiting_answers()) return;  // wait until every batch of the window has an answer
    if (job.refused) rewind_job();
    if (!job.failure.empty()) {
      std::string name = job.name, key = job.key, reason = job.failure;
      m_job.reset();
      fail_file(name, key, reason);
      return;
    }
  }
  while (job.failure.empty() && !job.refused && !m_stop) {
    if (!job.prepared && !job.final_prepared && !prepare_batch()) break;
    if (!job.prepared || job.in_flight.size() >= window()) break;
    send_prepared();
    // A completion may have arrived inline (or the queue may already be full): look at it first.
    handle_completions();
    if (!m_job || job.refused) break;
  }
  // The window is full: decode the next batch while the queue commits.
  if (m_job && !m_stop && job.failure.empty() && !job.refused && !job.prepared && !job.final_prepared) prepare_batch();
  if (m_job && m_job->done_committed) finish_job();
}

bool SpoolDriver::read_more() {
  FileJob& job = *m_job;
  ssize_t n;
  do {
    n = ::read(job.fd, m_read_buffer.data(), m_read_buffer.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    job.failure = "read error at offset " + std::to_string(job.ndjson ? job.ndjson->offset() : job.csv->offset()) +
                  ": " + errno_text();
    return false;
  }
  std::string_view bytes(m_read_buffer.data(), static_cast<std::size_t>(n));
  if (job.ndjson) {
    if (n == 0) job.ndjson->finish(job.decoded); else job.ndjson->feed(bytes, job.decoded);
  } else {
    if (n == 0) job.csv->finish(job.decoded); else job.csv->feed(bytes, job.decoded);
    if (!job.csv->fatal_error().empty()) {
      job.failure = job.csv->fatal_error();
      return false;
    }
  }
  if (n == 0) job.eof = true;
  return true;
}

bool SpoolDriver::prepare_batch() {
  FileJob& job = *m_job;
  SourceBatch batch;
  batch.source = m_source;
  const ResumePoint start = job.read_through;
  ResumePoint end = start;
  std::size_t taken = 0;
  const TimePoint now = m_clock();
  while (taken < m_settings.chunk_records) {
    if (job.next == job.decoded.size()) {
      job.decoded.clear();
      job.next = 0;
      if (job.eof) break;
      if (!read_more()) return false;
      continue;
    }
    DecodedRecord& record = job.decoded[job.next++];
    end = {record.end_offset, record.end_line};
    if (!job.skip.empty() && job.skipped(record.end_offset)) continue;
    ++taken;
    std::string origin = job.name + ":" + std::to_string(record.line);
    if (record.ok()) {
      batch.records.push_back({std::move(origin), std::move(record.raw), std::move(record.data), record.is_delete});
    } else {
      io::QuarantineEntry entry;
      entry.source = m_source;
      entry.stream = m_stream;
      entry.origin = std::move(origin);
      entry.reason = std::move(record.error);
      entry.content = std::move(record.raw);
      entry.at = now;
      batch.quarantine.push_back(std::move(entry));
    }
  }
  const bool final = job.eof && job.next == job.decoded.size();
  if (!final && taken == 0 && end.offset == start.offset) return false;
  // A mark never goes back behind what a durable mark of this file already says (see `skip`).
  ResumePoint mark_point = end.offset >= job.high_water.offset ? end : job.high_water;
  io::SourceMark mark{m_source, job.key, final ? std::string(kDone) : encode_point(mark_point), job.last_mark};
  job.last_mark = mark.value;
  FileJob::InFlight flight;
  flight.mark_value = mark.value;
  batch.marks.push_back(std::move(mark));
  flight.start = start;
  flight.end = end;
  flight.final = final;
  flight.records = batch.records.size();
  flight.quarantined = batch.quarantine.size();
  job.read_through = end;
  if (final) job.final_prepared = true;
  job.prepared.emplace(FileJob::Prepared{std::move(batch), flight});
  return true;
}

void SpoolDriver::send_prepared() {
  FileJob& job = *m_job;
  FileJob::Prepared prepared = std::move(*job.prepared);
  job.prepared.reset();
  // Registered before submit(): the completion may run inline.
  prepared.flight.id = m_next_id;
  job.in_flight.push_back(prepared.flight);
  submit(std::move(prepared.batch));
}

void SpoolDriver::rewind_job() {
  FileJob& job = *m_job;
  // Every batch of the window has answered; the front one was refused. Batches accepted after it
  // are durable already: their byte ranges are skipped when the refused ones are sent again.
  bool out_of_order = false;
  for (const auto& flight : job.in_flight) {
    if (flight.outcome != FileJob::Outcome::ok) continue;
    out_of_order = true;
    job.skip.emplace_back(flight.start.offset, flight.end.offset);
    if (flight.end.offset >= job.high_water.offset) job.high_water = flight.end;
  }
  if (out_of_order)
    log::warning("spool", m_source + ": " + job.name +
                          ": the queue refused a batch but accepted a later one; the refused records are queued after it");
  job.in_flight.clear();
  job.last_mark = job.durable_mark;
  job.refused = false;
  job.final_prepared = false;
  job.prepared.reset();
  job.decoded.clear();
  job.next = 0;
  job.eof = false;
  job.read_through = job.committed;
  if (::lseek(job.fd, static_cast<off_t>(job.committed.offset), SEEK_SET) < 0) {
    job.failure = "cannot seek to offset " + std::to_string(job.committed.offset) + ": " + errno_text();
    return;
  }
  job.reposition(job.committed);
}

// --- files --------------------------------------------------------------------------------------

void SpoolDriver::open_next_file() {
  while (!m_job && !m_pending.empty() && !m_stop) {
    std::string name = m_pending.front();
    m_pending.pop_front();
    m_pending_names.erase(name);
    if (m_skip_names.count(name)) continue;
    auto format = format_of(name, m_settings.format);
    if (!format) continue;
    const std::string path = m_settings.dir + "/" + name;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
      if (errno == ENOENT) continue;  // gone meanwhile (another scan, an operator)
      std::string reason = "cannot open: " + errno_text();
      auto id = io::identity_of_path(path);
      fail_file(name, id ? id->key(name) : std::string(), reason);
      continue;
    }
    auto job = std::make_unique<FileJob>();
    job->fd = fd;
    job->name = name;
    job->path = path;
    job->format = *format;
    auto id = io::identity_of_fd(fd);
    if (!id || !id->regular) continue;  // a directory or device under a spool name: not ours
    // Blocking reads from here on (O_NONBLOCK only kept a FIFO from hanging the open).
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    job->key = id->key(name);

    auto mark = m_marks.find(job->key);
    if (mark != m_marks.end() && mark->second == kDone) {
      job->done_committed = true;  // taken before a crash or a failed delete: only finish it
      m_job = std::move(job);
      return;
    }
    ResumePoint resume;
    if (mark != m_marks.end()) {
      auto point = decode_point(mark->second);
      if (!point || point->offset > id->size) {
        fail_file(name, job->key, "progress mark \"" + mark->second + "\" does not fit the file");
        continue;
      }
      resume = *point;
    }
    if (job->format == Format::ndjson) {
      intake::NdjsonOptions options;
      options.max_line_bytes = m_settings.max_line_bytes;
      job->ndjson = std::make_unique<intake::NdjsonDecoder>(options);
    } else {
      intake::CsvOptions options;
      options.max_record_bytes = m_settings.max_line_bytes;
      options.item_type = m_item_type;
      job->csv = std::make_unique<intake::CsvDecoder>(options);
    }
    m_job = std::move(job);
    FileJob& j = *m_job;

    if (resume.offset == 0) {
      // Binary content (an image, an archive dropped by mistake) is refused as a whole file.
      char head[kSniffBytes];
      ssize_t n = ::pread(fd, head, sizeof head, 0);
      if (n > 0) {
        const void* nul = std::memchr(head, '\0', static_cast<std::size_t>(n));
        if (nul) {
          j.failure = "binary data (NUL byte at offset " + std::to_string(static_cast<const char*>(nul) - head) + ")";
          return;  // pump_job moves it to failed/
        }
      }
    } else {
      if (j.csv) {
        // The header is needed to resume a CSV file: read it again from the start.
        while (!j.csv->header_done() && j.failure.empty() && !j.eof) read_more();
        j.decoded.clear();
        j.eof = false;
        if (!j.failure.empty()) return;
      }
      if (::lseek(fd, static_cast<off_t>(resume.offset), SEEK_SET) < 0) {
        j.failure = "cannot seek to offset " + std::to_string(resume.offset) + ": " + errno_text();
        return;
      }
      j.reposition(resume);
      log::info("spool", m_source + ": resuming " + name + " at byte " + std::to_string(resume.offset) + " (line " +
                             std::to_string(resume.lines + 1) + ")");
    }
    j.committed = j.read_through = j.high_water = resume;
    j.durable_mark = j.last_mark = mark != m_marks.end() ? mark->second : std::string();
    log::debug("spool", m_source + ": taking " + name);
  }
}

void SpoolDriver::finish_job() {
  FileJob& job = *m_job;
  ::close(job.fd);
  job.fd = -1;
  Expected<void> result;
  if (m_settings.on_done == OnDone::move) {
    auto moved = io::move_into_directory(job.path, m_settings.done_dir);
    if (!moved) result = moved.error();
  } else {
    result = io::remove_file(job.path);
  }
  if (!result) {
    // The "done" mark stays: the file is not read again, only finished at the next rescan.
    set_error(job.name + ": all records queued, but " + result.error().message, false);
    m_skip_names.insert(job.name);
    m_job.reset();
    return;
  }
  log::info("spool", m_source + ": " + job.name + " done (" + std::to_string(job.records) + " records, " +
                         std::to_string(job.quarantined) + " quarantined)");
  m_marks.erase(job.key);
  submit_marks_only({{m_source, job.key, ""}});
  {
    std::lock_guard lock(m_status_mutex);
    ++m_status.files;
  }
  m_job.reset();
}

void SpoolDriver::fail_file(const std::string& name, const std::string& key, const std::string& reason) {
  const std::string path = m_settings.dir + "/" + name;
  auto moved = io::move_into_directory(path, m_settings.failed_dir);
  if (!moved) {
    set_error(name + ": " + reason + "; and it cannot be moved aside: " + moved.error().message, false);
    m_skip_names.insert(name);
    return;
  }
  std::string text = reason + "\nfile: " + name + "\nsource: " + m_source + "\nat: " + format_rfc3339(m_clock()) + "\n";
  auto written = io::write_file_atomically(*moved + ".reason", text);
  if (!written) log::warning("spool", m_source + ": " + written.error().message);
  set_error(name + ": " + reason + " (moved to " + *moved + ")", false);
  if (!key.empty() && m_marks.erase(key)) submit_marks_only({{m_source, key, ""}});
}

// --- registry entry -----------------------------------------------------------------------------

Expected<std::unique_ptr<Driver>> make_driver(const config::SourceConfig& source, DriverContext& context) {
  auto settings = settings_from(source.settings);
  if (!settings) return make_error("source " + source.name + ": " + settings.error().message);
  return std::unique_ptr<Driver>(
      std::make_unique<SpoolDriver>(source.name, source.resource, std::move(settings).value(), context));
}

}  // namespace xnode::drivers::spool
