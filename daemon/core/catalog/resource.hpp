// One catalog resource (政务信息资源目录 entry, platform-api.md §4) and the department's slice.
// Optional enumerations are std::optional so that "absent" survives parsing and validation can say
// "required" instead of guessing a default.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog/enums.hpp"

namespace xnode::catalog {

struct Classification {
  std::optional<ClassKind> kind;  // member `class`
  std::string item;               // 2 digits
  std::string sub;                // 3 digits
  std::string detail;             // digits or empty
};

struct Provider {
  std::string name;
  std::string code;  // unified social credit code of the providing department
  std::string unit;
};

struct Format {
  std::optional<FormatCategory> category;
  std::string type;  // free text, e.g. "postgresql"
};

struct Item {
  std::string name;  // [a-z][a-z0-9_]*
  std::string title;
  std::optional<ItemType> type;
  std::optional<std::int64_t> length;  // characters (code points), C and M only
  bool key = false;
  bool required = false;
  IdentifierKind identifier = IdentifierKind::none;
  bool sensitive = false;
  std::string purpose;
  bool classified = false;

  friend bool operator==(const Item&, const Item&) = default;
};

struct Share {
  std::optional<ShareType> type;
  std::string condition;
  std::string legal_basis;
  std::optional<ShareMethod> method;
  std::optional<MethodType> method_type;
  std::string usage;
};

struct Open {
  std::optional<OpenType> type;
  std::string condition;
};

struct Resource {
  std::string code;  // <classification code>/<provider.code>-<5 digits>
  std::string name;
  Classification classification;
  Provider provider;
  std::string abstract_text;  // member `abstract`
  Format format;
  std::vector<Item> items;
  Share share;
  Open open;
  std::optional<UpdateCycle> update_cycle;
  std::string published;  // YYYY-MM-DD, empty when absent
  std::vector<std::string> related;

  const Item* find_item(std::string_view item_name) const;
  bool shared() const { return share.type != ShareType::none; }
};

bool operator==(const Classification&, const Classification&);
bool operator==(const Provider&, const Provider&);
bool operator==(const Format&, const Format&);
bool operator==(const Share&, const Share&);
bool operator==(const Open&, const Open&);
bool operator==(const Resource&, const Resource&);

// The department's slice: resources sorted by code (the order of the PUT body and of the hash).
struct Slice {
  std::vector<Resource> resources;

  void sort();  // by code
  const Resource* find(std::string_view code) const;
};

// "<classification code>": class digit + item + sub + detail, e.g. "101003". Empty when the class
// is absent.
std::string classification_code(const Classification& c);

}  // namespace xnode::catalog
