#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "io/sys/sd_notify.hpp"

namespace {
// A notify socket the test opens itself, as systemd would.
struct NotifySocket {
  int fd = -1;
  explicit NotifySocket(const std::string& address) {
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, address.data(), address.size());
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { ::close(fd); }
  std::string receive() const {
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }
};
}  // namespace

TEST_SUITE("io::SystemdNotifier") {
  TEST_CASE("datagrams reach a path socket") {
    std::string path = "/tmp/xnode-notify-test-" + std::to_string(::getpid());
    ::unlink(path.c_str());
    NotifySocket sock(path);
    xnode::io::SystemdNotifier n(path);
    CHECK(n.enabled());
    CHECK(n.ready());
    CHECK(sock.receive() == "READY=1");
    CHECK(n.status("link up\nqueue 0"));
    CHECK(sock.receive() == "STATUS=link up queue 0");
    CHECK(n.reloading());
    CHECK(sock.receive().rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
    ::unlink(path.c_str());
  }
  TEST_CASE("abstract sockets") {
    std::string addr = "@xnode-notify-test-" + std::to_string(::getpid());
    NotifySocket sock(addr);
    xnode::io::SystemdNotifier n(addr);
    CHECK(n.watchdog());
    CHECK(sock.receive() == "WATCHDOG=1");
  }
  TEST_CASE("without a socket nothing is sent") {
    xnode::io::SystemdNotifier n{std::string()};
    CHECK_FALSE(n.enabled());
    CHECK_FALSE(n.ready());
  }
}
