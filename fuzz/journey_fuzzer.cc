// Fuzz target: the journey definition parsers (text format, a set in text format, JSON). A
// definition that parses is validated, added to an in-memory engine and run over a few fixed
// events. Invariants: no crash, hang or leak; errors have messages; a parsed definition is valid.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "fuzz_util.h"
#include "omnijourney/engine.h"
#include "omnijourney/journey.h"

namespace {

omnijourney::Event MakeEvent(int i) {
  omnijourney::Event e;
  e.set_source("fuzz");
  e.set_event_id("e" + std::to_string(i));
  e.set_kind(i % 2 == 0 ? omnijourney::v1::EVENT_KIND_PAGE : omnijourney::v1::EVENT_KIND_ORDER);
  e.set_channel(i % 3 == 0 ? omnijourney::v1::CHANNEL_WEB : omnijourney::v1::CHANNEL_EMAIL);
  e.set_name(i % 2 == 0 ? "Product Viewed" : "Order Completed");
  e.mutable_occurred_at()->set_seconds(1790000000 + i * 3600);
  auto* id = e.add_identifiers();
  id->set_type("email");
  id->set_value("fuzz@example.com");
  return e;
}

void Run(const omnijourney::JourneyDefinition& journey) {
  FUZZ_CHECK(omnijourney::ValidateJourney(journey).ok());
  omnijourney::EngineOptions options;
  options.time_mode = omnijourney::EngineOptions::TimeMode::kEventTime;
  auto engine = omnijourney::Engine::Open(options);
  FUZZ_CHECK(engine.ok());
  const absl::Status added = (*engine)->AddJourney(journey);
  FUZZ_CHECK(added.ok() || !added.message().empty());
  for (int i = 0; i < 6; ++i) FUZZ_CHECK((*engine)->Ingest(MakeEvent(i)).ok());
  FUZZ_CHECK((*engine)->AdvanceTime(absl::FromUnixSeconds(1790000000 + 90 * 86400)).ok());
  std::vector<std::string> ids;
  for (const auto& a : (*engine)->TakeActions()) ids.push_back(a.id);
  FUZZ_CHECK((*engine)->AckActions(ids).ok());
  FUZZ_CHECK((*engine)->TakeActions().empty());
  FUZZ_CHECK((*engine)->Context({"", "email", "fuzz@example.com"}).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto j = omnijourney::ParseJourneyText(text); j.ok()) {
    Run(*j);
  } else {
    FUZZ_CHECK(!j.status().message().empty());
  }
  if (auto set = omnijourney::ParseJourneySetText(text); set.ok()) {
    for (const auto& j : *set) FUZZ_CHECK(omnijourney::ValidateJourney(j).ok());
  } else {
    FUZZ_CHECK(!set.status().message().empty());
  }
  if (auto j = omnijourney::ParseJourneyJson(text); j.ok()) {
    Run(*j);
  } else {
    FUZZ_CHECK(!j.status().message().empty());
  }
  return 0;
}
