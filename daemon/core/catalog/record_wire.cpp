#include "core/catalog/record_wire.hpp"

namespace xnode::catalog {

void build_tail(std::string& out, RecordOp op, std::string_view key, std::string_view at, const json::Value* data) {
  out += op == RecordOp::upsert ? R"("op":"upsert","key":)" : R"("op":"delete","key":)";
  json::quote_to(out, key);
  out += R"(,"at":)";
  json::quote_to(out, at);
  if (data && !data->is_null()) {
    out += R"(,"data":)";
    json::serialize_to(out, *data);
  }
  out += '}';
}

void build_tail(std::string& out, RecordOp op, std::string_view key, TimePoint at, const json::Value* data) {
  build_tail(out, op, key, format_rfc3339(at), data);
}

}  // namespace xnode::catalog
