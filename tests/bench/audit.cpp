// bench_audit: appends chained audit events through the real AuditStore (SQLite, WAL,
// synchronous FULL, batched on the writer thread) and prints figures as `name: value` lines.
//   bench_audit [events] [directory]
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/audit/actions.hpp"
#include "io/stores/audit_store.hpp"

using namespace xnode;

namespace {
// Process CPU time (all threads): on a shared, loaded machine the wall-clock rate says more about
// the neighbours than about the store, so the CPU cost is printed as well.
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
}  // namespace

int main(int argc, char** argv) {
  const long events = argc > 1 ? std::atol(argv[1]) : 200000;
  std::string base = argc > 2 ? argv[2] : std::filesystem::temp_directory_path().string();
  std::string dir = base + "/xnode-bench-audit-XXXXXX";
  if (!::mkdtemp(dir.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  int rc = 0;
  {
    io::AuditStoreOptions options;
    options.path = dir + "/audit.db";
    options.durability = io::AuditDurability::full;
    options.max_pending = static_cast<std::size_t>(events) + 16;  // measure the writer, not overflow
    options.max_bytes = 8ull << 30;
    auto store = io::AuditStore::open(options);
    if (!store) {
      std::fprintf(stderr, "bench_audit: %s\n", store.error().message.c_str());
      return 1;
    }
    const TimePoint at = Clock::now();
    const double cpu_start = cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < events; ++i) {
      json::Value detail = json::Value::object();
      detail.set("records", 126);
      detail.set("duplicates", 0);
      detail.set("bytes", 48213);
      const std::int64_t first = i * 126 + 1;
      auto r = (*store)->append({std::string(audit::daemon_actor), std::string(audit::action::batch_acked),
                                 "101003/11540100MB00000008-00001:" + std::to_string(first) + "-" +
                                     std::to_string(first + 125),
                                 std::string(audit::result::ok), std::move(detail)},
                                at);
      if (r != io::AppendResult::queued) {
        std::fprintf(stderr, "bench_audit: append %ld not queued\n", i);
        return 1;
      }
    }
    const auto appended = std::chrono::steady_clock::now();
    if (!(*store)->flush(std::chrono::minutes(10))) {
      std::fprintf(stderr, "bench_audit: flush timed out\n");
      return 1;
    }
    const auto done = std::chrono::steady_clock::now();
    const double cpu = cpu_seconds() - cpu_start;
    const double seconds = std::chrono::duration<double>(done - start).count();
    const double append_ns = std::chrono::duration<double, std::nano>(appended - start).count() / static_cast<double>(events);
    auto status = (*store)->status();
    const auto verify_start = std::chrono::steady_clock::now();
    auto report = (*store)->verify_all();
    const double verify_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - verify_start).count();
    if (!report || !report->ok() || report->checked != events) {
      std::fprintf(stderr, "bench_audit: verification failed: %s\n",
                   report ? report->summary().c_str() : report.error().message.c_str());
      rc = 1;
    }
    std::printf("audit_events_per_s: %.0f\n", static_cast<double>(events) / seconds);
    std::printf("audit_cpu_us_per_event: %.1f\n", cpu * 1e6 / static_cast<double>(events));
    std::printf("audit_append_ns_per_event: %.0f\n", append_ns);
    std::printf("audit_verify_events_per_s: %.0f\n", static_cast<double>(events) / verify_s);
    std::printf("audit_bytes_per_event: %.0f\n", static_cast<double>(status.used_bytes) / static_cast<double>(events));
    std::printf("audit_events: %ld\n", events);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}
