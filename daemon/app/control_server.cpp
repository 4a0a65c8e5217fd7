#include "app/control_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/base/log.hpp"

namespace asio = boost::asio;
using asio::local::stream_protocol;

namespace xnode::app {

namespace {
constexpr std::string_view kLog = "control";
}

struct ControlServer::State : std::enable_shared_from_this<ControlServer::State> {
  State(asio::any_io_executor ex, Handler h) : executor(ex), acceptor(ex), handler(std::move(h)) {}
  asio::any_io_executor executor;
  stream_protocol::acceptor acceptor;
  Handler handler;
  std::size_t active = 0;
  bool stopped = false;

  void accept();
};

namespace {

struct Session : std::enable_shared_from_this<Session> {
  Session(std::shared_ptr<ControlServer::State> s, stream_protocol::socket sock)
      : state(std::move(s)), socket(std::move(sock)), timer(state->executor) {}
  ~Session() { --state->active; }

  std::shared_ptr<ControlServer::State> state;
  stream_protocol::socket socket;
  asio::steady_timer timer;
  std::string buffer;
  std::array<char, 4096> chunk{};
  std::string answer;
  ControlPeer peer;
  bool answered = false;

  void start(bool busy) {
    if (busy) return respond_error(1, "xnoded is busy with other commands: try again");
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
      return respond_error(1, std::string("cannot tell who is calling (SO_PEERCRED): ") + std::strerror(errno));
    peer = ControlPeer{cred.uid, cred.gid, cred.pid};
    arm(ControlServer::kReadTimeout, "no complete request within 5 s");
    read();
  }

  void arm(std::chrono::seconds after, std::string why) {
    timer.expires_after(after);
    timer.async_wait([self = shared_from_this(), why = std::move(why)](const boost::system::error_code& ec) {
      if (ec || self->answered) return;
      log::warning(kLog, "uid " + std::to_string(self->peer.uid) + ": " + why + ": closing the connection");
      self->respond_error(1, why);
    });
  }

  void read() {
    socket.async_read_some(asio::buffer(chunk), [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
      if (self->answered) return;
      if (ec) {
        self->answered = true;  // the client went away before a complete request: nothing to do
        self->timer.cancel();
        return;
      }
      self->buffer.append(self->chunk.data(), n);
      auto line = control::take_line(self->buffer, control::kMaxRequestBytes);
      if (!line) return self->respond_error(1, line.error().message);
      if (!line->has_value()) return self->read();
      auto request = control::decode_request(**line);
      if (!request) return self->respond_error(1, request.error().message);
      self->arm(ControlServer::kAnswerTimeout, "the command did not finish within 120 s");
      std::weak_ptr<Session> weak = self;
      self->state->handler(self->peer, std::move(*request), [weak](control::Response r) {
        if (auto s = weak.lock()) s->respond(std::move(r));
      });
    });
  }

  void respond_error(int exit, std::string message) {
    control::Response r;
    r.ok = false;
    r.exit = exit;
    r.error = std::move(message);
    respond(std::move(r));
  }

  void respond(control::Response r) {
    if (answered) return;
    answered = true;
    timer.cancel();
    answer = control::encode_response(r);
    asio::async_write(socket, asio::buffer(answer), [self = shared_from_this()](const boost::system::error_code&, std::size_t) {
      boost::system::error_code ignored;
      self->socket.shutdown(stream_protocol::socket::shutdown_both, ignored);
      self->socket.close(ignored);
    });
  }
};

}  // namespace

void ControlServer::State::accept() {
  acceptor.async_accept([self = shared_from_this()](const boost::system::error_code& ec, stream_protocol::socket sock) {
    if (self->stopped) return;
    if (!ec) {
      const bool busy = self->active >= ControlServer::kMaxConnections;
      ++self->active;
      auto session = std::make_shared<Session>(self, std::move(sock));
      session->start(busy);
    } else {
      log::warning(kLog, "accept: " + ec.message());
    }
    self->accept();
  });
}

ControlServer::ControlServer(asio::any_io_executor executor, std::string path, Handler handler)
    : m_path(std::move(path)), m_state(std::make_shared<State>(executor, std::move(handler))) {
  struct stat st{};
  if (::lstat(m_path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      throw std::runtime_error("control socket " + m_path + ": exists and is not a socket; remove it or set health.control_socket");
    ::unlink(m_path.c_str());  // a crashed daemon's: the queue's lock file already keeps a second daemon off
  }
  std::error_code fec;
  std::filesystem::create_directories(std::filesystem::path(m_path).parent_path(), fec);
  boost::system::error_code ec;
  m_state->acceptor.open(stream_protocol(), ec);
  if (!ec) m_state->acceptor.bind(stream_protocol::endpoint(m_path), ec);
  // The file is made with the umask's mode; connecting needs write permission, so the owner is
  // the only one who can connect before the chmod.
  if (!ec && ::chmod(m_path.c_str(), 0660) != 0) ec.assign(errno, boost::system::system_category());
  if (!ec) m_state->acceptor.listen(static_cast<int>(kMaxConnections), ec);
  if (ec) throw std::runtime_error("control socket " + m_path + ": " + ec.message());
  m_state->accept();
}

ControlServer::~ControlServer() { stop(); }

void ControlServer::stop() {
  if (m_state->stopped) return;
  m_state->stopped = true;
  boost::system::error_code ignored;
  m_state->acceptor.close(ignored);
  ::unlink(m_path.c_str());
}

}  // namespace xnode::app
