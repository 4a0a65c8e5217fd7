#include "core/intake/decoded_record.hpp"

namespace xnode::intake {

std::string apply_op_member(DecodedRecord& record) {
  json::Value* op = record.data.find("_op");
  if (!op) return {};
  std::string reason;
  if (op->is_string() && op->as_string() == "delete") {
    record.is_delete = true;
  } else if (op->is_null() || (op->is_string() && (op->as_string() == "upsert" || op->as_string().empty()))) {
    record.is_delete = false;
  } else {
    std::string shown = op->is_string() ? json::quote(op->as_string()) : json::serialize(*op);
    if (shown.size() > 64) shown = shown.substr(0, 64) + "...";
    reason = "_op must be \"delete\" or \"upsert\" (got " + shown + ")";
  }
  record.data.erase("_op");
  return reason;
}

}  // namespace xnode::intake
