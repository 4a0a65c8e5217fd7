// Helpers for the queue tests: a temporary directory, and blocking wrappers around the store's
// callback API (the callbacks run on the store thread; the test thread waits on a future).
#pragma once
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/queue/queue_store.hpp"

namespace xnode::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "xnode-queue-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    m_path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (m_path / name).string(); }
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

template <typename T>
T wait_for(std::future<T>& f) {
  if (f.wait_for(std::chrono::seconds(30)) != std::future_status::ready) throw std::runtime_error("queue callback timed out");
  return f.get();
}

inline io::SubmitResult submit(io::QueueStore& q, io::IntakeBatch b) {
  std::promise<io::SubmitResult> p;
  auto f = p.get_future();
  q.submit(std::move(b), [&p](io::SubmitResult r) { p.set_value(std::move(r)); });
  return wait_for(f);
}

inline Expected<io::StoredBatch> read_batch(io::QueueStore& q, const std::string& stream, std::uint64_t after,
                                            std::size_t max_records = 1000000, std::size_t max_bytes = 1u << 30) {
  std::promise<Expected<io::StoredBatch>> p;
  auto f = p.get_future();
  q.read_batch(stream, after, max_records, max_bytes, [&p](Expected<io::StoredBatch> r) { p.set_value(std::move(r)); });
  return wait_for(f);
}

inline Expected<void> acknowledge(io::QueueStore& q, const std::string& stream, std::uint64_t seq) {
  std::promise<Expected<void>> p;
  auto f = p.get_future();
  q.acknowledge(stream, seq, [&p](Expected<void> r) { p.set_value(std::move(r)); });
  return wait_for(f);
}

inline Expected<io::StreamStats> reconcile(io::QueueStore& q, const std::string& stream, std::uint64_t acked) {
  std::promise<Expected<io::StreamStats>> p;
  auto f = p.get_future();
  q.reconcile_stream(stream, acked, [&p](Expected<io::StreamStats> r) { p.set_value(std::move(r)); });
  return wait_for(f);
}

inline std::vector<io::GapRange> gaps(io::QueueStore& q) {
  std::promise<std::vector<io::GapRange>> p;
  auto f = p.get_future();
  q.pending_gaps([&p](std::vector<io::GapRange> r) { p.set_value(std::move(r)); });
  return wait_for(f);
}

inline Expected<void> mark_gap_declared(io::QueueStore& q, io::GapRange g) {
  std::promise<Expected<void>> p;
  auto f = p.get_future();
  q.mark_gap_declared(std::move(g), [&p](Expected<void> r) { p.set_value(std::move(r)); });
  return wait_for(f);
}

inline io::QueueStats stats(io::QueueStore& q) {
  std::promise<io::QueueStats> p;
  auto f = p.get_future();
  q.stats([&p](io::QueueStats r) { p.set_value(std::move(r)); });
  return wait_for(f);
}

inline std::vector<io::SourceMark> marks(io::QueueStore& q, const std::string& source) {
  std::promise<std::vector<io::SourceMark>> p;
  auto f = p.get_future();
  q.read_marks(source, [&p](std::vector<io::SourceMark> r) { p.set_value(std::move(r)); });
  return wait_for(f);
}

inline const io::StreamStats* find_stream(const io::QueueStats& s, const std::string& name) {
  for (const auto& st : s.streams)
    if (st.stream == name) return &st;
  return nullptr;
}

// A record tail as the intake builds it: `"op":"upsert","key":K,"at":…,"data":{…}}`.
inline std::string tail_for(const std::string& key, int n) {
  return "\"op\":\"upsert\",\"key\":\"" + key + "\",\"at\":\"2026-03-23T08:00:00+08:00\",\"data\":{\"n\":" +
         std::to_string(n) + ",\"name\":\"张三\"}}";
}

inline io::IntakeBatch records(const std::string& stream, int from, int count) {
  io::IntakeBatch b;
  for (int i = from; i < from + count; ++i) b.records.push_back({stream, tail_for("k" + std::to_string(i), i)});
  return b;
}

}  // namespace xnode::test
