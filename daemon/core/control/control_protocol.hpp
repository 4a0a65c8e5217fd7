// The operator control protocol between xnodectl and xnoded over the local unix socket
// (health.control_socket). Pure codec: framing, requests, responses and the quarantine command
// forms — everything here reads outside input and is fuzzed (tests/fuzz/fuzz_control.cpp).
//
// Framing: one JSON object a line, ended by "\n"; a request is at most kMaxRequestBytes.
// One request and one response a connection.
//   request  {"v":1,"mode":"run","argv":["quarantine","retry","12"]}
//            {"v":1,"mode":"note","argv":["status"],"result":"ok","detail":"…"}
//   response {"ok":true,"exit":0,"output":"…"}   (or "ok":false with "error")
// `run`: the daemon performs the command (the mutating ones) and audits it. `note`: xnodectl ran a
// read-only command itself and the daemon only audits it. The caller's uid is never part of the
// request: the daemon takes it from the socket (SO_PEERCRED).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/expected.hpp"
#include "core/base/time.hpp"

namespace xnode::control {

inline constexpr std::size_t kMaxRequestBytes = 16 * 1024;
inline constexpr std::size_t kMaxArgs = 16;
inline constexpr std::size_t kMaxArgBytes = 1024;
inline constexpr std::size_t kMaxResponseBytes = 4u << 20;

enum class Mode { run, note };

struct Request {
  Mode mode = Mode::run;
  std::vector<std::string> argv;  // the command words and options, as typed after xnodectl
  std::string result;             // note: what the command came to ("ok", "failed")
  std::string detail;             // note: a short summary (an error message)
};

struct Response {
  bool ok = true;
  int exit = 0;
  std::string output;  // what xnodectl prints on stdout
  std::string error;   // what xnodectl prints on stderr when !ok
};

// The complete line (with "\n") of a request or response.
std::string encode_request(const Request& r);
std::string encode_response(const Response& r);
// One line without its "\n". Errors say what is wrong ("argv: at most 16 words").
Expected<Request> decode_request(std::string_view line);
Expected<Response> decode_response(std::string_view line);

// Framing of a byte stream: the first complete line of `buffer` (without "\n"); nullopt when
// more bytes are needed; an error once the buffer holds `max_bytes` without a newline.
Expected<std::optional<std::string_view>> take_line(std::string_view buffer, std::size_t max_bytes);

// The command as the audit trail names it: the words joined by blanks ("quarantine retry 12").
std::string command_text(const std::vector<std::string>& argv);
// Commands that change the node's state: only the daemon performs them.
bool is_mutating(const std::vector<std::string>& argv);

// `quarantine retry ID|--all [--source S]` and `quarantine purge ID|--all|--before TIME`.
struct QuarantineCommand {
  enum class Action { retry, purge } action = Action::retry;
  std::optional<std::int64_t> id;      // one entry
  bool all = false;                    // every entry (of `source` when set)
  std::string source;                  // retry --all: only this source's entries
  std::optional<TimePoint> before;     // purge: entries quarantined before this time
};
Expected<QuarantineCommand> parse_quarantine_command(const std::vector<std::string>& argv);

}  // namespace xnode::control
