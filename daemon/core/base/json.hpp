// A small JSON document model for the XEP/1 wire forms, records and health reports.
// Objects keep their members in input order (records are forwarded as written); numbers keep
// their text as written (a record key uses "numbers as their JSON text as written", §3.3).
// serialize() writes compact JSON; canonical() writes RFC 8785 canonical JSON (members sorted by
// key, UTF-16 code-unit order) — used for the catalog hash (§3.2) and the audit chain (§3.6).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/base/expected.hpp"

namespace xnode::json {

class Value;
using Array = std::vector<Value>;
using Member = std::pair<std::string, Value>;
using Object = std::vector<Member>;

enum class Type : std::uint8_t { null, boolean, number, string, array, object };

class Value {
 public:
  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b) : m_type(Type::boolean), m_bool(b) {}
  template <typename I, typename = std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>>>
  Value(I v) : m_type(Type::number), m_text(std::to_string(v)) {}
  Value(double v);
  Value(const char* s) : m_type(Type::string), m_text(s) {}
  Value(std::string s) : m_type(Type::string), m_text(std::move(s)) {}
  Value(std::string_view s) : m_type(Type::string), m_text(s) {}
  Value(Array a) : m_type(Type::array), m_array(std::move(a)) {}
  Value(Object o) : m_type(Type::object), m_object(std::move(o)) {}

  static Value number_text(std::string text);  // a number from its JSON text (not checked)
  static Value object() { return Value(Object{}); }
  static Value array() { return Value(Array{}); }

  Type type() const { return m_type; }
  bool is_null() const { return m_type == Type::null; }
  bool is_bool() const { return m_type == Type::boolean; }
  bool is_number() const { return m_type == Type::number; }
  bool is_string() const { return m_type == Type::string; }
  bool is_array() const { return m_type == Type::array; }
  bool is_object() const { return m_type == Type::object; }
  // A number written without fraction or exponent.
  bool is_integer() const;

  bool as_bool() const { return m_bool; }
  const std::string& as_string() const { return m_text; }  // string value, or a number's text
  std::string& as_string() { return m_text; }
  const std::string& number_text() const { return m_text; }
  std::optional<std::int64_t> as_int() const;  // integers only, in range
  double as_double() const;
  const Array& as_array() const { return m_array; }
  Array& as_array() { return m_array; }
  const Object& as_object() const { return m_object; }
  Object& as_object() { return m_object; }

  // Object access: find returns nullptr when absent (or when this is not an object).
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  // Sets (replacing an existing member) and returns the member's value; turns null into an object.
  Value& set(std::string_view key, Value v);
  Value& operator[](std::string_view key);  // creates a null member when absent
  bool erase(std::string_view key);
  void push_back(Value v);  // turns null into an array

  // Convenience getters for optional members.
  std::string get_string(std::string_view key, std::string fallback = {}) const;
  std::int64_t get_int(std::string_view key, std::int64_t fallback = 0) const;
  bool get_bool(std::string_view key, bool fallback = false) const;

  friend bool operator==(const Value& a, const Value& b);

 private:
  Type m_type = Type::null;
  bool m_bool = false;
  std::string m_text;
  Array m_array;
  Object m_object;
};

struct ParseOptions {
  std::size_t max_depth = 64;
  bool allow_duplicate_keys = false;  // RFC 8259 leaves it open; XEP/1 forms reject them
};

// Parses exactly one JSON text (surrounding white space allowed). Errors name the byte offset.
Expected<Value> parse(std::string_view text, const ParseOptions& options = {});

// Compact serialisation, members in stored order.
std::string serialize(const Value& v);
void serialize_to(std::string& out, const Value& v);
// RFC 8785 canonical form. Numbers: integers as written (normalised), others through the
// ECMAScript shortest round-trip form.
std::string canonical(const Value& v);
void canonical_to(std::string& out, const Value& v);

// Appends `s` as a JSON string literal (with quotes) to out.
void quote_to(std::string& out, std::string_view s);
std::string quote(std::string_view s);

// True when `s` is valid UTF-8 (no overlongs, no surrogates).
bool valid_utf8(std::string_view s);

}  // namespace xnode::json
