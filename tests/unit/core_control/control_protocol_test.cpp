// The control protocol codec: what xnodectl and xnoded exchange over the local socket.
#include <doctest/doctest.h>

#include "core/control/control_protocol.hpp"

using namespace xnode;
using namespace xnode::control;

TEST_CASE("a run request round-trips") {
  Request r;
  r.argv = {"quarantine", "retry", "12"};
  const std::string line = encode_request(r);
  REQUIRE(line.back() == '\n');
  auto back = decode_request(std::string_view(line).substr(0, line.size() - 1));
  REQUIRE(back);
  CHECK(back->mode == Mode::run);
  CHECK(back->argv == r.argv);
  CHECK(back->result.empty());
}

TEST_CASE("a note request carries the result and detail") {
  Request r;
  r.mode = Mode::note;
  r.argv = {"audit", "export", "--since", "2026-01-01T00:00:00Z"};
  r.result = "failed";
  r.detail = "cannot open audit.db";
  const std::string line = encode_request(r);
  auto back = decode_request(std::string_view(line).substr(0, line.size() - 1));
  REQUIRE(back);
  CHECK(back->mode == Mode::note);
  CHECK(back->argv == r.argv);
  CHECK(back->result == "failed");
  CHECK(back->detail == "cannot open audit.db");
}

TEST_CASE("requests that are refused, with the reason") {
  auto refused = [](std::string_view line) {
    auto r = decode_request(line);
    REQUIRE_FALSE(r);
    return r.error().message;
  };
  CHECK(refused("").find("request:") == 0);
  CHECK(refused("[1]").find("not a JSON object") != std::string::npos);
  CHECK(refused(R"({"v":2,"mode":"run","argv":["status"]})").find("v must be 1") != std::string::npos);
  CHECK(refused(R"({"v":1,"mode":"go","argv":["status"]})").find("mode") != std::string::npos);
  CHECK(refused(R"({"v":1,"mode":"run","argv":[]})").find("non-empty") != std::string::npos);
  CHECK(refused(R"({"v":1,"mode":"run","argv":[1]})").find("string") != std::string::npos);
  CHECK(refused(R"({"v":1,"mode":"run","argv":[""]})").find("1 to") != std::string::npos);
  // The uid is never taken from the client: a request that names one is refused outright.
  CHECK(refused(R"({"v":1,"mode":"run","argv":["status"],"uid":0})").find("unknown member 'uid'") != std::string::npos);
  CHECK(refused(R"({"v":1,"mode":"note","argv":["status"]})").find("needs a result") != std::string::npos);
  CHECK(refused(R"({"v":1,"mode":"run","argv":["status"],"result":"ok"})").find("belong to a note") != std::string::npos);
  std::string many = R"({"v":1,"mode":"run","argv":[)";
  for (int i = 0; i < 17; ++i) many += std::string(i ? "," : "") + "\"w\"";
  CHECK(refused(many + "]}").find("at most 16") != std::string::npos);
  CHECK(refused(std::string(kMaxRequestBytes + 1, ' ')).find("longer than") != std::string::npos);
}

TEST_CASE("a response round-trips") {
  Response r;
  r.ok = false;
  r.exit = 1;
  r.output = "line 1\nline 2\n";
  r.error = "no quarantine entry 7";
  const std::string line = encode_response(r);
  CHECK(line.find('\n') == line.size() - 1);  // output newlines are escaped: one line
  auto back = decode_response(std::string_view(line).substr(0, line.size() - 1));
  REQUIRE(back);
  CHECK_FALSE(back->ok);
  CHECK(back->exit == 1);
  CHECK(back->output == r.output);
  CHECK(back->error == r.error);
  CHECK_FALSE(decode_response(R"({"ok":true,"exit":300})"));
  CHECK_FALSE(decode_response(R"({"ok":"yes","exit":0})"));
}

TEST_CASE("framing: a line, more bytes needed, or too long") {
  auto a = take_line("abc\ndef", 16);
  REQUIRE(a);
  REQUIRE(a->has_value());
  CHECK(**a == "abc");
  auto b = take_line("abc", 16);
  REQUIRE(b);
  CHECK_FALSE(b->has_value());
  CHECK_FALSE(take_line(std::string(17, 'x'), 16));
  CHECK_FALSE(take_line(std::string(17, 'x') + "\n", 16));
  auto c = take_line(std::string(16, 'x') + "\n", 16);
  REQUIRE(c);
  CHECK(c->has_value());
}

TEST_CASE("mutating commands and their text") {
  CHECK(is_mutating({"quarantine", "retry", "1"}));
  CHECK(is_mutating({"quarantine", "purge", "--all"}));
  CHECK_FALSE(is_mutating({"quarantine", "list"}));
  CHECK_FALSE(is_mutating({"status"}));
  CHECK(command_text({"quarantine", "purge", "--before", "2026-01-01T00:00:00Z"}) ==
        "quarantine purge --before 2026-01-01T00:00:00Z");
}

TEST_CASE("quarantine retry and purge forms") {
  auto retry = parse_quarantine_command({"quarantine", "retry", "42"});
  REQUIRE(retry);
  CHECK(retry->action == QuarantineCommand::Action::retry);
  CHECK(retry->id == 42);
  auto all = parse_quarantine_command({"quarantine", "retry", "--all", "--source", "orders"});
  REQUIRE(all);
  CHECK(all->all);
  CHECK(all->source == "orders");
  auto before = parse_quarantine_command({"quarantine", "purge", "--before", "2026-03-01T00:00:00Z"});
  REQUIRE(before);
  CHECK(before->action == QuarantineCommand::Action::purge);
  REQUIRE(before->before);
  CHECK(format_rfc3339(*before->before) == "2026-03-01T00:00:00.000Z");

  CHECK_FALSE(parse_quarantine_command({"quarantine", "retry"}));
  CHECK_FALSE(parse_quarantine_command({"quarantine", "retry", "0"}));
  CHECK_FALSE(parse_quarantine_command({"quarantine", "retry", "12x"}));
  CHECK_FALSE(parse_quarantine_command({"quarantine", "retry", "1", "--all"}));
  CHECK_FALSE(parse_quarantine_command({"quarantine", "retry", "1", "--source", "a"}));
  CHECK_FALSE(parse_quarantine_command({"quarantine", "retry", "--before", "2026-03-01T00:00:00Z"}));
  CHECK_FALSE(parse_quarantine_command({"quarantine", "purge", "--before", "yesterday"}));
  CHECK_FALSE(parse_quarantine_command({"quarantine", "purge", "--all", "--source", "a"}));
  CHECK_FALSE(parse_quarantine_command({"quarantine", "purge", "--bogus"}));
  CHECK_FALSE(parse_quarantine_command({"quarantine", "list"}));
}
