// bench_validate — the intake hot path of the catalog: checking records against their resource
// (issue 4: ≥ 1,000,000 records/s on one core for a 12-item resource with two identifier items).
//
//   bench_validate CATALOG_DIR RESOURCE_CODE RECORDS.ndjson [MIN_SECONDS]
//
// Figures are records per second of this thread's CPU time (one core, whatever the machine's load).
// Prints, as `name: value` lines:
//   validate_records_per_s            — RecordChecker::check on records already parsed
//   parse_and_validate_records_per_s  — json::parse of the line + check
//   validate_and_encode_records_per_s — check + build_tail (the queue's wire text) on parsed records
//   validate_records, validate_rejected — how many distinct records, how many were refused (0 expected)
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "core/base/json.hpp"
#include "core/catalog/loader.hpp"
#include "core/catalog/record_checker.hpp"
#include "core/catalog/record_wire.hpp"

using namespace xnode;

namespace {

// CPU time of this thread: the figure is "records a second on one core", and the build machine is
// shared, so wall time would measure the neighbours' load as much as this code.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Runs `pass` (one pass over all records) until at least `min_seconds` of CPU time were spent;
// returns records per CPU second.
template <typename Pass>
double measure(std::size_t records_per_pass, double min_seconds, Pass&& pass) {
  pass();  // warm caches and allocator
  std::size_t done = 0;
  const double start = thread_cpu_seconds();
  double elapsed = 0;
  do {
    pass();
    done += records_per_pass;
    elapsed = thread_cpu_seconds() - start;
  } while (elapsed < min_seconds);
  return static_cast<double>(done) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_validate CATALOG_DIR RESOURCE_CODE RECORDS.ndjson [MIN_SECONDS]\n");
    return 2;
  }
  const double min_seconds = argc > 4 ? std::atof(argv[4]) : 2.0;
  auto load = catalog::load_slice_dir(argv[1]);
  if (!load.ok()) {
    std::fprintf(stderr, "%s", load.error_text().c_str());
    return 1;
  }
  const catalog::Resource* resource = load.slice.find(argv[2]);
  if (!resource) {
    std::fprintf(stderr, "bench_validate: no resource %s in %s\n", argv[2], argv[1]);
    return 1;
  }
  std::vector<std::string> lines;
  {
    std::ifstream in(argv[3]);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) lines.push_back(line);
  }
  if (lines.empty()) {
    std::fprintf(stderr, "bench_validate: no records in %s\n", argv[3]);
    return 1;
  }
  std::vector<json::Value> parsed;
  parsed.reserve(lines.size());
  for (const auto& line : lines) {
    auto v = json::parse(line);
    if (!v) {
      std::fprintf(stderr, "bench_validate: %s\n", v.error().message.c_str());
      return 1;
    }
    parsed.push_back(std::move(*v));
  }

  const catalog::RecordChecker checker(*resource);
  catalog::CheckResult result;
  std::size_t rejected = 0;
  for (auto& record : parsed) {
    checker.check(catalog::RecordOp::upsert, record, result);
    if (result.verdict != catalog::Verdict::accepted) {
      if (rejected == 0) std::fprintf(stderr, "bench_validate: first rejection: %s\n", result.reason.c_str());
      ++rejected;
    }
  }

  // The records carry no undeclared members, so checking them again leaves them unchanged.
  std::size_t sink = 0;
  const double validate = measure(parsed.size(), min_seconds, [&] {
    for (auto& record : parsed) {
      checker.check(catalog::RecordOp::upsert, record, result);
      sink += result.key.size();
    }
  });
  const double parse_and_validate = measure(lines.size(), min_seconds, [&] {
    for (const auto& line : lines) {
      auto v = json::parse(line);
      checker.check(catalog::RecordOp::upsert, *v, result);
      sink += result.key.size();
    }
  });
  std::string tail;
  const double validate_and_encode = measure(parsed.size(), min_seconds, [&] {
    for (auto& record : parsed) {
      checker.check(catalog::RecordOp::upsert, record, result);
      tail.clear();
      catalog::build_tail(tail, catalog::RecordOp::upsert, result.key, "2026-03-23T08:00:00.000Z", &record);
      sink += tail.size();
    }
  });
  std::printf("validate_records_per_s: %.0f\n", validate);
  std::printf("parse_and_validate_records_per_s: %.0f\n", parse_and_validate);
  std::printf("validate_and_encode_records_per_s: %.0f\n", validate_and_encode);
  std::printf("validate_records: %zu\n", parsed.size());
  std::printf("validate_rejected: %zu\n", rejected);
  return sink == 0 ? 1 : 0;
}
