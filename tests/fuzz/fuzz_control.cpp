// libFuzzer target: the control socket's codec on arbitrary bytes (what any local process may send
// to xnoded, and what xnodectl reads back).
// Oracles: framing never returns more than the limit; a decoded request re-encodes to a line that
// decodes to the same request; the quarantine command parser never crashes on decoded words.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/control/control_protocol.hpp"

using namespace xnode::control;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto framed = take_line(input, 256);
  if (framed && framed->has_value()) check((*framed)->size() <= 256 && (*framed)->find('\n') == std::string_view::npos);

  auto req = decode_request(input);
  if (req) {
    check(!req->argv.empty() && req->argv.size() <= kMaxArgs);
    const std::string line = encode_request(*req);
    check(!line.empty() && line.back() == '\n');
    auto again = decode_request(std::string_view(line).substr(0, line.size() - 1));
    check(again && again->argv == req->argv && again->mode == req->mode && again->result == req->result &&
          again->detail == req->detail);
    (void)command_text(req->argv);
    (void)is_mutating(req->argv);
    auto q = parse_quarantine_command(req->argv);
    if (q) check((q->id ? 1 : 0) + (q->all ? 1 : 0) + (q->before ? 1 : 0) == 1);
  }
  auto resp = decode_response(input);
  if (resp) {
    const std::string line = encode_response(*resp);
    auto again = decode_response(std::string_view(line).substr(0, line.size() - 1));
    check(again && again->ok == resp->ok && again->exit == resp->exit && again->output == resp->output &&
          again->error == resp->error);
  }
  return 0;
}
