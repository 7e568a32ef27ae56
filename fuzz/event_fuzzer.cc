// Fuzz target: the event validator, fed two ways. The input as omnijourney JSON (EventFromJson) and
// as a binary protobuf Event. Invariants: no crash, hang or leak; a rejection has a message naming a
// field; an event that passes validation survives the JSON round trip and still passes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/time/time.h"
#include "fuzz_util.h"
#include "omnijourney/event_json.h"
#include "omnijourney/validate.h"

namespace {

const absl::Time kNow = absl::FromUnixSeconds(1795000000);  // 2026-11-18: fixed, for reproducibility.

void Check(const omnijourney::Event& e) {
  const omnijourney::ValidationOptions options;
  const absl::Status s = omnijourney::ValidateEvent(e, options, kNow);
  if (!s.ok()) {
    FUZZ_CHECK(!s.message().empty());
    return;
  }
  const auto again = omnijourney::EventFromJson(omnijourney::EventToJson(e));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(omnijourney::ValidateEvent(*again, options, kNow).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto e = omnijourney::EventFromJson(text); e.ok()) {
    Check(*e);
  } else {
    FUZZ_CHECK(!e.status().message().empty());
  }
  omnijourney::Event binary;
  if (binary.ParseFromArray(data, static_cast<int>(size))) Check(binary);
  return 0;
}
