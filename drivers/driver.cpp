#include "drivers/driver.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace xnode::drivers {

std::optional<std::vector<io::SourceMark>> wait_for_marks(IntakeSink& sink, const std::string& source,
                                                          const std::atomic<bool>& stop) {
  // Shared with the callback: it may run after a stop has made this function return.
  struct Shared {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
    std::vector<io::SourceMark> marks;
  };
  auto shared = std::make_shared<Shared>();
  sink.read_marks(source, [shared](std::vector<io::SourceMark> marks) {
    std::lock_guard lock(shared->mutex);
    shared->marks = std::move(marks);
    shared->done = true;
    shared->cv.notify_all();
  });
  std::unique_lock lock(shared->mutex);
  while (!shared->done) {
    if (stop) return std::nullopt;
    shared->cv.wait_for(lock, std::chrono::milliseconds(50));
  }
  return std::move(shared->marks);
}

}  // namespace xnode::drivers
