#include "app/quarantine_recheck.hpp"

#include "core/catalog/record_checker.hpp"
#include "core/catalog/record_wire.hpp"
#include "core/intake/ndjson_decoder.hpp"

namespace xnode::app {

namespace {

Recheck stays(std::string reason) {
  Recheck r;
  r.reason = std::move(reason);
  return r;
}

}  // namespace

Recheck recheck_quarantined(const io::QuarantineRecord& entry, const catalog::Slice& slice,
                            const std::vector<config::SourceConfig>& sources, TimePoint now) {
  std::string code = entry.stream;
  if (code.empty())
    for (const auto& s : sources)
      if (s.name == entry.source) code = s.resource;
  if (code.empty()) return stays("source " + entry.source + " is not configured: no resource to check the record against");
  const catalog::Resource* resource = slice.find(code);
  if (!resource) return stays("resource " + code + " is not in the catalog slice");

  catalog::RecordOp op = catalog::RecordOp::upsert;
  json::Value data;
  std::string at = format_rfc3339(now);
  if (entry.source == "platform") {
    auto line = json::parse(entry.content);
    if (!line || !line->is_object()) return stays("the kept wire line is not a JSON object: it cannot be retried");
    const std::string op_text = line->get_string("op", "upsert");
    if (op_text == "delete") op = catalog::RecordOp::remove;
    else if (op_text != "upsert") return stays("the kept wire line has an unknown op '" + op_text + "'");
    if (!line->get_string("at").empty()) at = line->get_string("at");
    if (const json::Value* d = line->find("data")) data = *d;
    else if (op == catalog::RecordOp::remove && !line->get_string("key").empty()) {
      // A deletion sent by key alone: nothing to check but the key it names.
      Recheck r;
      r.passed = true;
      r.stream = code;
      catalog::build_tail(r.tail, op, line->get_string("key"), at, nullptr);
      return r;
    } else {
      return stays("the kept wire line has no data");
    }
  } else {
    intake::DecodedRecord rec;
    intake::decode_ndjson_line(entry.content, rec, /*deletion_form=*/true);
    if (!rec.ok())
      return stays("the kept content is not an NDJSON record (" + rec.error +
                   "); a malformed line or a CSV row cannot be retried: correct it in the source and send it again");
    if (rec.is_delete) op = catalog::RecordOp::remove;
    data = std::move(rec.data);
  }

  const catalog::RecordChecker checker(*resource);
  catalog::CheckResult result;
  checker.check(op, data, result);
  switch (result.verdict) {
    case catalog::Verdict::accepted: {
      Recheck r;
      r.passed = true;
      r.stream = code;
      catalog::build_tail(r.tail, op, result.key, at, op == catalog::RecordOp::remove ? nullptr : &data);
      return r;
    }
    case catalog::Verdict::rejected:
      return stays(result.reason);
    case catalog::Verdict::not_shared:
      return stays("resource " + code + " is not shared (share.type none): its records stay at the node");
  }
  return stays("unknown verdict");
}

}  // namespace xnode::app
