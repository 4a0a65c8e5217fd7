// Errors as values in core code: Expected<T> holds a T or an Error (what went wrong, where, and
// what to do). Exceptions are kept for start-up failures that end the process.
#pragma once
#include <string>
#include <utility>
#include <variant>

namespace xnode {

struct Error {
  std::string message;
  Error() = default;
  explicit Error(std::string m) : message(std::move(m)) {}
};

template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : m_v(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Expected(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  bool ok() const { return m_v.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(m_v); }
  const T& value() const& { return std::get<0>(m_v); }
  T&& value() && { return std::get<0>(std::move(m_v)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(m_v); }

 private:
  std::variant<T, Error> m_v;
};

template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Error error) : m_error(std::move(error)), m_ok(false) {}  // NOLINT
  bool ok() const { return m_ok; }
  explicit operator bool() const { return m_ok; }
  const Error& error() const { return m_error; }

 private:
  Error m_error;
  bool m_ok = true;
};

inline Error make_error(std::string message) { return Error(std::move(message)); }

}  // namespace xnode

// Propagates an error from an Expected-returning call: `XNODE_TRY(auto v, parse(x));`
#define XNODE_TRY_CONCAT_(a, b) a##b
#define XNODE_TRY_CONCAT(a, b) XNODE_TRY_CONCAT_(a, b)
#define XNODE_TRY(decl, expr)                                      \
  auto XNODE_TRY_CONCAT(xnode_try_, __LINE__) = (expr);            \
  if (!XNODE_TRY_CONCAT(xnode_try_, __LINE__)) return XNODE_TRY_CONCAT(xnode_try_, __LINE__).error(); \
  decl = std::move(XNODE_TRY_CONCAT(xnode_try_, __LINE__)).value()
