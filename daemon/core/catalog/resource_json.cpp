#include "core/catalog/resource_json.hpp"

#include <algorithm>

#include "core/catalog/validate.hpp"

namespace xnode::catalog {

namespace {

template <typename E>
json::Value enum_value(const std::optional<E>& e) {
  return e ? json::Value(std::string(code_of(*e))) : json::Value();
}

json::Value item_to_json(const Item& item) {
  json::Value v = json::Value::object();
  v.set("name", item.name);
  if (!item.title.empty()) v.set("title", item.title);
  if (item.type) v.set("type", std::string(code_of(*item.type)));
  if (item.length) v.set("length", *item.length);
  if (item.key) v.set("key", true);
  if (item.identifier != IdentifierKind::none) v.set("identifier", std::string(code_of(item.identifier)));
  if (item.required) v.set("required", true);
  if (item.sensitive) v.set("sensitive", true);
  if (!item.purpose.empty()) v.set("purpose", item.purpose);
  if (item.classified) v.set("classified", true);
  return v;
}

// Reads the members of one JSON object, remembering which were read so that the rest can be
// reported as unknown (the catalog is a contract: a misspelt member must not pass silently).
class ObjectReader {
 public:
  ObjectReader(const json::Value& object, std::string prefix, const std::string& code, Problems& problems,
               const ReadOptions& options)
      : m_object(object), m_prefix(std::move(prefix)), m_code(code), m_problems(problems), m_options(options) {}

  bool is_object() const { return m_object.is_object(); }

  std::string path(std::string_view member) const {
    return m_prefix.empty() ? std::string(member) : m_prefix + "." + std::string(member);
  }

  void problem(std::string field, std::string reason) {
    m_problems.push_back(Problem{m_code, std::move(field), std::move(reason)});
  }

  // Present and not null.
  const json::Value* member(std::string_view name) {
    m_known.push_back(name);
    const json::Value* v = m_object.find(name);
    return (v && !v->is_null()) ? v : nullptr;
  }

  void string(std::string_view name, std::string& out) {
    const json::Value* v = member(name);
    if (!v) return;
    if (v->is_string() || (m_options.lenient_scalars && v->is_number()))
      out = v->as_string();
    else
      problem(path(name), "must be a string");
  }

  void boolean(std::string_view name, bool& out) {
    const json::Value* v = member(name);
    if (!v) return;
    if (v->is_bool())
      out = v->as_bool();
    else
      problem(path(name), "must be true or false");
  }

  void integer(std::string_view name, std::optional<std::int64_t>& out) {
    const json::Value* v = member(name);
    if (!v) return;
    if (auto i = v->as_int())
      out = *i;
    else
      problem(path(name), "must be an integer");
  }

  template <typename E>
  void enumeration(std::string_view name, std::optional<E>& out) {
    const json::Value* v = member(name);
    if (!v) return;
    if (v->is_string())
      if (auto e = enum_from_text<E>(v->as_string())) {
        out = e;
        return;
      }
    std::string shown = v->is_string() ? "'" + v->as_string() + "'" : json::serialize(*v);
    problem(path(name), "unknown value " + shown + "; expected one of: " + enum_choices<E>());
  }

  void finish() {
    if (!m_object.is_object()) return;
    for (const auto& [name, value] : m_object.as_object())
      if (std::find(m_known.begin(), m_known.end(), name) == m_known.end())
        problem(path(name), "unknown member");
  }

 private:
  const json::Value& m_object;
  std::string m_prefix;
  const std::string& m_code;
  Problems& m_problems;
  const ReadOptions& m_options;
  std::vector<std::string_view> m_known;
};

// A nested object member: absent/null → nothing; not an object → a problem; else read its members.
template <typename Fn>
void nested(ObjectReader& parent, std::string_view name, const std::string& code, Problems& problems,
            const ReadOptions& options, Fn&& read) {
  const json::Value* v = parent.member(name);
  if (!v) return;
  if (!v->is_object()) {
    parent.problem(parent.path(name), "must be an object");
    return;
  }
  ObjectReader reader(*v, parent.path(name), code, problems, options);
  read(reader);
  reader.finish();
}

}  // namespace

json::Value to_json(const Resource& r) {
  json::Value v = json::Value::object();
  v.set("code", r.code);
  v.set("name", r.name);
  json::Value& cls = v.set("classification", json::Value::object());
  cls.set("class", enum_value(r.classification.kind));
  cls.set("item", r.classification.item);
  cls.set("sub", r.classification.sub);
  cls.set("detail", r.classification.detail);
  json::Value& provider = v.set("provider", json::Value::object());
  provider.set("name", r.provider.name);
  provider.set("code", r.provider.code);
  provider.set("unit", r.provider.unit);
  v.set("abstract", r.abstract_text);
  json::Value& format = v.set("format", json::Value::object());
  format.set("category", enum_value(r.format.category));
  format.set("type", r.format.type);
  json::Value& items = v.set("items", json::Value::array());
  for (const auto& item : r.items) items.push_back(item_to_json(item));
  json::Value& share = v.set("share", json::Value::object());
  share.set("type", enum_value(r.share.type));
  share.set("condition", r.share.condition);
  share.set("legal_basis", r.share.legal_basis);
  if (r.share.method) share.set("method", std::string(code_of(*r.share.method)));
  if (r.share.method_type) share.set("method_type", std::string(code_of(*r.share.method_type)));
  share.set("usage", r.share.usage);
  json::Value& open = v.set("open", json::Value::object());
  open.set("type", enum_value(r.open.type));
  open.set("condition", r.open.condition);
  v.set("update_cycle", enum_value(r.update_cycle));
  if (!r.published.empty()) v.set("published", r.published);
  json::Value& related = v.set("related", json::Value::array());
  for (const auto& code : r.related) related.push_back(code);
  return v;
}

json::Value to_json(const Slice& slice) {
  json::Value out = json::Value::array();
  for (const auto& r : slice.resources) out.push_back(to_json(r));
  return out;
}

Resource resource_from_json(const json::Value& value, std::string_view index_label, Problems& problems,
                            const ReadOptions& options) {
  Resource r;
  std::string code(index_label);
  if (const json::Value* c = value.find("code"); c && c->is_string() && !c->as_string().empty())
    code = c->as_string();
  if (!value.is_object()) {
    problems.push_back(Problem{code, "", "a resource must be an object"});
    return r;
  }
  ObjectReader top(value, "", code, problems, options);
  top.string("code", r.code);
  top.string("name", r.name);
  nested(top, "classification", code, problems, options, [&](ObjectReader& o) {
    o.enumeration("class", r.classification.kind);
    o.string("item", r.classification.item);
    o.string("sub", r.classification.sub);
    o.string("detail", r.classification.detail);
  });
  nested(top, "provider", code, problems, options, [&](ObjectReader& o) {
    o.string("name", r.provider.name);
    o.string("code", r.provider.code);
    o.string("unit", r.provider.unit);
  });
  top.string("abstract", r.abstract_text);
  nested(top, "format", code, problems, options, [&](ObjectReader& o) {
    o.enumeration("category", r.format.category);
    o.string("type", r.format.type);
  });
  if (const json::Value* items = top.member("items")) {
    if (!items->is_array()) {
      top.problem("items", "must be a list");
    } else {
      std::size_t index = 0;
      for (const auto& entry : items->as_array()) {
        std::string prefix = "items[" + std::to_string(index++) + "]";
        Item item;
        if (!entry.is_object()) {
          top.problem(prefix, "must be an object");
          r.items.push_back(std::move(item));
          continue;
        }
        ObjectReader o(entry, prefix, code, problems, options);
        o.string("name", item.name);
        o.string("title", item.title);
        o.enumeration("type", item.type);
        o.integer("length", item.length);
        o.boolean("key", item.key);
        o.boolean("required", item.required);
        std::optional<IdentifierKind> identifier;
        o.enumeration("identifier", identifier);
        item.identifier = identifier.value_or(IdentifierKind::none);
        o.boolean("sensitive", item.sensitive);
        o.string("purpose", item.purpose);
        o.boolean("classified", item.classified);
        o.finish();
        r.items.push_back(std::move(item));
      }
    }
  }
  nested(top, "share", code, problems, options, [&](ObjectReader& o) {
    o.enumeration("type", r.share.type);
    o.string("condition", r.share.condition);
    o.string("legal_basis", r.share.legal_basis);
    o.enumeration("method", r.share.method);
    o.enumeration("method_type", r.share.method_type);
    o.string("usage", r.share.usage);
  });
  nested(top, "open", code, problems, options, [&](ObjectReader& o) {
    o.enumeration("type", r.open.type);
    o.string("condition", r.open.condition);
  });
  top.enumeration("update_cycle", r.update_cycle);
  top.string("published", r.published);
  if (const json::Value* related = top.member("related")) {
    if (!related->is_array()) {
      top.problem("related", "must be a list of resource codes");
    } else {
      std::size_t index = 0;
      for (const auto& entry : related->as_array()) {
        if (entry.is_string())
          r.related.push_back(entry.as_string());
        else
          top.problem("related[" + std::to_string(index) + "]", "must be a string");
        ++index;
      }
    }
  }
  top.finish();
  return r;
}

SliceRead slice_from_json(const json::Value& resources) {
  SliceRead out;
  if (!resources.is_array()) {
    out.problems.push_back(Problem{"", "resources", "must be a list"});
    return out;
  }
  std::vector<std::string> labels;
  std::size_t index = 0;
  for (const auto& entry : resources.as_array()) {
    std::string label = "#" + std::to_string(index++);
    out.slice.resources.push_back(resource_from_json(entry, label, out.problems));
    labels.push_back(std::move(label));
  }
  append_rule_problems(out.problems, validate_slice(out.slice, labels));
  out.slice.sort();
  return out;
}

}  // namespace xnode::catalog
