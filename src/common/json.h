// A strict RFC 8259 JSON parser producing google.protobuf.Value trees, with line/column errors and a
// nesting limit, so that malformed or hostile input gives an error and never a crash or deep recursion.
#ifndef OMNIJOURNEY_SRC_COMMON_JSON_H_
#define OMNIJOURNEY_SRC_COMMON_JSON_H_

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"

namespace omnijourney::internal {

struct JsonParseOptions {
  // Deepest array/object nesting accepted. Default: 64.
  int max_depth = 64;
  // Line number reported for the first line of `text` (for text cut out of a larger file).
  int first_line = 1;
};

// Parses exactly one JSON value surrounded by optional whitespace. Numbers become doubles (integers
// up to 2^53 are exact). Strings must be valid UTF-8; \u escapes must pair surrogates. Duplicate object
// keys: the last one wins.
//
// Errors are InvalidArgument: "line 3, column 14: expected ':' after an object key".
absl::StatusOr<google::protobuf::Value> ParseJson(std::string_view text,
                                                  const JsonParseOptions& options = {});

// Checks that `text` is one well-formed JSON value without building it. Same errors as ParseJson.
absl::Status CheckJsonSyntax(std::string_view text, const JsonParseOptions& options = {});

// The size in bytes, as written, of each element of a list: the elements of the document's
// top-level array, or of its "batch" member's array (the last one, as ParseJson keeps the last).
// Empty when the document is neither. REQUIRES: `json` is well-formed (ParseJson accepted it).
std::vector<size_t> JsonListElementSizes(std::string_view json);

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_COMMON_JSON_H_
