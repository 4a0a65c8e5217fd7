// The control socket on a real unix socket and a real io_context: the caller's uid and pid come
// from the kernel (SO_PEERCRED), the file has mode 0660, a stale socket is replaced and another kind
// of file refused, bad requests answered with the reason, a silent client cut off after the read
// timeout, and the file removed at stop.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "app/control_client.hpp"
#include "app/control_server.hpp"

using namespace xnode;
namespace asio = boost::asio;

namespace {

struct TempDir {
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "xnode-ctl-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path path;
};

// Runs an io_context on its own thread for the test's lifetime (bounded by stop()).
struct Loop {
  asio::io_context io;
  std::thread thread;
  std::unique_ptr<app::ControlServer> server;
  app::ControlPeer last_peer;
  std::vector<std::string> last_argv;

  void start(const std::string& path) {
    std::promise<void> ready;
    thread = std::thread([&] {
      server = std::make_unique<app::ControlServer>(
          io.get_executor(), path, [this](const app::ControlPeer& peer, control::Request r, app::ControlServer::Reply reply) {
            last_peer = peer;
            last_argv = r.argv;
            reply(control::Response{true, 0, "did " + control::command_text(r.argv) + "\n", {}});
          });
      ready.set_value();
      auto guard = asio::make_work_guard(io);
      io.run();
      server.reset();
    });
    ready.get_future().wait();
  }
  ~Loop() {
    io.stop();
    if (thread.joinable()) thread.join();
  }
};

}  // namespace

TEST_CASE("control socket: the kernel names the caller; mode 0660; removed at stop") {
  TempDir dir;
  const std::string path = (dir.path / "control.sock").string();
  {
    Loop loop;
    loop.start(path);
    struct stat st{};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0660);

    control::Request req;
    req.argv = {"quarantine", "purge", "3"};
    control::Response resp;
    app::ControlCallError err;
    REQUIRE(app::control_call(path, req, std::chrono::seconds(10), resp, err));
    CHECK(resp.ok);
    CHECK(resp.output == "did quarantine purge 3\n");
    CHECK(loop.last_peer.uid == ::getuid());
    CHECK(loop.last_peer.gid == ::getgid());
    CHECK(loop.last_peer.pid == ::getpid());
  }
  CHECK_FALSE(std::filesystem::exists(path));

  // Nobody listening: the client says the daemon is not running.
  control::Request req;
  req.argv = {"status"};
  control::Response resp;
  app::ControlCallError err;
  CHECK_FALSE(app::control_call(path, req, std::chrono::seconds(2), resp, err));
  CHECK(err.not_running);
}

TEST_CASE("control socket: a stale socket is replaced, another kind of file refused") {
  TempDir dir;
  const std::string path = (dir.path / "control.sock").string();
  {
    const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::close(s);  // a crashed daemon's socket file, nobody behind it
  }
  {
    Loop loop;
    loop.start(path);
    control::Request req;
    req.argv = {"status"};
    control::Response resp;
    app::ControlCallError err;
    CHECK(app::control_call(path, req, std::chrono::seconds(10), resp, err));
  }
  const std::string plain = (dir.path / "plain").string();
  std::ofstream(plain) << "not a socket";
  asio::io_context io;
  CHECK_THROWS_WITH_AS(app::ControlServer(io.get_executor(), plain, {}), doctest::Contains("not a socket"),
                       std::runtime_error);
  CHECK(std::filesystem::exists(plain));
}

TEST_CASE("control socket: bad requests and silent clients get an answer with the reason") {
  TempDir dir;
  const std::string path = (dir.path / "control.sock").string();
  Loop loop;
  loop.start(path);
  auto exchange = [&](const std::string& bytes) {
    const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    REQUIRE(::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{10, 0};
    ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (!bytes.empty()) REQUIRE(::send(s, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
    std::string in;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(s, buf, sizeof buf, 0)) > 0) in.append(buf, static_cast<std::size_t>(n));
    ::close(s);
    return in;
  };
  CHECK(exchange("{\"v\":1}\n").find("mode must be") != std::string::npos);
  CHECK(exchange(std::string(20000, 'x')).find("longer than") != std::string::npos);
  // Sends nothing: cut off with an answer after the read timeout (5 s), not left hanging.
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(exchange("").find("no complete request") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(9));
  CHECK(loop.last_argv.empty());  // none of them reached the handler
}
