#include "core/base/json.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace xnode::json {

Value::Value(double v) : m_type(Type::number) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  m_text.assign(buf, res.ptr);
}

Value Value::number_text(std::string text) {
  Value v;
  v.m_type = Type::number;
  v.m_text = std::move(text);
  return v;
}

bool Value::is_integer() const {
  if (m_type != Type::number) return false;
  return m_text.find_first_of(".eE") == std::string::npos;
}

std::optional<std::int64_t> Value::as_int() const {
  if (!is_integer()) return std::nullopt;
  std::int64_t out = 0;
  auto res = std::from_chars(m_text.data(), m_text.data() + m_text.size(), out);
  if (res.ec != std::errc() || res.ptr != m_text.data() + m_text.size()) return std::nullopt;
  return out;
}

double Value::as_double() const {
  if (m_type != Type::number) return 0.0;
  double out = 0.0;
  std::from_chars(m_text.data(), m_text.data() + m_text.size(), out);
  return out;
}

const Value* Value::find(std::string_view key) const {
  if (m_type != Type::object) return nullptr;
  for (const auto& m : m_object)
    if (m.first == key) return &m.second;
  return nullptr;
}

Value* Value::find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->find(key));
}

Value& Value::set(std::string_view key, Value v) {
  if (m_type == Type::null) m_type = Type::object;
  for (auto& m : m_object)
    if (m.first == key) {
      m.second = std::move(v);
      return m.second;
    }
  m_object.emplace_back(std::string(key), std::move(v));
  return m_object.back().second;
}

Value& Value::operator[](std::string_view key) {
  if (Value* v = find(key)) return *v;
  return set(key, Value());
}

bool Value::erase(std::string_view key) {
  if (m_type != Type::object) return false;
  auto it = std::find_if(m_object.begin(), m_object.end(), [&](const Member& m) { return m.first == key; });
  if (it == m_object.end()) return false;
  m_object.erase(it);
  return true;
}

void Value::push_back(Value v) {
  if (m_type == Type::null) m_type = Type::array;
  m_array.push_back(std::move(v));
}

std::string Value::get_string(std::string_view key, std::string fallback) const {
  const Value* v = find(key);
  return v && v->is_string() ? v->m_text : fallback;
}

std::int64_t Value::get_int(std::string_view key, std::int64_t fallback) const {
  const Value* v = find(key);
  if (!v) return fallback;
  auto i = v->as_int();
  return i ? *i : fallback;
}

bool Value::get_bool(std::string_view key, bool fallback) const {
  const Value* v = find(key);
  return v && v->is_bool() ? v->m_bool : fallback;
}

bool operator==(const Value& a, const Value& b) {
  if (a.m_type != b.m_type) return false;
  switch (a.m_type) {
    case Type::null: return true;
    case Type::boolean: return a.m_bool == b.m_bool;
    case Type::number: return a.m_text == b.m_text || a.as_double() == b.as_double();
    case Type::string: return a.m_text == b.m_text;
    case Type::array: return a.m_array == b.m_array;
    case Type::object: {
      if (a.m_object.size() != b.m_object.size()) return false;
      for (const auto& m : a.m_object) {
        const Value* o = b.find(m.first);
        if (!o || !(*o == m.second)) return false;
      }
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// UTF-8

// Eight bytes at a time over the plain runs of a string (records are mostly such runs). Each test
// flags the bytes of a word that match (0x80 in that byte); a flag can be wrong only in a byte
// above a right one (a borrow carries upwards), so the lowest flag always marks the first match.
namespace {
constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
inline std::uint64_t load8(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline std::uint64_t has_zero_byte(std::uint64_t v) { return (v - kOnes) & ~v & kHighs; }
inline std::uint64_t has_byte_below(std::uint64_t v, std::uint8_t n) { return (v - kOnes * n) & ~v & kHighs; }  // n <= 128
// Bytes that quote_to must escape: control, '"' or '\'.
inline std::uint64_t escape_flags(std::uint64_t v) {
  return has_byte_below(v, 0x20) | has_zero_byte(v ^ (kOnes * '"')) | has_zero_byte(v ^ (kOnes * '\\'));
}
// Index of the first flagged byte of a word loaded from memory (flags != 0).
inline std::size_t first_flagged(std::uint64_t flags) {
  if constexpr (std::endian::native == std::endian::little) return static_cast<std::size_t>(std::countr_zero(flags)) / 8;
  else return static_cast<std::size_t>(std::countl_zero(flags)) / 8;
}
}  // namespace

static std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  // Returns the length of a valid sequence at i, or 0.
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  std::size_t n;
  std::uint32_t cp;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    // Fast path for ASCII runs.
    if (static_cast<unsigned char>(s[i]) < 0x80) { ++i; continue; }
    std::size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

static void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) out.push_back(static_cast<char>(cp));
  else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// ---------------------------------------------------------------------------------------------
// Parser

namespace {

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& o) : m_s(text), m_opt(o) {}

  Expected<Value> run() {
    skip_ws();
    Value v;
    if (!parse_value(v, 0)) return Error(m_err);
    skip_ws();
    if (m_i != m_s.size()) return fail_value("unexpected text after the JSON value");
    return v;
  }

 private:
  std::string_view m_s;
  const ParseOptions& m_opt;
  std::size_t m_i = 0;
  std::string m_err;

  Expected<Value> fail_value(const char* what) {
    fail(what);
    return Error(m_err);
  }
  bool fail(const char* what) {
    if (m_err.empty()) m_err = std::string(what) + " at byte " + std::to_string(m_i);
    return false;
  }
  void skip_ws() {
    while (m_i < m_s.size()) {
      char c = m_s[m_i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') ++m_i;
      else break;
    }
  }
  bool literal(std::string_view word) {
    if (m_s.substr(m_i, word.size()) != word) return fail("invalid literal");
    m_i += word.size();
    return true;
  }

  bool parse_value(Value& out, std::size_t depth) {
    if (m_i >= m_s.size()) return fail("unexpected end of input");
    char c = m_s[m_i];
    switch (c) {
      case '{': return parse_object(out, depth);
      case '[': return parse_array(out, depth);
      case '"': {
        std::string s;
        if (!parse_string(s)) return false;
        out = Value(std::move(s));
        return true;
      }
      case 't': if (!literal("true")) return false; out = Value(true); return true;
      case 'f': if (!literal("false")) return false; out = Value(false); return true;
      case 'n': if (!literal("null")) return false; out = Value(); return true;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(out);
        return fail("unexpected character");
    }
  }

  bool parse_number(Value& out) {
    std::size_t start = m_i;
    if (m_s[m_i] == '-') ++m_i;
    if (m_i >= m_s.size()) return fail("invalid number");
    if (m_s[m_i] == '0') ++m_i;
    else if (m_s[m_i] >= '1' && m_s[m_i] <= '9') while (m_i < m_s.size() && m_s[m_i] >= '0' && m_s[m_i] <= '9') ++m_i;
    else return fail("invalid number");
    if (m_i < m_s.size() && m_s[m_i] == '.') {
      ++m_i;
      std::size_t d = m_i;
      while (m_i < m_s.size() && m_s[m_i] >= '0' && m_s[m_i] <= '9') ++m_i;
      if (m_i == d) return fail("invalid number: digits expected after '.'");
    }
    if (m_i < m_s.size() && (m_s[m_i] == 'e' || m_s[m_i] == 'E')) {
      ++m_i;
      if (m_i < m_s.size() && (m_s[m_i] == '+' || m_s[m_i] == '-')) ++m_i;
      std::size_t d = m_i;
      while (m_i < m_s.size() && m_s[m_i] >= '0' && m_s[m_i] <= '9') ++m_i;
      if (m_i == d) return fail("invalid number: digits expected in exponent");
    }
    out = Value::number_text(std::string(m_s.substr(start, m_i - start)));
    return true;
  }

  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool parse_hex4(std::uint32_t& cp) {
    if (m_i + 4 > m_s.size()) return fail("truncated \\u escape");
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      int d = hex_digit(m_s[m_i + static_cast<std::size_t>(k)]);
      if (d < 0) return fail("invalid \\u escape");
      cp = (cp << 4) | static_cast<std::uint32_t>(d);
    }
    m_i += 4;
    return true;
  }

  bool parse_string(std::string& out) {
    ++m_i;  // opening quote
    std::size_t run = m_i;
    while (true) {
      if (m_i + 8 <= m_s.size()) {
        const std::uint64_t v = load8(m_s.data() + m_i);
        const std::uint64_t flags = (v & kHighs) | escape_flags(v);  // not plain ASCII
        if (flags == 0) {
          m_i += 8;
          continue;
        }
        m_i += first_flagged(flags);  // the byte-wise code below takes that byte
      }
      if (m_i >= m_s.size()) return fail("unterminated string");
      auto c = static_cast<unsigned char>(m_s[m_i]);
      if (c == '"') {
        out.append(m_s.data() + run, m_i - run);
        ++m_i;
        return true;
      }
      if (c == '\\') {
        out.append(m_s.data() + run, m_i - run);
        ++m_i;
        if (m_i >= m_s.size()) return fail("unterminated escape");
        char e = m_s[m_i++];
        switch (e) {
          case '"': out.push_back('"'); break;
          case '\\': out.push_back('\\'); break;
          case '/': out.push_back('/'); break;
          case 'b': out.push_back('\b'); break;
          case 'f': out.push_back('\f'); break;
          case 'n': out.push_back('\n'); break;
          case 'r': out.push_back('\r'); break;
          case 't': out.push_back('\t'); break;
          case 'u': {
            std::uint32_t cp = 0;
            if (!parse_hex4(cp)) return false;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (m_i + 2 > m_s.size() || m_s[m_i] != '\\' || m_s[m_i + 1] != 'u') return fail("unpaired surrogate");
              m_i += 2;
              std::uint32_t lo = 0;
              if (!parse_hex4(lo)) return false;
              if (lo < 0xDC00 || lo > 0xDFFF) return fail("unpaired surrogate");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              return fail("unpaired surrogate");
            }
            append_utf8(out, cp);
            break;
          }
          default: return fail("invalid escape");
        }
        run = m_i;
        continue;
      }
      if (c < 0x20) return fail("control character in string");
      if (c < 0x80) { ++m_i; continue; }
      std::size_t n = utf8_sequence(m_s, m_i);
      if (n == 0) return fail("invalid UTF-8 in string");
      m_i += n;
    }
  }

  bool parse_array(Value& out, std::size_t depth) {
    if (depth + 1 > m_opt.max_depth) return fail("nesting too deep");
    ++m_i;
    Array arr;
    skip_ws();
    if (m_i < m_s.size() && m_s[m_i] == ']') {
      ++m_i;
      out = Value(std::move(arr));
      return true;
    }
    while (true) {
      skip_ws();
      Value v;
      if (!parse_value(v, depth + 1)) return false;
      arr.push_back(std::move(v));
      skip_ws();
      if (m_i >= m_s.size()) return fail("unterminated array");
      if (m_s[m_i] == ',') { ++m_i; continue; }
      if (m_s[m_i] == ']') { ++m_i; break; }
      return fail("expected ',' or ']'");
    }
    out = Value(std::move(arr));
    return true;
  }

  // Members are gathered on one per-thread stack (nested objects above their parent's) and moved
  // into an object of their exact number: growing each object by doubling moved its members up
  // to four times for a record of a dozen.
  struct MemberStack {
    std::vector<Member>& members;
    std::size_t mark;
    ~MemberStack() { members.erase(members.begin() + static_cast<std::ptrdiff_t>(mark), members.end()); }
  };
  static std::vector<Member>& member_stack() {
    static thread_local std::vector<Member> members;
    return members;
  }

  bool parse_object(Value& out, std::size_t depth) {
    if (depth + 1 > m_opt.max_depth) return fail("nesting too deep");
    ++m_i;
    MemberStack stack{member_stack(), member_stack().size()};
    skip_ws();
    if (m_i < m_s.size() && m_s[m_i] == '}') {
      ++m_i;
      out = Value(Object{});
      return true;
    }
    while (true) {
      skip_ws();
      if (m_i >= m_s.size() || m_s[m_i] != '"') return fail("expected a member name");
      std::string key;
      if (!parse_string(key)) return false;
      if (!m_opt.allow_duplicate_keys)
        for (std::size_t k = stack.mark; k < stack.members.size(); ++k)
          if (stack.members[k].first == key) return fail("duplicate member name");
      skip_ws();
      if (m_i >= m_s.size() || m_s[m_i] != ':') return fail("expected ':'");
      ++m_i;
      skip_ws();
      Value v;
      if (!parse_value(v, depth + 1)) return false;
      stack.members.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (m_i >= m_s.size()) return fail("unterminated object");
      if (m_s[m_i] == ',') { ++m_i; continue; }
      if (m_s[m_i] == '}') { ++m_i; break; }
      return fail("expected ',' or '}'");
    }
    const auto first = stack.members.begin() + static_cast<std::ptrdiff_t>(stack.mark);
    out = Value(Object(std::make_move_iterator(first), std::make_move_iterator(stack.members.end())));
    return true;
  }
};

}  // namespace

Expected<Value> parse(std::string_view text, const ParseOptions& options) {
  return Parser(text, options).run();
}

// ---------------------------------------------------------------------------------------------
// Serialisation

void quote_to(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i + 8 <= s.size()) {
      const std::uint64_t flags = escape_flags(load8(s.data() + i));
      if (flags == 0) {
        i += 7;  // eight bytes that need no escape (the loop adds the eighth)
        continue;
      }
      i += first_flagged(flags);  // the byte that needs one
    }
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

std::string quote(std::string_view s) {
  std::string out;
  quote_to(out, s);
  return out;
}

void serialize_to(std::string& out, const Value& v) {
  switch (v.type()) {
    case Type::null: out += "null"; break;
    case Type::boolean: out += v.as_bool() ? "true" : "false"; break;
    case Type::number: out += v.number_text(); break;
    case Type::string: quote_to(out, v.as_string()); break;
    case Type::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.as_array()) {
        if (!first) out.push_back(',');
        first = false;
        serialize_to(out, e);
      }
      out.push_back(']');
      break;
    }
    case Type::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& m : v.as_object()) {
        if (!first) out.push_back(',');
        first = false;
        quote_to(out, m.first);
        out.push_back(':');
        serialize_to(out, m.second);
      }
      out.push_back('}');
      break;
    }
  }
}

std::string serialize(const Value& v) {
  std::string out;
  serialize_to(out, v);
  return out;
}

// RFC 8785 §3.2.2.3: numbers as ECMAScript's Number.prototype.toString.
static void canonical_number(std::string& out, const Value& v) {
  double d = v.as_double();
  if (!std::isfinite(d)) {  // not representable in I-JSON; keep the text rather than lose data
    out += v.number_text();
    return;
  }
  if (d == 0) {
    out += "0";
    return;
  }
  // Shortest round-trip digits and exponent, then laid out the way ECMAScript does.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // e.g. "-1.2345e+02"
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  auto epos = sci.find('e');
  int exp = std::atoi(sci.c_str() + epos + 1);
  std::string digits;
  for (std::size_t i = 0; i < epos; ++i)
    if (sci[i] != '.') digits.push_back(sci[i]);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int k = static_cast<int>(digits.size());
  int n = exp + 1;  // position of the decimal point
  if (neg) out.push_back('-');
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out.push_back('.');
    out.append(digits, static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('e');
    out.push_back(n - 1 >= 0 ? '+' : '-');
    out += std::to_string(std::abs(n - 1));
  }
}

// UTF-16 code-unit order of two UTF-8 strings (RFC 8785 §3.2.3).
static std::u16string to_utf16(std::string_view s) {
  std::u16string out;
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp;
    std::size_t n;
    if (c < 0x80) { cp = c; n = 1; }
    else if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; n = 2; }
    else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; n = 3; }
    else { cp = c & 0x07; n = 4; }
    for (std::size_t k = 1; k < n && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

static bool ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

void canonical_to(std::string& out, const Value& v) {
  switch (v.type()) {
    case Type::number: canonical_number(out, v); break;
    case Type::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.as_array()) {
        if (!first) out.push_back(',');
        first = false;
        canonical_to(out, e);
      }
      out.push_back(']');
      break;
    }
    case Type::object: {
      std::vector<const Member*> members;
      members.reserve(v.as_object().size());
      bool all_ascii = true;
      for (const auto& m : v.as_object()) {
        members.push_back(&m);
        all_ascii = all_ascii && ascii(m.first);
      }
      if (all_ascii) {
        std::sort(members.begin(), members.end(), [](const Member* a, const Member* b) { return a->first < b->first; });
      } else {
        std::sort(members.begin(), members.end(),
                  [](const Member* a, const Member* b) { return to_utf16(a->first) < to_utf16(b->first); });
      }
      out.push_back('{');
      bool first = true;
      for (const Member* m : members) {
        if (!first) out.push_back(',');
        first = false;
        quote_to(out, m->first);
        out.push_back(':');
        canonical_to(out, m->second);
      }
      out.push_back('}');
      break;
    }
    default: serialize_to(out, v);
  }
}

std::string canonical(const Value& v) {
  std::string out;
  canonical_to(out, v);
  return out;
}

}  // namespace xnode::json
