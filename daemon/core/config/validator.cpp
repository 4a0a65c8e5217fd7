#include "core/config/validator.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <stdexcept>

#include "core/base/json.hpp"
#include "core/config/units.hpp"

namespace xnode::config {

namespace {

// A file with thousands of mistakes is better fixed top-down; flooding the log helps nobody.
constexpr std::size_t kMaxDiagnostics = 200;

std::string quote_text(std::string_view text) { return json::quote(text); }

std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return quote_text(node.Scalar());
    default: return "nothing";
  }
}

// "must be …" for a value of the wrong form.
std::string expectation(const KeySpec& key) {
  switch (key.type) {
    case ValueType::string: return "must be a string";
    case ValueType::integer: return "must be an integer";
    case ValueType::boolean: return "must be true or false";
    case ValueType::enumeration: {
      std::string words;
      for (const auto& word : key.words) words += (words.empty() ? "" : ", ") + word;
      return "must be one of " + words;
    }
    case ValueType::size: return "must be a size such as 512MiB, 16KiB or 4096";
    case ValueType::duration: return "must be a duration such as 250ms, 30s, 5m, 2h or 1d";
    case ValueType::path: return "must be a path";
    case ValueType::string_list: return "must be a list of strings";
    case ValueType::string_map: return "must be a mapping of strings to strings";
    case ValueType::object: return "must be a mapping";
    case ValueType::object_list: return "must be a list of mappings";
    case ValueType::driver_settings: return "must be a mapping";
  }
  return "must be valid";
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string unknown_key_rule(const std::string& name, const std::vector<KeySpec>& keys) {
  const KeySpec* best = nullptr;
  std::size_t best_distance = 3;  // suggest only close misspellings
  for (const auto& key : keys) {
    std::size_t distance = edit_distance(name, key.name);
    if (distance < best_distance) {
      best_distance = distance;
      best = &key;
    }
  }
  if (best != nullptr) return "unknown key (did you mean \"" + best->name + "\"?)";
  std::string known;
  for (const auto& key : keys) known += (known.empty() ? "" : ", ") + key.name;
  return "unknown key (known: " + known + ")";
}

std::string index_path(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string position_text(Position p) { return std::to_string(p.line) + ":" + std::to_string(p.column); }

}  // namespace

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

Position position_of(const YAML::Node& node, Position fallback) {
  if (!node.IsDefined()) return fallback;
  YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.line < 0) return fallback;
  return Position{mark.line + 1, mark.column + 1};
}

void Diagnostics::add(Position position, std::string key_path, std::string rule) {
  m_items.push_back(Diagnostic{position, std::move(key_path), std::move(rule)});
}

std::vector<std::string> Diagnostics::format(const std::string& display_name) const {
  std::vector<Diagnostic> sorted = m_items;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.position.line != b.position.line ? a.position.line < b.position.line
                                              : a.position.column < b.position.column;
  });
  std::vector<std::string> lines;
  for (const auto& d : sorted) {
    if (lines.size() == kMaxDiagnostics) {
      lines.push_back(display_name + ": " + std::to_string(sorted.size() - kMaxDiagnostics) +
                      " more errors not shown");
      break;
    }
    Position p = d.position.known() ? d.position : Position{1, 1};
    std::string line = display_name + ":" + position_text(p) + ": ";
    if (!d.key_path.empty()) line += d.key_path + ": ";
    line += d.rule;
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string Validator::resolve_path(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_absolute() || m_base_dir.empty()) return p.lexically_normal().string();
  return (std::filesystem::path(m_base_dir) / p).lexically_normal().string();
}

bool Validator::scalar(const std::string& text, const KeySpec& key, const std::string& path, Position position,
                       SettingValue& out) {
  out.text = text;
  auto fail = [&](std::string rule) {
    m_diagnostics.add(position, path, std::move(rule));
    return false;
  };
  auto broken_limit = [&](auto value, auto parse, auto format) -> std::optional<std::string> {
    if (key.min_text && value < *parse(*key.min_text))
      return "must be at least " + format(*parse(*key.min_text)) + " (got " + text + ")";
    if (key.max_text && value > *parse(*key.max_text))
      return "must be at most " + format(*parse(*key.max_text)) + " (got " + text + ")";
    return std::nullopt;
  };
  switch (key.type) {
    case ValueType::string:
    case ValueType::path:
      if (text.find('\0') != std::string::npos) return fail("must not contain a NUL character");
      if (text.empty()) {
        if (key.is_required) return fail("must not be empty");
        return true;  // an explicitly empty optional value means "off"
      }
      if (key.check) {
        // A value that may hold a credential (a connection string with a password) never reaches
        // stderr or the journal.
        if (auto broken = key.check(text))
          return fail(*broken + (key.is_secret ? std::string(" (value not shown)") : " (got " + quote_text(text) + ")"));
      }
      if (key.type == ValueType::path) out.text = resolve_path(text);
      return true;
    case ValueType::integer: {
      auto value = parse_integer(text);
      if (!value) return fail(expectation(key) + " (got " + quote_text(text) + ")");
      auto parse = [](const std::string& t) { return parse_integer(t); };
      auto format = [](std::int64_t v) { return std::to_string(v); };
      if (auto broken = broken_limit(*value, parse, format)) return fail(*broken);
      out.integer = *value;
      return true;
    }
    case ValueType::boolean:
      // Only the YAML 1.2 words: `yes`/`on`/`y` are YAML 1.1 accidents (think of `country: no`).
      if (text == "true") out.boolean = true;
      else if (text == "false") out.boolean = false;
      else return fail(expectation(key) + " (got " + quote_text(text) + ")");
      return true;
    case ValueType::enumeration:
      if (std::find(key.words.begin(), key.words.end(), text) == key.words.end())
        return fail(expectation(key) + " (got " + quote_text(text) + ")");
      return true;
    case ValueType::size: {
      auto value = parse_size(text);
      if (!value) return fail(expectation(key) + " (got " + quote_text(text) + ")");
      if (auto broken = broken_limit(*value, parse_size, format_size)) return fail(*broken);
      out.bytes = *value;
      return true;
    }
    case ValueType::duration: {
      auto value = parse_duration(text);
      if (!value) return fail(expectation(key) + " (got " + quote_text(text) + ")");
      if (auto broken = broken_limit(*value, parse_duration, format_duration)) return fail(*broken);
      out.duration = *value;
      return true;
    }
    default:
      return fail(expectation(key));
  }
}

SettingValue Validator::default_value(const KeySpec& key, Position where) {
  SettingValue out;
  out.type = key.type;
  out.position = where;
  if (!key.default_text) return out;
  out.is_set = true;
  out.is_default = true;
  if (key.type == ValueType::string_list || key.type == ValueType::string_map ||
      key.type == ValueType::object_list)
    return out;  // collection defaults are empty (`[]`, `{}`)
  Diagnostics schema_errors;
  Validator checker(m_base_dir, m_drivers, schema_errors);
  if (!checker.scalar(*key.default_text, key, key.name, where, out))
    throw std::logic_error("config schema: the default of \"" + key.name + "\" breaks its own rules");
  return out;
}

SettingValue Validator::value(const YAML::Node& node, const KeySpec& key, const std::string& path,
                              Position key_position) {
  SettingValue out;
  out.type = key.type;
  out.is_set = true;
  out.position = position_of(node, key_position);
  auto wrong_form = [&] {
    m_diagnostics.add(out.position, path, expectation(key) + " (got " + describe_node(node) + ")");
    out.is_set = false;
    return out;
  };
  switch (key.type) {
    case ValueType::string_list: {
      if (node.IsNull()) return out;
      if (!node.IsSequence()) return wrong_form();
      std::size_t index = 0;
      for (const auto& entry : node) {
        std::string entry_path = index_path(path, index++);
        Position entry_position = position_of(entry, out.position);
        // A list with a bad entry is not set at all, so that the cross-field rules never see entries
        // shifted out of their positions.
        if (!entry.IsScalar()) {
          m_diagnostics.add(entry_position, entry_path, "must be a string (got " + describe_node(entry) + ")");
          out.is_set = false;
          continue;
        }
        const std::string& text = entry.Scalar();
        if (text.empty()) {
          m_diagnostics.add(entry_position, entry_path, "must not be empty");
          out.is_set = false;
          continue;
        }
        if (key.check) {
          if (auto broken = key.check(text)) {
            m_diagnostics.add(entry_position, entry_path, *broken + " (got " + quote_text(text) + ")");
            out.is_set = false;
            continue;
          }
        }
        out.list.push_back(text);
        out.list_positions.push_back(entry_position);
      }
      if (node.size() < key.min_entries)
        m_diagnostics.add(out.position, path,
                          "must have at least " + std::to_string(key.min_entries) +
                              (key.min_entries == 1 ? " entry" : " entries") + " (got " +
                              std::to_string(node.size()) + ")");
      return out;
    }
    case ValueType::string_map: {
      if (node.IsNull()) return out;
      if (!node.IsMap()) return wrong_form();
      for (const auto& member : node) {
        Position member_position = position_of(member.first, out.position);
        if (!member.first.IsScalar()) {
          m_diagnostics.add(member_position, path, "keys must be strings (got " + describe_node(member.first) + ")");
          continue;
        }
        std::string member_path = join_path(path, member.first.Scalar());
        if (!member.second.IsScalar()) {
          m_diagnostics.add(position_of(member.second, member_position), member_path,
                            "must be a string (got " + describe_node(member.second) + ")");
          continue;
        }
        if (!out.map.emplace(member.first.Scalar(), member.second.Scalar()).second)
          m_diagnostics.add(member_position, member_path, "duplicate key");
      }
      return out;
    }
    case ValueType::object:
      if (!node.IsNull() && !node.IsMap()) return wrong_form();
      out.objects.push_back(mapping(node, key.children, path, out.position));
      return out;
    case ValueType::object_list: {
      if (node.IsNull()) return out;
      if (!node.IsSequence()) return wrong_form();
      std::size_t index = 0;
      for (const auto& entry : node) {
        std::string entry_path = index_path(path, index++);
        Position entry_position = position_of(entry, out.position);
        if (!entry.IsMap()) {
          m_diagnostics.add(entry_position, entry_path, "must be a mapping (got " + describe_node(entry) + ")");
          out.objects.emplace_back(entry_position);  // keeps the indices of later entries right
          out.list_positions.push_back(entry_position);
          continue;
        }
        out.objects.push_back(mapping(entry, key.children, entry_path, entry_position));
        out.list_positions.push_back(entry_position);
      }
      if (node.size() < key.min_entries)
        m_diagnostics.add(out.position, path,
                          "must have at least " + std::to_string(key.min_entries) + " entries (got " +
                              std::to_string(node.size()) + ")");
      return out;
    }
    case ValueType::driver_settings:
      return out;  // checked by mapping() once the driver is known
    default:
      if (!node.IsScalar()) return wrong_form();
      if (!scalar(node.Scalar(), key, path, out.position, out)) out.is_set = false;
      return out;
  }
}

SettingValue Validator::driver_settings(const YAML::Node& node, const Settings& siblings, const std::string& path,
                                        Position where) {
  SettingValue out;
  out.type = ValueType::driver_settings;
  out.position = position_of(node, where);
  const SettingValue* driver = siblings.find("driver");
  if (driver == nullptr || !driver->is_set) return out;  // the driver's own error is reported already
  auto schema = m_drivers.find(driver->text);
  if (schema == m_drivers.end()) {
    std::string known;
    for (const auto& [name, unused] : m_drivers) known += (known.empty() ? "" : ", ") + name;
    const std::size_t dot = path.rfind('.');
    m_diagnostics.add(driver->position, path.substr(0, dot) + ".driver",
                      "unknown driver " + quote_text(driver->text) + " (known: " + (known.empty() ? "none" : known) + ")");
    return out;
  }
  if (node.IsDefined() && !node.IsNull() && !node.IsMap()) {
    m_diagnostics.add(out.position, path, "must be a mapping (got " + describe_node(node) + ")");
    return out;
  }
  out.is_set = true;
  out.objects.push_back(mapping(node, schema->second.keys(), path, out.position));
  return out;
}

Settings Validator::mapping(const YAML::Node& node, const std::vector<KeySpec>& keys, const std::string& path,
                            Position where) {
  Settings out(where);
  std::vector<std::pair<const KeySpec*, YAML::Node>> present;
  std::vector<std::pair<std::string, Position>> seen;
  if (node.IsDefined() && node.IsMap()) {
    for (const auto& member : node) {
      Position key_position = position_of(member.first, where);
      if (!member.first.IsScalar()) {
        m_diagnostics.add(key_position, path, "keys must be plain words (got " + describe_node(member.first) + ")");
        continue;
      }
      const std::string& name = member.first.Scalar();
      std::string key_path = join_path(path, name);
      auto earlier = std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == name; });
      if (earlier != seen.end()) {
        m_diagnostics.add(key_position, key_path, "duplicate key (first at " + position_text(earlier->second) + ")");
        continue;
      }
      seen.emplace_back(name, key_position);
      auto spec = std::find_if(keys.begin(), keys.end(), [&](const KeySpec& k) { return k.name == name; });
      if (spec == keys.end()) {
        m_diagnostics.add(key_position, key_path, unknown_key_rule(name, keys));
        continue;
      }
      present.emplace_back(&*spec, member.second);
    }
  }
  auto position_of_key = [&](const std::string& name) {
    auto s = std::find_if(seen.begin(), seen.end(), [&](const auto& e) { return e.first == name; });
    return s == seen.end() ? where : s->second;
  };
  // Driver settings come last: they need the sibling `driver` checked first.
  for (int pass = 0; pass < 2; ++pass) {
    for (const KeySpec& key : keys) {
      if ((key.type == ValueType::driver_settings) != (pass == 1)) continue;
      std::string key_path = join_path(path, key.name);
      auto it = std::find_if(present.begin(), present.end(), [&](const auto& p) { return p.first == &key; });
      YAML::Node value_node = it == present.end() ? YAML::Node() : it->second;
      // An explicitly empty value (`key:` or `~`) counts as left out: the default applies.
      bool given = it != present.end() && !(value_node.IsNull() && key.type != ValueType::object);
      if (key.type == ValueType::driver_settings) {
        out.set(key.name, driver_settings(value_node, out, key_path, given ? position_of_key(key.name) : where));
        continue;
      }
      if (given) {
        out.set(key.name, value(value_node, key, key_path, position_of_key(key.name)));
        continue;
      }
      if (key.type == ValueType::object) {  // an absent section is an empty one: its defaults apply
        out.set(key.name, value(YAML::Node(YAML::NodeType::Null), key, key_path,
                                it == present.end() ? where : position_of_key(key.name)));
        continue;
      }
      if (key.is_required)
        m_diagnostics.add(it == present.end() ? where : position_of_key(key.name), key_path, "is required");
      out.set(key.name, default_value(key, where));
    }
  }
  return out;
}

void apply_bindings(const std::vector<KeySpec>& keys, const Settings& settings, void* owner) {
  for (const KeySpec& key : keys) {
    const SettingValue* value = settings.find(key.name);
    if (value == nullptr || !value->is_set) continue;
    if (key.type == ValueType::object && key.enter && !value->objects.empty()) {
      apply_bindings(key.children, value->objects.front(), key.enter(owner));
    } else if (key.type == ValueType::object_list && key.append) {
      for (const Settings& entry : value->objects) apply_bindings(key.children, entry, key.append(owner));
    } else if (key.assign) {
      key.assign(owner, *value);
    }
  }
}

}  // namespace xnode::config
