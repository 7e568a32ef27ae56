// Tags errors that broke a resource limit with the option's name (read by ExceededLimit).
#ifndef OMNIJOURNEY_COMMON_LIMIT_H_
#define OMNIJOURNEY_COMMON_LIMIT_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/cord.h"

namespace omnijourney::internal {

inline constexpr char kLimitPayload[] = "type.omnijourney/limit";

inline void TagLimit(absl::Status& status, std::string_view option) {
  status.SetPayload(kLimitPayload, absl::Cord(absl::string_view(option.data(), option.size())));
}

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_COMMON_LIMIT_H_
