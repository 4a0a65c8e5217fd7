// Checks one record against its resource's declared items before it is queued (platform-api.md
// §3.3, §4; domain.md Art. 13, 15, 17, 25). This is the intake hot path: a RecordChecker compiles
// the resource once, and check() reuses the caller's result object so a steady stream of records
// allocates nothing beyond the key text.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/json.hpp"
#include "core/catalog/resource.hpp"

namespace xnode::catalog {

enum class RecordOp { upsert, remove };  // wire codes "upsert" and "delete"

std::string_view op_code(RecordOp op);
std::optional<RecordOp> op_from_code(std::string_view code);

enum class Verdict {
  accepted,    // queue it: `key` and the stripped data are ready
  rejected,    // quarantine it with `reason`
  not_shared,  // the resource's share.type is none: the record never leaves the node
};

struct CheckResult {
  Verdict verdict = Verdict::rejected;
  std::string key;           // §3.3 key text (accepted only)
  std::size_t stripped = 0;  // undeclared members removed from the data (accepted only)
  std::string reason;        // "<item>: <rule>" (rejected, not_shared)
};

class RecordChecker {
 public:
  explicit RecordChecker(const Resource& resource);

  // `data` is the record's data object. On acceptance, members that are not declared items are
  // removed from it in place (for a delete: every member that is not a key item), so that only
  // declared data travels. On rejection `data` is left as it came, for the quarantine.
  // Upserts: every `required` and `key` item present and non-null, every value of its item's
  // form. Deletes carry the key items only, and only those are checked.
  void check(RecordOp op, json::Value& data, CheckResult& out) const;
  CheckResult check(RecordOp op, json::Value& data) const;

  const std::string& resource_code() const { return m_code; }
  bool shared() const { return m_shared; }

 private:
  struct CompiledItem {
    std::string name;
    ItemType type = ItemType::C;
    std::size_t max_length = 0;  // code points; 0 = no limit
    IdentifierKind identifier = IdentifierKind::none;
    bool key = false;
    bool required = false;
  };

  std::size_t find_item(std::string_view name, std::size_t hint) const;
  bool check_value(const CompiledItem& item, const json::Value& value, std::string& reason) const;
  bool append_key_part(const CompiledItem& item, const json::Value& value, std::string& key,
                       std::string& reason) const;
  void reject(CheckResult& out, const CompiledItem& item, std::string_view rule) const;

  std::string m_code;
  bool m_shared = true;
  std::vector<CompiledItem> m_items;
};

// Number of Unicode code points in valid UTF-8 text.
std::size_t utf8_length(std::string_view text);
// Standard base64 with padding (the empty string included).
bool valid_base64(std::string_view text);

}  // namespace xnode::catalog
