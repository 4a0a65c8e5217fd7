#include "core/config/loader.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

#include <yaml-cpp/eventhandler.h>

#include "core/base/json.hpp"
#include "core/base/sha256.hpp"
#include "core/config/config_schema.hpp"
#include "core/config/units.hpp"
#include "core/config/validator.hpp"

namespace xnode::config {

namespace {

std::string position_text(Position p) { return std::to_string(p.line) + ":" + std::to_string(p.column); }

// The first line holding bytes that are not UTF-8, or 0 when the text is valid.
int first_invalid_utf8_line(std::string_view text) {
  if (json::valid_utf8(text)) return 0;
  int line = 1;
  while (true) {
    const std::size_t newline = text.find('\n');
    if (!json::valid_utf8(text.substr(0, newline))) return line;
    if (newline == std::string_view::npos) return line;
    text.remove_prefix(newline + 1);
    ++line;
  }
}

// The first line whose indentation holds a tab, or 0.
int first_tab_indented_line(std::string_view text) {
  int line = 1;
  bool at_indent = true;
  for (char c : text) {
    if (c == '\n') {
      ++line;
      at_indent = true;
    } else if (at_indent && c == '\t') {
      return line;
    } else if (c != ' ') {
      at_indent = false;
    }
  }
  return 0;
}

// Sees the document boundaries without building nodes. YAML::LoadAll of yaml-cpp 0.7 never returns
// on some malformed input (a stray `,` at the top level starts the same empty document forever), so
// the documents are walked here with a bound, and a parser that stops making progress is an error.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// An error when the text does not hold exactly one document (or none). Throws YAML::Exception on
// syntax errors, like YAML::Load.
std::optional<std::pair<Position, std::string>> check_document_count(std::string_view text) {
  std::istringstream stream{std::string(text)};
  YAML::Parser parser(stream);
  DocumentStarts handler;
  while (handler.starts.size() < 2 && parser.HandleNextDocument(handler)) {
  }
  if (handler.starts.size() < 2) return std::nullopt;
  const YAML::Mark& first = handler.starts[0];
  const YAML::Mark& second = handler.starts[1];
  const Position where{second.line + 1, second.column + 1};
  if (second.pos == first.pos) {
    const char c = static_cast<std::size_t>(second.pos) < text.size() ? text[static_cast<std::size_t>(second.pos)] : ' ';
    return std::pair{where, "YAML syntax error: unexpected " + json::quote(std::string_view(&c, 1))};
  }
  return std::pair{where, std::string("holds a second YAML document here (one expected)")};
}

// Parses the text into one YAML document; syntax errors become diagnostics.
std::optional<YAML::Node> parse_document(std::string_view text, Diagnostics& diagnostics) {
  if (text.size() > kMaxConfigBytes) {
    diagnostics.add(Position{1, 1}, "",
                    "too large: " + std::to_string(text.size()) + " bytes (at most " + format_size(kMaxConfigBytes) + ")");
    return std::nullopt;
  }
  if (int line = first_invalid_utf8_line(text)) {
    diagnostics.add(Position{line, 1}, "", "not valid UTF-8");
    return std::nullopt;
  }
  try {
    if (auto problem = check_document_count(text)) {
      diagnostics.add(problem->first, "", problem->second);
      return std::nullopt;
    }
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    Position where = e.mark.is_null() ? Position{1, 1} : Position{e.mark.line + 1, e.mark.column + 1};
    std::string rule = "YAML syntax error: " + e.msg;
    // yaml-cpp reports a tab in the indentation as some later, puzzling error; name the cause.
    const int line = first_tab_indented_line(text);
    if (line > 0 && line <= where.line && e.msg.find("tab") == std::string::npos)
      rule += " (line " + std::to_string(line) + " is indented with a tab; YAML indents with spaces)";
    diagnostics.add(where, "", std::move(rule));
  } catch (const std::exception& e) {
    // Whatever else the parser throws (memory): a bad pushed file must never stop the daemon.
    diagnostics.add(Position{1, 1}, "", std::string("cannot parse: ") + e.what());
  }
  return std::nullopt;
}

std::optional<Settings> check_top_level(const YAML::Node& document, const std::vector<KeySpec>& keys,
                                        Validator& validator, Diagnostics& diagnostics) {
  if (!document.IsNull() && !document.IsMap()) {
    diagnostics.add(position_of(document, Position{1, 1}), "",
                    "the configuration must be a mapping of sections (node:, uplink:, …)");
    return std::nullopt;
  }
  return validator.mapping(document, keys, "", position_of(document, Position{1, 1}));
}

// Rules that involve more than one key.
void check_cross_field(const Settings& top, Diagnostics& diagnostics) {
  const Settings& uplink = top.get_object("uplink");
  if (uplink.has("backoff_initial") && uplink.has("backoff_max") &&
      uplink.get_duration("backoff_initial") > uplink.get_duration("backoff_max"))
    diagnostics.add(uplink.position_of("backoff_initial"), "uplink.backoff_initial",
                    "must not exceed uplink.backoff_max (" + format_duration(uplink.get_duration("backoff_max")) +
                        ") (got " + format_duration(uplink.get_duration("backoff_initial")) + ")");

  if (const SettingValue* endpoints = uplink.find("endpoints"); endpoints != nullptr && endpoints->is_set) {
    for (std::size_t i = 0; i < endpoints->list.size(); ++i) {
      auto normal = [](std::string url) {
        if (url.ends_with('/')) url.pop_back();
        std::transform(url.begin(), url.end(), url.begin(), [](unsigned char c) { return std::tolower(c); });
        return url;
      };
      for (std::size_t j = 0; j < i; ++j) {
        if (normal(endpoints->list[i]) != normal(endpoints->list[j])) continue;
        diagnostics.add(endpoints->list_positions[i], "uplink.endpoints[" + std::to_string(i) + "]",
                        "duplicate endpoint (also at " + position_text(endpoints->list_positions[j]) + ")");
        break;
      }
    }
  }

  const SettingValue* sources = top.find("sources");
  if (sources != nullptr) {
    for (std::size_t i = 0; i < sources->objects.size(); ++i) {
      const Settings& source = sources->objects[i];
      if (!source.has("name")) continue;
      for (std::size_t j = 0; j < i; ++j) {
        const Settings& earlier = sources->objects[j];
        if (!earlier.has("name") || earlier.get_string("name") != source.get_string("name")) continue;
        diagnostics.add(source.position_of("name"), "sources[" + std::to_string(i) + "].name",
                        "duplicate source name " + json::quote(source.get_string("name")) + " (also sources[" +
                            std::to_string(j) + "] at " + position_text(earlier.position_of("name")) + ")");
        break;
      }
    }
  }

  const Settings& push = top.get_object("config_push");
  if (push.has("require_signature") && push.get_bool("require_signature") &&
      (!push.has("public_key") || push.get_string("public_key").empty()))
    diagnostics.add(push.position_of("require_signature"), "config_push.public_key",
                    "is required when config_push.require_signature is true");

  const Settings& queue = top.get_object("queue");
  const Settings& audit = top.get_object("audit");
  if (queue.has("path") && audit.has("path") && queue.get_string("path") == audit.get_string("path"))
    diagnostics.add(audit.position_of("path"), "audit.path",
                    "must differ from queue.path (each store locks its own file)");
}

}  // namespace

LoadResult load_config_text(std::string_view text, const std::string& display_name, const DriverSchemas& drivers,
                            const std::string& base_dir) {
  LoadResult result;
  result.sha256 = Sha256::hex(text);
  Diagnostics diagnostics;
  std::optional<YAML::Node> document = parse_document(text, diagnostics);
  if (document) {
    const std::string dir =
        base_dir.empty() ? std::filesystem::path(display_name).parent_path().string() : base_dir;
    Validator validator(dir, drivers, diagnostics);
    const std::vector<KeySpec>& schema = config_schema();
    std::optional<Settings> top = check_top_level(*document, schema, validator, diagnostics);
    if (top) {
      if (const SettingValue* version = top->find("version"); version != nullptr && version->is_set)
        result.version = version->integer;
      check_cross_field(*top, diagnostics);
    }
    if (top && diagnostics.empty()) {
      Config config;
      apply_bindings(schema, *top, &config);
      for (std::string& pin : config.uplink.pins)
        std::transform(pin.begin(), pin.end(), pin.begin(), [](unsigned char c) { return std::tolower(c); });
      result.config = std::move(config);
    }
  }
  result.errors = diagnostics.format(display_name);
  return result;
}

LoadResult load_config_file(const std::string& path, const DriverSchemas& drivers) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult result;
    result.errors.push_back(path + ": cannot open: " + std::strerror(errno));
    return result;
  }
  // Read at most one byte past the limit so that a huge file is refused without reading it whole.
  std::string text;
  text.resize(kMaxConfigBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) {
    LoadResult result;
    result.errors.push_back(path + ": cannot read: " + std::strerror(errno));
    return result;
  }
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes) {
    LoadResult result;
    result.errors.push_back(path + ": too large: more than " + format_size(kMaxConfigBytes) +
                            " (a configuration is a few kilobytes)");
    return result;
  }
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  const std::string base_dir = ec ? std::string() : absolute.parent_path().lexically_normal().string();
  return load_config_text(text, path, drivers, base_dir);
}

SettingsResult load_settings_text(std::string_view text, const std::string& display_name,
                                  const SettingsSchema& schema, const std::string& base_dir) {
  SettingsResult result;
  Diagnostics diagnostics;
  if (std::optional<YAML::Node> document = parse_document(text, diagnostics)) {
    if (!document->IsNull() && !document->IsMap()) {
      diagnostics.add(position_of(*document, Position{1, 1}), "", "must be a mapping");
    } else {
      const DriverSchemas no_drivers;
      const std::string dir =
          base_dir.empty() ? std::filesystem::path(display_name).parent_path().string() : base_dir;
      Validator validator(dir, no_drivers, diagnostics);
      Settings settings = validator.mapping(*document, schema.keys(), "", position_of(*document, Position{1, 1}));
      if (diagnostics.empty()) result.settings = std::move(settings);
    }
  }
  result.errors = diagnostics.format(display_name);
  return result;
}

}  // namespace xnode::config
