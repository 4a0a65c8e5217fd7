// libFuzzer target: the record checker on arbitrary JSON lines, against the example service-case
// resource (12 items, two identifier items). A line is either a data object (checked as an upsert
// and as a delete) or an envelope {"op": "...", "data": {...}}.
// Invariants checked: an accepted record yields a well-formed wire line whose key and data read back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/base/json.hpp"
#include "core/catalog/loader.hpp"
#include "core/catalog/record_checker.hpp"
#include "core/catalog/record_wire.hpp"

namespace {

// The items of conf/catalog.d/00004-service-cases.yaml (kept here so the target needs no files).
constexpr std::string_view kResource = R"(
code: "201005/11540100MB00000081-00004"
name: 政务服务办件信息
classification: {class: theme, item: "01", sub: "005", detail: ""}
provider: {name: 拉萨市市场监督管理局, code: "11540100MB00000081", unit: 政务服务窗口}
format: {category: service, type: http-json}
items:
  - {name: id, type: I}
  - {name: name, type: C, length: 100, required: true}
  - {name: citizen_id, type: C, length: 18, identifier: citizen_id, sensitive: true, purpose: 办件主体核验}
  - {name: uscc, type: C, length: 18, identifier: uscc}
  - {name: amount, type: Y}
  - {name: ts, type: T, required: true}
  - {name: region_code, type: C, length: 6}
  - {name: region_name, type: C, length: 50}
  - {name: department, type: C, length: 100}
  - {name: service_item, type: C, length: 200}
  - {name: status, type: C, length: 20}
  - {name: serial, type: C, length: 64, key: true}
share: {type: conditional, condition: 协同办理, method: platform, method_type: database}
open: {type: closed}
update_cycle: realtime
)";

const xnode::catalog::RecordChecker& checker() {
  static const xnode::catalog::Slice slice = [] {
    auto load = xnode::catalog::load_slice_text(kResource, "fuzz-resource.yaml");
    if (!load.ok()) std::abort();
    return load.slice;
  }();
  static const xnode::catalog::RecordChecker instance(slice.resources.at(0));
  return instance;
}

void check_and_encode(xnode::catalog::RecordOp op, xnode::json::Value data) {
  using namespace xnode;
  catalog::CheckResult result;
  checker().check(op, data, result);
  if (result.verdict != catalog::Verdict::accepted) {
    if (result.reason.empty()) std::abort();
    return;
  }
  if (result.key.empty() || result.key.find('|') != std::string::npos) std::abort();
  std::string line = R"({"seq":1,)";
  catalog::build_tail(line, op, result.key, "2026-03-23T08:00:00Z", &data);
  auto back = json::parse(line);
  if (!back || back->get_string("key") != result.key) std::abort();
  const json::Value* sent = back->find("data");
  if (!sent || !(*sent == data)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  using namespace xnode;
  auto parsed = json::parse(std::string_view(reinterpret_cast<const char*>(bytes), size));
  if (!parsed) return 0;
  const json::Value& line = *parsed;
  const json::Value* op = line.find("op");
  if (op && op->is_string()) {
    auto kind = catalog::op_from_code(op->as_string());
    const json::Value* data = line.find("data");
    if (kind) check_and_encode(*kind, data ? *data : json::Value());
    return 0;
  }
  check_and_encode(catalog::RecordOp::upsert, line);
  check_and_encode(catalog::RecordOp::remove, line);
  return 0;
}
