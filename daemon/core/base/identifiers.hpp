// Identifier rules of Art. 15: citizen ID (GB 11643-1999) and unified social credit code
// (GB 32100-2015) — structure and check character.
#pragma once
#include <string>
#include <string_view>

namespace xnode::identifiers {

// 6-digit area + YYYYMMDD (a real date) + 3-digit sequence + check character (0-9 or X).
bool valid_citizen_id(std::string_view id);
// The check character for the first 17 characters (digits); '\0' when they are not 17 digits.
char citizen_id_check(std::string_view first17);

// 18 characters from 0-9A-Z without I O S V Z; last one the check character.
bool valid_uscc(std::string_view code);
// The check character for the first 17 characters; '\0' when one is not in the alphabet.
char uscc_check(std::string_view first17);

}  // namespace xnode::identifiers
