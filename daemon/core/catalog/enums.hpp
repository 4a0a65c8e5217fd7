// The enumerations of the resource catalog (platform-api.md §4). They travel as their English
// codes; the Chinese label is what an operator reads, and is accepted as an alias on input.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace xnode::catalog {

enum class ClassKind { base, theme, department };
enum class FormatCategory { document, spreadsheet, database, image, stream, self_describing, service, other };
enum class ItemType { C, M, N, Y, B, F, I, D, T, L, G };
enum class IdentifierKind { none, citizen_id, uscc };
enum class ShareType { unconditional, conditional, none };
enum class ShareMethod { platform, mail, media };
enum class MethodType { database, api, file };
enum class OpenType { open, conditional, closed };
enum class UpdateCycle { realtime, daily, weekly, monthly, quarterly, half_yearly, yearly, other };

template <typename E>
struct EnumEntry {
  E value;
  std::string_view code;   // on the wire
  std::string_view label;  // 中文 label, accepted on input
};

// The table of every enumeration: all values with code and label, in declaration order.
template <typename E>
std::span<const EnumEntry<E>> enum_entries();
template <> std::span<const EnumEntry<ClassKind>> enum_entries();
template <> std::span<const EnumEntry<FormatCategory>> enum_entries();
template <> std::span<const EnumEntry<ItemType>> enum_entries();
template <> std::span<const EnumEntry<IdentifierKind>> enum_entries();
template <> std::span<const EnumEntry<ShareType>> enum_entries();
template <> std::span<const EnumEntry<ShareMethod>> enum_entries();
template <> std::span<const EnumEntry<MethodType>> enum_entries();
template <> std::span<const EnumEntry<OpenType>> enum_entries();
template <> std::span<const EnumEntry<UpdateCycle>> enum_entries();

template <typename E>
std::string_view code_of(E value) {
  for (const auto& e : enum_entries<E>())
    if (e.value == value) return e.code;
  return {};
}

template <typename E>
std::string_view label_of(E value) {
  for (const auto& e : enum_entries<E>())
    if (e.value == value) return e.label;
  return {};
}

// Accepts the English code or the Chinese label.
template <typename E>
std::optional<E> enum_from_text(std::string_view text) {
  for (const auto& e : enum_entries<E>())
    if (e.code == text || e.label == text) return e.value;
  return std::nullopt;
}

// "base (基础), theme (主题), department (部门)" — for error messages.
template <typename E>
std::string enum_choices() {
  std::string out;
  for (const auto& e : enum_entries<E>()) {
    if (!out.empty()) out += ", ";
    out.append(e.code).append(" (").append(e.label).append(")");
  }
  return out;
}

// The digit a classification class contributes to the resource code (base 1, theme 2, department 3).
char class_digit(ClassKind kind);

}  // namespace xnode::catalog
