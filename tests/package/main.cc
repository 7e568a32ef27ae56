// Uses the installed headers and library: parse a Segment message, validate it, ingest it into an
// Engine and look the customer up again.
#include <iostream>

#include "omnijourney/engine.h"
#include "omnijourney/segment.h"
#include "omnijourney/validate.h"
#include "omnijourney/version.h"

int main() {
  auto parsed = omnijourney::ParseSegmentJson(
      R"({"type":"track","event":"Signed Up","userId":"u-1","messageId":"m-1",)"
      R"("timestamp":"2026-11-20T10:00:00Z"})",
      {});
  if (!parsed.ok() || parsed->events.size() != 1) {
    std::cerr << "parse failed\n";
    return 1;
  }
  const auto& event = parsed->events[0];
  absl::Status valid = omnijourney::ValidateEvent(event, {}, absl::Now());
  if (!valid.ok()) {
    std::cerr << valid << "\n";
    return 1;
  }
  auto engine = omnijourney::Engine::Open({});
  if (!engine.ok() || !(*engine)->Ingest(event).ok()) {
    std::cerr << "engine failed\n";
    return 1;
  }
  auto ctx = (*engine)->Context({"", "user_id", "u-1"});
  if (!ctx.ok() || ctx->timeline_size != 1) {
    std::cerr << "context failed\n";
    return 1;
  }
  std::cout << "omnijourney " << OMNIJOURNEY_VERSION_STRING << ": "
            << omnijourney::DescribeEvent(event) << "\n";
  return 0;
}
