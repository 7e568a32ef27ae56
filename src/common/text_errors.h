// The first error protobuf's text-format parser reports, with its line and column (journey
// definitions, engine configuration files).
#ifndef OMNIJOURNEY_SRC_COMMON_TEXT_ERRORS_H_
#define OMNIJOURNEY_SRC_COMMON_TEXT_ERRORS_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"

namespace omnijourney::internal {

class FirstTextError final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (first_.empty()) first_ = absl::StrCat("line ", line + 1, ", column ", column + 1, ": ", message);
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  // "line 2, column 3: ..." (empty: none).
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_COMMON_TEXT_ERRORS_H_
