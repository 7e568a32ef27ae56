// Fuzz target: the Segment JSON adapter (one document and JSON Lines), then validation of whatever
// it converts. Invariants: no crash, hang or leak; every error has a message; every converted
// event is either valid or rejected with a message.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/time/time.h"
#include "fuzz_util.h"
#include "omnijourney/segment.h"
#include "omnijourney/validate.h"

namespace {

void CheckEvents(const omnijourney::ParsedEvents& parsed) {
  const absl::Time now = absl::FromUnixSeconds(1795000000);  // 2026-11-18: fixed, for reproducibility.
  for (const auto& e : parsed.events) {
    const absl::Status s = omnijourney::ValidateEvent(e, omnijourney::ValidationOptions(), now);
    FUZZ_CHECK(s.ok() || !s.message().empty());
  }
  for (const auto& err : parsed.errors) FUZZ_CHECK(!err.status.ok() && !err.status.message().empty());
  for (const auto& w : parsed.warnings) FUZZ_CHECK(!w.message.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  omnijourney::SegmentOptions options;
  // Not read from the input: the corpus keeps its meaning.
  options.phone_region_from_locale = size % 2 == 0;
  // A receive time (clock-skew correction of library-sent messages) on every other size class;
  // semantic events off and a small message limit on some.
  if (size % 4 < 2) options.received_at = absl::FromUnixSeconds(1795000000);
  options.semantic_events = size % 3 != 0;
  if (size % 5 == 0) options.max_message_bytes = 256;
  const auto one = omnijourney::ParseSegmentJson(text, options);
  if (one.ok()) {
    CheckEvents(*one);
  } else {
    FUZZ_CHECK(!one.status().message().empty());
  }
  CheckEvents(omnijourney::ParseSegmentJsonLines(text, options));
  return 0;
}
