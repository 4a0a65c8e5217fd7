#include "core/catalog/record_checker.hpp"

#include <algorithm>

#include "core/base/identifiers.hpp"
#include "core/base/time.hpp"

namespace xnode::catalog {

namespace {
// Records with up to this many declared items are checked with a table on the stack.
constexpr std::size_t kInlineItems = 64;
constexpr std::size_t kNotFound = static_cast<std::size_t>(-1);

const char* form_rule(ItemType type) {
  switch (type) {
    case ItemType::C: return "must be a string (type C)";
    case ItemType::M: return "must be a string (type M)";
    case ItemType::N: return "must be a number (type N)";
    case ItemType::Y: return "must be a number (type Y)";
    case ItemType::B: return "must be a number (type B)";
    case ItemType::F: return "must be a number (type F)";
    case ItemType::I: return "must be an integer (type I)";
    case ItemType::D: return "must be a date YYYY-MM-DD (type D)";
    case ItemType::T: return "must be an RFC 3339 date-time (type T)";
    case ItemType::L: return "must be true or false (type L)";
    case ItemType::G: return "must be base64 text (type G)";
  }
  return "has an unknown type";
}
}  // namespace

std::string_view op_code(RecordOp op) { return op == RecordOp::upsert ? "upsert" : "delete"; }

std::optional<RecordOp> op_from_code(std::string_view code) {
  if (code == "upsert") return RecordOp::upsert;
  if (code == "delete") return RecordOp::remove;
  return std::nullopt;
}

std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

bool valid_base64(std::string_view text) {
  if (text.size() % 4 != 0) return false;
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  for (std::size_t i = 0; i + padding < text.size(); ++i) {
    const char c = text[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
      return false;
  }
  return true;
}

RecordChecker::RecordChecker(const Resource& resource) : m_code(resource.code), m_shared(resource.shared()) {
  m_items.reserve(resource.items.size());
  for (const auto& item : resource.items) {
    CompiledItem compiled;
    compiled.name = item.name;
    compiled.type = item.type.value_or(ItemType::C);
    if (item.length && *item.length > 0 && (compiled.type == ItemType::C || compiled.type == ItemType::M))
      compiled.max_length = static_cast<std::size_t>(*item.length);
    compiled.identifier = item.identifier;
    compiled.key = item.key;
    compiled.required = item.required || item.key;
    m_items.push_back(std::move(compiled));
  }
}

// Sources usually write members in catalog order, so the search starts where the last one
// matched: a record in order costs one comparison a member.
std::size_t RecordChecker::find_item(std::string_view name, std::size_t hint) const {
  const std::size_t n = m_items.size();
  for (std::size_t step = 0; step < n; ++step) {
    std::size_t i = hint + step;
    if (i >= n) i -= n;
    if (m_items[i].name == name) return i;
  }
  return kNotFound;
}

bool RecordChecker::check_value(const CompiledItem& item, const json::Value& value, std::string& reason) const {
  bool form_ok = false;
  switch (item.type) {
    case ItemType::C:
    case ItemType::M:
      form_ok = value.is_string();
      break;
    case ItemType::N:
    case ItemType::Y:
    case ItemType::B:
    case ItemType::F:
      form_ok = value.is_number();
      break;
    case ItemType::I:
      form_ok = value.is_integer();
      break;
    case ItemType::D:
      form_ok = value.is_string() && valid_date(value.as_string());
      break;
    case ItemType::T:
      form_ok = value.is_string() && parse_rfc3339(value.as_string()).has_value();
      break;
    case ItemType::L:
      form_ok = value.is_bool();
      break;
    case ItemType::G:
      form_ok = value.is_string() && valid_base64(value.as_string());
      break;
  }
  if (!form_ok) {
    reason = form_rule(item.type);
    return false;
  }
  if (item.max_length != 0) {
    const std::string& text = value.as_string();
    // A code point takes at least one byte: short texts need no counting.
    if (text.size() > item.max_length && utf8_length(text) > item.max_length) {
      reason = "longer than " + std::to_string(item.max_length) + " characters";
      return false;
    }
  }
  switch (item.identifier) {
    case IdentifierKind::none:
      break;
    case IdentifierKind::citizen_id:
      if (!identifiers::valid_citizen_id(value.as_string())) {
        reason = "not a valid citizen ID (GB 11643: structure, birth date, check character)";
        return false;
      }
      break;
    case IdentifierKind::uscc:
      if (!identifiers::valid_uscc(value.as_string())) {
        reason = "not a valid unified social credit code (GB 32100: alphabet, check character)";
        return false;
      }
      break;
  }
  return true;
}

bool RecordChecker::append_key_part(const CompiledItem& item, const json::Value& value, std::string& key,
                                    std::string& reason) const {
  if (value.is_bool()) {
    key += value.as_bool() ? "true" : "false";
    return true;
  }
  const std::string& text = value.as_string();  // a string, or a number's text as written
  if (value.is_string()) {
    if (text.empty()) {
      reason = "key item is empty";
      return false;
    }
    if (text.find('|') != std::string::npos) {
      reason = "key value contains '|' (the key separator)";
      return false;
    }
  }
  (void)item;
  key += text;
  return true;
}

void RecordChecker::reject(CheckResult& out, const CompiledItem& item, std::string_view rule) const {
  out.verdict = Verdict::rejected;
  out.key.clear();
  out.stripped = 0;
  out.reason.assign(item.name).append(": ").append(rule);
}

void RecordChecker::check(RecordOp op, json::Value& data, CheckResult& out) const {
  out.key.clear();
  out.reason.clear();
  out.stripped = 0;
  if (!m_shared) {
    out.verdict = Verdict::not_shared;
    out.reason = "not_shared: resource " + m_code + " has share.type none; its records are never sent";
    return;
  }
  if (!data.is_object()) {
    out.verdict = Verdict::rejected;
    out.reason = "record data must be a JSON object";
    return;
  }
  const std::size_t n = m_items.size();
  const json::Value* inline_found[kInlineItems];
  std::vector<const json::Value*> heap_found;
  const json::Value** found = inline_found;
  if (n > kInlineItems) {
    heap_found.resize(n);
    found = heap_found.data();
  }
  std::fill(found, found + n, nullptr);

  const bool is_delete = op == RecordOp::remove;
  std::size_t to_strip = 0;
  std::size_t hint = 0;
  for (const auto& member : data.as_object()) {
    const std::size_t i = find_item(member.first, hint);
    if (i == kNotFound || (is_delete && !m_items[i].key)) {
      ++to_strip;
      continue;
    }
    found[i] = &member.second;
    hint = i + 1 < n ? i + 1 : 0;
  }

  std::string rule;
  for (std::size_t i = 0; i < n; ++i) {
    const CompiledItem& item = m_items[i];
    if (is_delete && !item.key) continue;
    const json::Value* value = found[i];
    if (!value || value->is_null()) {
      if (item.required) {
        const char* what = item.key ? "key item" : "required item";
        reject(out, item, std::string(what) + (value ? " is null" : " is missing"));
        return;
      }
      continue;
    }
    if (!check_value(item, *value, rule)) {
      reject(out, item, rule);
      return;
    }
  }

  // The key, in catalog order (found[] follows the catalog, not the record).
  bool first = true;
  for (std::size_t i = 0; i < n; ++i) {
    const CompiledItem& item = m_items[i];
    if (!item.key) continue;
    if (!first) out.key += '|';
    first = false;
    if (!append_key_part(item, *found[i], out.key, rule)) {
      reject(out, item, rule);
      return;
    }
  }

  if (to_strip != 0) {
    auto& members = data.as_object();
    members.erase(std::remove_if(members.begin(), members.end(),
                                 [&](const json::Member& m) {
                                   const std::size_t i = find_item(m.first, 0);
                                   return i == kNotFound || (is_delete && !m_items[i].key);
                                 }),
                  members.end());
  }
  out.stripped = to_strip;
  out.verdict = Verdict::accepted;
}

CheckResult RecordChecker::check(RecordOp op, json::Value& data) const {
  CheckResult out;
  check(op, data, out);
  return out;
}

}  // namespace xnode::catalog
