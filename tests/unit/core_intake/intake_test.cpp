#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/intake/csv_decoder.hpp"
#include "core/intake/ndjson_decoder.hpp"

using namespace xnode;
using namespace xnode::intake;

namespace {

std::vector<DecodedRecord> ndjson_all(std::string_view input, std::size_t chunk, NdjsonOptions options = {}) {
  NdjsonDecoder decoder(options);
  std::vector<DecodedRecord> out;
  for (std::size_t i = 0; i < input.size(); i += chunk) decoder.feed(input.substr(i, chunk), out);
  decoder.finish(out);
  return out;
}

std::vector<DecodedRecord> csv_all(std::string_view input, std::size_t chunk, CsvOptions options = {},
                                   std::string* fatal = nullptr) {
  CsvDecoder decoder(std::move(options));
  std::vector<DecodedRecord> out;
  for (std::size_t i = 0; i < input.size(); i += chunk) decoder.feed(input.substr(i, chunk), out);
  decoder.finish(out);
  if (fatal) *fatal = decoder.fatal_error();
  return out;
}

}  // namespace

TEST_SUITE("core::NdjsonDecoder") {
  TEST_CASE("lines, CRLF, blank lines and a final line without newline, at every chunk size") {
    const std::string input = "{\"a\":1}\n\r\n{\"b\":\"x\"}\r\n   \n{\"c\":true}";
    for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
      auto records = ndjson_all(input, chunk);
      REQUIRE(records.size() == 3);
      CHECK(records[0].ok());
      CHECK(records[0].line == 1);
      CHECK(records[0].end_offset == 8);
      CHECK(records[0].raw == "{\"a\":1}");
      CHECK(records[1].line == 3);
      CHECK(records[1].raw == "{\"b\":\"x\"}");
      CHECK(records[1].data.get_string("b") == "x");
      CHECK(records[1].end_offset == 21);
      CHECK(records[2].line == 5);
      CHECK(records[2].end_offset == input.size());
      CHECK(records[2].data.get_bool("c"));
    }
  }

  TEST_CASE("an incomplete line waits for more bytes") {
    NdjsonDecoder decoder;
    std::vector<DecodedRecord> out;
    decoder.feed("{\"a\":", out);
    CHECK(out.empty());
    decoder.feed("1}\n{\"b\"", out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].data.get_int("a") == 1);
    CHECK(decoder.offset() == 12);
  }

  TEST_CASE("malformed lines are errors with their line number; the rest goes on") {
    auto records = ndjson_all("{\"a\":1}\n[1,2]\nnot json\n{\"a\":1,\"a\":2}\n{\"ok\":\"\xE4\xBD\xA0\"}\n{\"bad\":\"\xFF\"}\n", 7);
    REQUIRE(records.size() == 6);
    CHECK(records[0].ok());
    CHECK(records[1].error == "not a JSON object");
    CHECK(records[1].line == 2);
    CHECK(records[2].error.find("not JSON") == 0);
    CHECK(records[2].raw == "not json");
    CHECK(records[3].error.find("duplicate") != std::string::npos);
    CHECK(records[4].ok());
    CHECK(records[4].data.get_string("ok") == "\xE4\xBD\xA0");
    CHECK(records[5].error == "not valid UTF-8");
    CHECK(records[5].line == 6);
  }

  TEST_CASE("a BOM at the start is skipped, not elsewhere") {
    auto records = ndjson_all("\xEF\xBB\xBF{\"a\":1}\n\xEF\xBB\xBF{\"a\":2}\n", 2);
    REQUIRE(records.size() == 2);
    CHECK(records[0].ok());
    CHECK_FALSE(records[1].ok());
  }

  TEST_CASE("an over-long line is an error record and memory stays bounded") {
    NdjsonOptions options;
    options.max_line_bytes = 32;
    std::string big = "{\"x\":\"" + std::string(5000, 'a') + "\"}";
    const std::string input = "{\"a\":1}\n" + big + "\n{\"a\":3}\n";
    for (std::size_t chunk : {1u, 10u, 4096u, 100000u}) {
      auto records = ndjson_all(input, chunk, options);
      REQUIRE(records.size() == 3);
      CHECK(records[0].ok());
      CHECK(records[1].error == "line longer than 32 bytes");
      CHECK(records[1].line == 2);
      CHECK(records[1].raw.size() <= 1024 + 3);
      CHECK(records[1].end_offset == 8 + big.size() + 1);
      CHECK(records[2].ok());
      CHECK(records[2].line == 3);
    }
  }

  TEST_CASE("deletion form: _op is removed and marks the record") {
    auto records = ndjson_all("{\"id\":\"1\",\"_op\":\"delete\"}\n{\"id\":\"2\",\"_op\":\"upsert\"}\n{\"id\":\"3\",\"_op\":\"drop\"}\n", 64);
    REQUIRE(records.size() == 3);
    CHECK(records[0].is_delete);
    CHECK(records[0].data.find("_op") == nullptr);
    CHECK(json::serialize(records[0].data) == "{\"id\":\"1\"}");
    CHECK_FALSE(records[1].is_delete);
    CHECK(records[1].data.find("_op") == nullptr);
    CHECK(records[2].error.find("_op must be") == 0);
  }

  TEST_CASE("resume from a point keeps offsets and line numbers") {
    const std::string input = "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n";
    auto first = ndjson_all(input, 100);
    REQUIRE(first.size() == 3);
    NdjsonDecoder decoder;
    decoder.reposition({first[0].end_offset, first[0].end_line});
    std::vector<DecodedRecord> out;
    decoder.feed(std::string_view(input).substr(first[0].end_offset), out);
    decoder.finish(out);
    REQUIRE(out.size() == 2);
    CHECK(out[0].line == 2);
    CHECK(out[0].end_offset == first[1].end_offset);
    CHECK(out[1].data.get_int("a") == 3);
  }
}

TEST_SUITE("core::CsvDecoder") {
  TEST_CASE("header, quoted fields, doubled quotes, embedded newlines, CRLF, at every chunk size") {
    const std::string input =
        "id,name,note\r\n"
        "1,\"Zhang, San\",\"say \"\"hi\"\"\"\r\n"
        "2,李四,\"two\nlines\"\r\n"
        "\r\n"
        "3,,\"\"";
    for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
      auto records = csv_all(input, chunk);
      REQUIRE(records.size() == 3);
      CHECK(records[0].ok());
      CHECK(records[0].line == 2);
      CHECK(json::serialize(records[0].data) == R"({"id":"1","name":"Zhang, San","note":"say \"hi\""})");
      CHECK(records[0].raw == "1,\"Zhang, San\",\"say \"\"hi\"\"\"");
      CHECK(records[1].line == 3);
      CHECK(records[1].end_line == 4);
      CHECK(records[1].data.get_string("note") == "two\nlines");
      CHECK(records[1].data.get_string("name") == "李四");
      CHECK(records[1].raw == "2,李四,\"two\nlines\"");
      // empty unquoted → null; quoted empty → ""
      CHECK(json::serialize(records[2].data) == R"({"id":"3","name":null,"note":""})");
      CHECK(records[2].line == 6);
      CHECK(records[2].end_offset == input.size());
    }
  }

  TEST_CASE("a BOM before the header is ignored, even before a quoted name") {
    std::string fatal;
    auto records = csv_all("\xEF\xBB\xBF\"id\",v\n1,2\n", 1, {}, &fatal);
    CHECK(fatal.empty());
    REQUIRE(records.size() == 1);
    CHECK(records[0].data.get_string("id") == "1");
  }

  TEST_CASE("wrong column counts, stray quotes and bad UTF-8 are row errors; the rest goes on") {
    const std::string input = "a,b\n1\n1,2,3\nx\"y,2\n\"x\"y,2\n1,\"\xC3\x28\"\n\"open,2\n";
    auto records = csv_all(input, 3);
    REQUIRE(records.size() == 6);
    CHECK(records[0].error == "row has 1 fields, the header has 2");
    CHECK(records[0].line == 2);
    CHECK(records[1].error == "row has 3 fields, the header has 2");
    CHECK(records[2].error == "a quote inside an unquoted field");
    CHECK(records[3].error == "text after a closing quote");
    CHECK(records[4].error == "not valid UTF-8");
    CHECK(records[4].line == 6);
    CHECK(records[5].error == "unterminated quoted field");
    CHECK(records[5].line == 7);
  }

  TEST_CASE("a bad header makes the input unreadable") {
    std::string fatal;
    csv_all("a,\xFF\n1,2\n", 4, {}, &fatal);
    CHECK(fatal == "CSV header (line 1): not valid UTF-8");
    csv_all("a,a\n1,2\n", 4, {}, &fatal);
    CHECK(fatal == "CSV header (line 1): column name \"a\" appears twice");
    csv_all("a,,b\n", 4, {}, &fatal);
    CHECK(fatal == "CSV header (line 1): column 2 has no name");
    csv_all(std::string("\x7f" "ELF\0\0\x01,x\n", 10), 4, {}, &fatal);
    CHECK(fatal == "CSV header (line 1): NUL byte (binary data?)");
    auto none = csv_all("", 4, {}, &fatal);
    CHECK(none.empty());
    CHECK(fatal.empty());
  }

  TEST_CASE("values are typed by the catalog item types") {
    CsvOptions options;
    options.item_type = [](std::string_view column) -> char {
      if (column == "amount") return 'Y';
      if (column == "count") return 'I';
      if (column == "active") return 'L';
      if (column == "code") return 'C';
      return 0;
    };
    auto records = csv_all("code,amount,count,active,extra\n007,12.50,3,true,x\n008,,,0,\n009,1e3,-0,FALSE,\"\"\n"
                           "010,12,5.0,1,yes\n011,1.2.3,1,1,\n012,1,2,maybe,\n", 5, options);
    REQUIRE(records.size() == 6);
    CHECK(json::serialize(records[0].data) == R"({"code":"007","amount":12.50,"count":3,"active":true,"extra":"x"})");
    CHECK(json::serialize(records[1].data) == R"({"code":"008","amount":null,"count":null,"active":false,"extra":null})");
    CHECK(json::serialize(records[2].data) == R"({"code":"009","amount":1e3,"count":-0,"active":false,"extra":""})");
    CHECK(records[3].error == "column \"count\": \"5.0\" is not an integer" );
    CHECK(records[4].error == "column \"amount\": \"1.2.3\" is not a number");
    CHECK(records[5].error == "column \"active\": \"maybe\" is not a boolean (true/false/1/0)");
  }

  TEST_CASE("deletion form column _op") {
    auto records = csv_all("id,_op\n1,delete\n2,\n3,upsert\n4,remove\n", 64);
    REQUIRE(records.size() == 4);
    CHECK(records[0].is_delete);
    CHECK(json::serialize(records[0].data) == R"({"id":"1"})");
    CHECK_FALSE(records[1].is_delete);
    CHECK(json::serialize(records[1].data) == R"({"id":"2"})");
    CHECK_FALSE(records[2].is_delete);
    CHECK(records[3].error.find("_op must be") == 0);
  }

  TEST_CASE("an over-long row is an error and decoding goes on after it") {
    CsvOptions options;
    options.max_record_bytes = 16;
    auto records = csv_all("a,b\n1,\"" + std::string(100, 'x') + "\n,\"\n2,3\n", 7, options);
    REQUIRE(records.size() == 2);
    CHECK(records[0].error == "row longer than 16 bytes");
    CHECK(records[0].line == 2);
    CHECK(records[1].ok());
    CHECK(records[1].line == 4);
  }

  TEST_CASE("resume after the header from a row boundary") {
    const std::string input = "id,v\n1,a\n2,\"b\nc\"\n3,d\n";
    auto all = csv_all(input, 100);
    REQUIRE(all.size() == 3);
    CsvDecoder decoder;
    std::vector<DecodedRecord> out;
    decoder.feed(std::string_view(input).substr(0, 6), out);  // the header and a bit more
    REQUIRE(decoder.header_done());
    out.clear();
    decoder.reposition({all[1].end_offset, all[1].end_line});
    decoder.feed(std::string_view(input).substr(all[1].end_offset), out);
    decoder.finish(out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].line == 5);
    CHECK(out[0].data.get_string("id") == "3");
    CHECK(out[0].end_offset == input.size());
  }
}
