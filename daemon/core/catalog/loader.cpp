#include "core/catalog/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <iterator>

#include "core/base/json.hpp"
#include "core/catalog/resource_json.hpp"
#include "core/catalog/validate.hpp"

namespace xnode::catalog {

namespace {

// Guards against hostile or broken files: YAML aliases can make a small file expand into a huge
// tree, and deep nesting would exhaust the stack.
constexpr std::size_t kMaxNodes = 200000;
constexpr std::size_t kMaxDepth = 64;

struct Position {
  int line = 0;
  int column = 0;
};

// yaml-cpp counts columns in bytes; an operator's editor counts characters, and catalog files are
// full of Chinese text (3 bytes a character), so columns are recounted in code points.
class Positions {
 public:
  explicit Positions(std::string_view text) : m_text(text) {}
  Position of(const YAML::Mark& mark) const {
    if (mark.line < 0 || mark.pos < 0) return {};
    const auto pos = std::min(static_cast<std::size_t>(mark.pos), m_text.size());
    const auto line_start = m_text.rfind('\n', pos == 0 ? 0 : pos - 1);
    const std::size_t from = (line_start == std::string_view::npos || pos == 0) ? 0 : line_start + 1;
    std::size_t column = 1;
    for (std::size_t i = from; i < pos; ++i) column += (static_cast<unsigned char>(m_text[i]) & 0xC0) != 0x80;
    return {mark.line + 1, static_cast<int>(column)};
  }

 private:
  std::string_view m_text;
};

// One resource as read from a file, with where each of its members was written.
struct LoadedResource {
  Resource resource;
  std::string file;
  std::string label;  // #index in its file
  Position start;
  std::map<std::string, Position> positions;  // field path → position of its key
  Problems form_problems;
};

class YamlToJson {
 public:
  YamlToJson(const Positions& where, std::map<std::string, Position>& positions,
             std::vector<std::pair<std::string, Position>>& errors)
      : m_where(where), m_positions(positions), m_errors(errors) {}

  json::Value convert(const YAML::Node& node, const std::string& path, std::size_t depth) {
    if (++m_nodes > kMaxNodes) return fail(path, node, "file too large (too many nodes)");
    if (depth > kMaxDepth) return fail(path, node, "nesting too deep");
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return json::Value();
      case YAML::NodeType::Scalar:
        return scalar(node);
      case YAML::NodeType::Sequence: {
        json::Value out = json::Value::array();
        std::size_t index = 0;
        for (const auto& entry : node) {
          std::string child = path + "[" + std::to_string(index++) + "]";
          m_positions.emplace(child, m_where.of(entry.Mark()));
          out.push_back(convert(entry, child, depth + 1));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        json::Value out = json::Value::object();
        for (const auto& member : node) {
          if (!member.first.IsScalar()) {
            fail(path, member.first, "member names must be plain text");
            continue;
          }
          const std::string name = member.first.Scalar();
          std::string child = path.empty() ? name : path + "." + name;
          if (out.find(name)) {
            fail(child, member.first, "duplicate member");
            continue;
          }
          m_positions.emplace(child, m_where.of(member.first.Mark()));
          out.set(name, convert(member.second, child, depth + 1));
        }
        return out;
      }
    }
    return json::Value();
  }

 private:
  static bool is_plain_number(std::string_view s) {
    std::size_t i = 0;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    const std::size_t digits_start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == digits_start) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      const std::size_t frac = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      if (i == frac) return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
      const std::size_t exp = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      if (i == exp) return false;
    }
    return i == s.size();
  }

  static json::Value scalar(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    // Quoted scalars ("!" tag) and explicit !!str are strings whatever they look like.
    if (node.Tag() != "?") return json::Value(text);
    if (text == "~" || text == "null" || text == "Null" || text == "NULL" || text.empty()) return json::Value();
    if (text == "true" || text == "True" || text == "TRUE") return json::Value(true);
    if (text == "false" || text == "False" || text == "FALSE") return json::Value(false);
    // Kept as written, so that `item: 01` can still be read as the string "01".
    if (is_plain_number(text)) return json::Value::number_text(text[0] == '+' ? text.substr(1) : text);
    return json::Value(text);
  }

  json::Value fail(const std::string& path, const YAML::Node& node, std::string reason) {
    (void)path;
    m_errors.emplace_back(std::move(reason), m_where.of(node.Mark()));
    return json::Value();
  }

  const Positions& m_where;
  std::map<std::string, Position>& m_positions;
  std::vector<std::pair<std::string, Position>>& m_errors;
  std::size_t m_nodes = 0;
};

// The position of `field`, or of the nearest member above it that was written.
Position locate(const LoadedResource& lr, std::string field) {
  while (!field.empty()) {
    if (auto it = lr.positions.find(field); it != lr.positions.end()) return it->second;
    const auto cut = field.find_last_of(".[");
    if (cut == std::string::npos) break;
    field.resize(cut);
  }
  return lr.start;
}

LoadDiagnostic diagnostic(const LoadedResource& lr, const Problem& p) {
  Position at = locate(lr, p.field);
  return LoadDiagnostic{lr.file, at.line, at.column, p.code, p.field, p.reason};
}

// Parses one file into resources (form problems attached) or file-level diagnostics.
void read_document(std::string_view text, std::string_view file, std::vector<LoadedResource>& resources,
                   std::vector<LoadDiagnostic>& errors) {
  // XEP/1 is UTF-8 only (§1), and a catalog is sent as JSON: refuse what cannot be sent.
  if (!json::valid_utf8(text)) {
    int line = 1;
    for (std::size_t start = 0; start <= text.size(); ++line) {
      const auto end = std::min(text.find('\n', start), text.size());
      if (!json::valid_utf8(text.substr(start, end - start))) break;
      start = end + 1;
    }
    errors.push_back(LoadDiagnostic{std::string(file), line, 1, "", "", "not valid UTF-8 text"});
    return;
  }
  const Positions where(text);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    Position at = where.of(e.mark);
    errors.push_back(LoadDiagnostic{std::string(file), at.line, at.column, "", "", "YAML: " + e.msg});
    return;
  }
  std::vector<YAML::Node> entries;
  if (root.IsMap()) {
    entries.push_back(root);
  } else if (root.IsSequence()) {
    for (const auto& entry : root) entries.push_back(entry);
  } else if (!root.IsNull()) {
    Position at = where.of(root.Mark());
    errors.push_back(LoadDiagnostic{std::string(file), at.line, at.column, "", "",
                                    "a catalog file holds one resource (a mapping) or a list of resources"});
    return;
  }
  ReadOptions options;
  options.lenient_scalars = true;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    LoadedResource lr;
    lr.file = std::string(file);
    lr.label = "#" + std::to_string(i);
    lr.start = where.of(entries[i].Mark());
    std::vector<std::pair<std::string, Position>> yaml_errors;
    json::Value value;
    try {
      YamlToJson converter(where, lr.positions, yaml_errors);
      value = converter.convert(entries[i], "", 0);
    } catch (const YAML::Exception& e) {
      Position at = where.of(e.mark);
      errors.push_back(LoadDiagnostic{lr.file, at.line, at.column, lr.label, "", "YAML: " + e.msg});
      continue;
    }
    lr.resource = resource_from_json(value, lr.label, lr.form_problems, options);
    const std::string& name = lr.resource.code.empty() ? lr.label : lr.resource.code;
    for (auto& [reason, at] : yaml_errors)
      errors.push_back(LoadDiagnostic{lr.file, at.line, at.column, name, "", reason});
    resources.push_back(std::move(lr));
  }
}

SliceLoad finish(std::vector<LoadedResource>& resources, std::vector<LoadDiagnostic> errors) {
  SliceLoad out;
  out.errors = std::move(errors);
  std::set<std::string_view> codes;
  for (auto& lr : resources) {
    Problems problems = lr.form_problems;
    append_rule_problems(problems, validate(lr.resource, lr.label));
    if (!lr.resource.code.empty() && !codes.insert(lr.resource.code).second)
      problems.push_back(Problem{lr.resource.code, "code", "duplicate resource code"});
    for (const auto& p : problems) out.errors.push_back(diagnostic(lr, p));
  }
  for (auto& lr : resources) out.slice.resources.push_back(std::move(lr.resource));
  out.slice.sort();
  return out;
}

}  // namespace

std::string LoadDiagnostic::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!code.empty()) out += code + ": ";
  if (!field.empty()) out += field + ": ";
  out += reason;
  return out;
}

std::string SliceLoad::error_text() const {
  std::string out;
  for (const auto& e : errors) out += e.to_string() + "\n";
  return out;
}

SliceLoad load_slice_text(std::string_view yaml, std::string_view file_name) {
  std::vector<LoadedResource> resources;
  std::vector<LoadDiagnostic> errors;
  read_document(yaml, file_name, resources, errors);
  return finish(resources, std::move(errors));
}

SliceLoad load_slice_dir(const std::filesystem::path& dir) {
  std::vector<LoadedResource> resources;
  std::vector<LoadDiagnostic> errors;
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto& path = it->path();
    const auto ext = path.extension();
    if ((ext == ".yaml" || ext == ".yml") && path.filename().string()[0] != '.' && it->is_regular_file())
      files.push_back(path);
  }
  if (ec) {
    errors.push_back(LoadDiagnostic{dir.string(), 0, 0, "", "", "cannot read catalog directory: " + ec.message()});
    return finish(resources, std::move(errors));
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.is_open() || in.bad()) {
      errors.push_back(LoadDiagnostic{path.string(), 0, 0, "", "", "cannot read file"});
      continue;
    }
    read_document(text, path.string(), resources, errors);
  }
  return finish(resources, std::move(errors));
}

}  // namespace xnode::catalog
