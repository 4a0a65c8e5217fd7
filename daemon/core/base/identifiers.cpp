#include "core/base/identifiers.hpp"

#include "core/base/time.hpp"

namespace xnode::identifiers {

char citizen_id_check(std::string_view first17) {
  static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  if (first17.size() != 17) return '\0';
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    char c = first17[static_cast<std::size_t>(i)];
    if (c < '0' || c > '9') return '\0';
    sum += (c - '0') * weights[i];
  }
  return "10X98765432"[sum % 11];
}

bool valid_citizen_id(std::string_view id) {
  if (id.size() != 18) return false;
  char check = citizen_id_check(id.substr(0, 17));
  if (check == '\0' || id[17] != check) return false;
  auto num = [&](std::size_t pos, std::size_t n) {
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) v = v * 10 + (id[i] - '0');
    return v;
  };
  return valid_ymd(num(6, 4), num(10, 2), num(12, 2));
}

static int uscc_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  // A-Z without I O S V Z map to 10..30 in order.
  static const char* letters = "ABCDEFGHJKLMNPQRTUWXY";
  for (int i = 0; letters[i]; ++i)
    if (letters[i] == c) return 10 + i;
  return -1;
}

char uscc_check(std::string_view first17) {
  static const int weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
  static const char* alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  if (first17.size() != 17) return '\0';
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    int v = uscc_value(first17[static_cast<std::size_t>(i)]);
    if (v < 0) return '\0';
    sum += v * weights[i];
  }
  int check = 31 - sum % 31;
  if (check == 31) check = 0;
  return alphabet[check];
}

bool valid_uscc(std::string_view code) {
  if (code.size() != 18) return false;
  char check = uscc_check(code.substr(0, 17));
  return check != '\0' && code[17] == check;
}

}  // namespace xnode::identifiers
