// Private status helpers. Debian's Abseil (20220623) has no ABSL_RETURN_IF_ERROR / ASSIGN_OR_RETURN.
#ifndef OMNIJOURNEY_SRC_COMMON_STATUS_MACROS_H_
#define OMNIJOURNEY_SRC_COMMON_STATUS_MACROS_H_

#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// Returns the status from the enclosing function when `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                                 \
  do {                                                        \
    ::absl::Status omnijourney_status_ = (expr);              \
    if (!omnijourney_status_.ok()) return omnijourney_status_; \
  } while (false)

#define OMNIJOURNEY_CONCAT_INNER_(a, b) a##b
#define OMNIJOURNEY_CONCAT_(a, b) OMNIJOURNEY_CONCAT_INNER_(a, b)

// `lhs = value of expr` for an absl::StatusOr `expr`, or returns its status when not OK.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(OMNIJOURNEY_CONCAT_(omnijourney_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

namespace omnijourney::internal {

// Debian's absl::string_view is not std::string_view; this converts without copying.
inline absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// The same status with `prefix` put before its message ("line 3: " + message).
inline absl::Status Prefixed(std::string_view prefix, const absl::Status& status) {
  if (status.ok()) return status;
  std::string message(prefix);
  message.append(status.message().data(), status.message().size());
  return absl::Status(status.code(), message);
}

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_COMMON_STATUS_MACROS_H_
