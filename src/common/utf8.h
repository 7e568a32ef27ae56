// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
#ifndef OMNIJOURNEY_SRC_COMMON_UTF8_H_
#define OMNIJOURNEY_SRC_COMMON_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace omnijourney::internal {

// Returns s.size() when `s` is valid UTF-8, else the byte offset of the first invalid sequence.
size_t FindInvalidUtf8(std::string_view s);

inline bool IsValidUtf8(std::string_view s) { return FindInvalidUtf8(s) == s.size(); }

// Appends the UTF-8 encoding of `code_point` (REQUIRES: <= 0x10FFFF, not a surrogate).
void AppendUtf8(char32_t code_point, std::string* out);

// True when `s` contains an ASCII control character (0x00-0x1F or 0x7F).
bool HasControlChar(std::string_view s);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_COMMON_UTF8_H_
