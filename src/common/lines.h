// Splitting JSON Lines input.
#ifndef OMNIJOURNEY_SRC_COMMON_LINES_H_
#define OMNIJOURNEY_SRC_COMMON_LINES_H_

#include <string_view>

namespace omnijourney::internal {

// Calls fn(line_number, line) for each non-blank line of `text` (1-based numbers, "\n" or "\r\n"
// endings, the ending not included).
template <typename Fn>
void ForEachNonBlankLine(std::string_view text, Fn fn) {
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    fn(line_no, line);
  }
}

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_COMMON_LINES_H_
