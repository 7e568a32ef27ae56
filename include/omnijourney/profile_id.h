// Profile ids and stored identifiers: the vocabulary every module shares (identity, timelines,
// context, journeys, the engine).
#ifndef OMNIJOURNEY_PROFILE_ID_H_
#define OMNIJOURNEY_PROFILE_ID_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace omnijourney {

// A profile id: a keyed 64-bit hash of the profile's oldest identifier. 0 means "no profile".
using ProfileId = uint64_t;

// "p-0123456789abcdef" and back.
std::string FormatProfileId(ProfileId id);
absl::StatusOr<ProfileId> ParseProfileId(std::string_view text);

// An identifier as stored: its type and normalised value.
struct IdentifierValue {
  std::string type;
  std::string value;
  bool operator==(const IdentifierValue&) const = default;
};

}  // namespace omnijourney

#endif  // OMNIJOURNEY_PROFILE_ID_H_
