#include "core/catalog/validate.hpp"

#include <algorithm>
#include <set>

#include "core/base/identifiers.hpp"
#include "core/base/time.hpp"

namespace xnode::catalog {

namespace {

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool credit_code_char(char c) {
  if (c >= '0' && c <= '9') return true;
  return c >= 'A' && c <= 'Z' && c != 'I' && c != 'O' && c != 'S' && c != 'V' && c != 'Z';
}

constexpr std::string_view kCodeForm = "must have the form <classification code>/<provider code>-<5 digits>";

class Checker {
 public:
  Checker(const Resource& r, std::string_view label, Problems& out)
      : m_code(r.code.empty() ? std::string(label) : r.code), m_out(out) {}
  void operator()(std::string field, std::string reason) {
    m_out.push_back(Problem{m_code, std::move(field), std::move(reason)});
  }

 private:
  std::string m_code;
  Problems& m_out;
};

void check_items(const Resource& r, Checker& problem) {
  if (r.items.empty()) {
    problem("items", "at least one item is required");
    return;
  }
  std::set<std::string_view> names;
  bool has_key = false;
  for (std::size_t i = 0; i < r.items.size(); ++i) {
    const Item& item = r.items[i];
    const std::string at = "items[" + std::to_string(i) + "]";
    if (item.name.empty())
      problem(at + ".name", "required");
    else if (!valid_item_name(item.name))
      problem(at + ".name", "must match [a-z][a-z0-9_]*");
    else if (!names.insert(item.name).second)
      problem(at + ".name", "duplicate item name '" + item.name + "'");
    if (!item.type) problem(at + ".type", "required");
    if (item.length && *item.length <= 0) problem(at + ".length", "must be a positive integer");
    if (item.identifier != IdentifierKind::none && item.type && *item.type != ItemType::C)
      problem(at + ".identifier", "identifier items must be of type C");
    if (item.sensitive && item.purpose.empty())
      problem(at + ".purpose", "sensitive items need a purpose (data minimisation)");
    if (item.classified)
      problem(at + ".classified", "classified items are refused: no classified data on the extranet");
    has_key = has_key || item.key;
  }
  if (!has_key) problem("items", "at least one item must be a key");
}

void check_code(const Resource& r, Checker& problem) {
  if (r.code.empty()) {
    problem("code", "required");
    return;
  }
  auto parts = parse_resource_code(r.code);
  if (!parts) {
    problem("code", std::string(kCodeForm));
    return;
  }
  const std::string expected_class = classification_code(r.classification);
  if (!expected_class.empty() && parts->classification != expected_class)
    problem("code", "classification part '" + std::string(parts->classification) +
                        "' does not match classification (expected " + expected_class + ")");
  if (!r.provider.code.empty() && parts->provider != r.provider.code)
    problem("code", "provider part '" + std::string(parts->provider) + "' does not match provider.code " +
                        r.provider.code);
}

}  // namespace

std::optional<ResourceCodeParts> parse_resource_code(std::string_view code) {
  const auto slash = code.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view cls = code.substr(0, slash);
  std::string_view rest = code.substr(slash + 1);
  if (cls.size() < 6 || !all_digits(cls) || cls[0] < '1' || cls[0] > '3') return std::nullopt;
  if (rest.size() != 18 + 1 + 5 || rest[18] != '-') return std::nullopt;
  std::string_view provider = rest.substr(0, 18);
  std::string_view serial = rest.substr(19);
  if (!std::all_of(provider.begin(), provider.end(), credit_code_char) || !all_digits(serial))
    return std::nullopt;
  return ResourceCodeParts{cls, provider, serial};
}

bool valid_item_name(std::string_view name) {
  if (name.empty() || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

Problems validate(const Resource& r, std::string_view index_label) {
  Problems out;
  Checker problem(r, index_label, out);
  check_code(r, problem);
  if (r.name.empty()) problem("name", "required");

  const Classification& c = r.classification;
  if (!c.kind) problem("classification.class", "required");
  if (c.item.empty())
    problem("classification.item", "required");
  else if (c.item.size() != 2 || !all_digits(c.item))
    problem("classification.item", "must be 2 digits");
  if (c.sub.empty())
    problem("classification.sub", "required");
  else if (c.sub.size() != 3 || !all_digits(c.sub))
    problem("classification.sub", "must be 3 digits");
  if (!all_digits(c.detail)) problem("classification.detail", "must be digits or empty");

  if (r.provider.name.empty()) problem("provider.name", "required");
  if (r.provider.code.empty())
    problem("provider.code", "required");
  else if (!identifiers::valid_uscc(r.provider.code))
    problem("provider.code", "not a valid unified social credit code (GB 32100)");

  if (!r.format.category) problem("format.category", "required");

  check_items(r, problem);

  const Share& s = r.share;
  if (!s.type) {
    problem("share.type", "required");
  } else if (*s.type == ShareType::none) {
    if (s.legal_basis.empty()) problem("share.legal_basis", "share type none needs a legal basis");
    if (r.open.type && *r.open.type != OpenType::closed)
      problem("open.type", "share type none requires open.type closed");
  } else {
    if (*s.type == ShareType::conditional && s.condition.empty())
      problem("share.condition", "conditional sharing needs a condition");
    if (!s.method) problem("share.method", "required unless share.type is none");
    if (!s.method_type) problem("share.method_type", "required unless share.type is none");
  }

  if (!r.open.type)
    problem("open.type", "required");
  else if (*r.open.type == OpenType::conditional && r.open.condition.empty())
    problem("open.condition", "conditional opening needs a condition");

  if (!r.update_cycle) problem("update_cycle", "required");
  if (!r.published.empty() && !valid_date(r.published))
    problem("published", "must be a date YYYY-MM-DD");
  for (std::size_t i = 0; i < r.related.size(); ++i)
    if (!parse_resource_code(r.related[i]))
      problem("related[" + std::to_string(i) + "]", "'" + r.related[i] + "' " + std::string(kCodeForm));
  return out;
}

Problems validate_slice(const Slice& slice, std::span<const std::string> index_labels) {
  Problems out;
  std::set<std::string_view> codes;
  for (std::size_t i = 0; i < slice.resources.size(); ++i) {
    const Resource& r = slice.resources[i];
    std::string label = i < index_labels.size() ? index_labels[i] : "#" + std::to_string(i);
    Problems p = validate(r, label);
    out.insert(out.end(), p.begin(), p.end());
    if (!r.code.empty() && !codes.insert(r.code).second)
      out.push_back(Problem{r.code, "code", "duplicate resource code"});
  }
  return out;
}

void append_rule_problems(Problems& form_problems, const Problems& rule_problems) {
  const std::size_t form_count = form_problems.size();
  for (const auto& p : rule_problems) {
    bool reported = std::any_of(form_problems.begin(), form_problems.begin() + static_cast<std::ptrdiff_t>(form_count),
                                [&](const Problem& f) { return f.code == p.code && f.field == p.field; });
    if (!reported) form_problems.push_back(p);
  }
}

}  // namespace xnode::catalog
