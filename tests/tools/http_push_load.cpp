// xnode-http-push-load: a load client for the HTTP push source (scripts/bench drivers).
// Reads NDJSON records from --input, cuts them into requests of --per-request records and sends
// them over --connections keep-alive connections (plain sockets, one thread each; connection i
// sends requests i, i+C, i+2C, …), each waiting for its answer before the next request. Every
// answer must be 200 with the request's record count accepted; else it stops with exit 1.
// Prints `http_push_records_per_s: N` (records / wall time from the first send to the last answer).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string source;
  std::string token_file;
  std::string input;
  std::size_t per_request = 100;
  std::size_t connections = 4;
};

[[noreturn]] void usage() {
  std::cerr << "usage: xnode-http-push-load --port P --source NAME --token-file F --input FILE.ndjson\n"
               "                            [--host 127.0.0.1] [--per-request 100] [--connections 4]\n";
  std::exit(2);
}

bool send_all(int fd, const std::string& data) {
  std::size_t at = 0;
  while (at < data.size()) {
    ssize_t n = ::send(fd, data.data() + at, data.size() - at, MSG_NOSIGNAL);
    if (n <= 0) return false;
    at += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads one response (header + Content-Length body); `buffer` keeps what follows it.
bool read_response(int fd, std::string& buffer, int& status, std::string& body) {
  char chunk[16384];
  std::size_t header_end;
  while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0 || buffer.size() > (1u << 20)) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  if (buffer.compare(0, 9, "HTTP/1.1 ") != 0) return false;
  status = std::atoi(buffer.c_str() + 9);
  std::size_t length = 0;
  const std::string head = buffer.substr(0, header_end);
  for (std::size_t pos = 0; (pos = head.find("\r\n", pos)) != std::string::npos;) {
    pos += 2;
    if (strncasecmp(head.c_str() + pos, "content-length:", 15) == 0) length = std::strtoul(head.c_str() + pos + 15, nullptr, 10);
  }
  while (buffer.size() < header_end + 4 + length) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  body = buffer.substr(header_end + 4, length);
  buffer.erase(0, header_end + 4 + length);
  return true;
}

int connect_to(const Options& o) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(o.port));
  if (inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{60, 0};  // bounded: a stuck daemon fails the run instead of hanging it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--host") o.host = next();
    else if (a == "--port") o.port = std::atoi(next().c_str());
    else if (a == "--source") o.source = next();
    else if (a == "--token-file") o.token_file = next();
    else if (a == "--input") o.input = next();
    else if (a == "--per-request") o.per_request = std::strtoul(next().c_str(), nullptr, 10);
    else if (a == "--connections") o.connections = std::strtoul(next().c_str(), nullptr, 10);
    else usage();
  }
  if (o.port <= 0 || o.source.empty() || o.token_file.empty() || o.input.empty() || o.per_request == 0 || o.connections == 0)
    usage();
  std::string token;
  {
    std::ifstream t(o.token_file);
    std::getline(t, token);
  }
  std::vector<std::string> bodies;
  std::vector<std::size_t> counts;
  {
    std::ifstream in(o.input);
    if (!in) {
      std::cerr << "xnode-http-push-load: cannot read " << o.input << "\n";
      return 2;
    }
    std::string line, body;
    std::size_t n = 0;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      body += line;
      body += '\n';
      if (++n == o.per_request) {
        bodies.push_back(std::move(body));
        counts.push_back(n);
        body.clear();
        n = 0;
      }
    }
    if (n) {
      bodies.push_back(std::move(body));
      counts.push_back(n);
    }
  }
  // The requests, built before the clock starts.
  std::vector<std::string> requests;
  requests.reserve(bodies.size());
  for (const auto& b : bodies)
    requests.push_back("POST /v1/sources/" + o.source + "/records HTTP/1.1\r\nHost: " + o.host +
                       "\r\nAuthorization: Bearer " + token + "\r\nContent-Type: application/x-ndjson\r\nContent-Length: " +
                       std::to_string(b.size()) + "\r\n\r\n" + b);
  std::size_t total = 0;
  for (auto c : counts) total += c;

  std::atomic<bool> failed{false};
  std::vector<int> fds;
  for (std::size_t c = 0; c < o.connections; ++c) {
    int fd = connect_to(o);
    if (fd < 0) {
      std::cerr << "xnode-http-push-load: cannot connect to " << o.host << ":" << o.port << "\n";
      return 1;
    }
    fds.push_back(fd);
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < o.connections; ++c) {
    threads.emplace_back([&, c] {
      std::string buffer, body;
      int status = 0;
      for (std::size_t r = c; r < requests.size() && !failed; r += o.connections) {
        if (!send_all(fds[c], requests[r]) || !read_response(fds[c], buffer, status, body)) {
          std::cerr << "xnode-http-push-load: connection " << c << " failed at request " << r << "\n";
          failed = true;
          return;
        }
        const std::string expect = "\"accepted\":" + std::to_string(counts[r]) + ",";
        if (status != 200 || body.find(expect) == std::string::npos) {
          std::cerr << "xnode-http-push-load: request " << r << ": " << status << " " << body << "\n";
          failed = true;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (int fd : fds) ::close(fd);
  if (failed) return 1;
  std::fprintf(stderr, "xnode-http-push-load: %zu records in %zu requests over %zu connections in %.2f s\n", total,
               requests.size(), o.connections, seconds);
  std::printf("http_push_records_per_s: %.0f\n", static_cast<double>(total) / seconds);
  return 0;
}
