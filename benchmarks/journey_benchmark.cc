// Journey matching throughput.
//
// Inputs (seeded): 20 journeys, each entered by its own "Start <k>" event, moving on "Step <k>",
// "Buy" and "Support" events, with 24h and 7d timeouts. A stream of 1M events over 100k profiles
// (10 events each, one hour apart, per profile in time order); event names are drawn from the 20
// start names, 20 step names and 20 names no journey mentions.
//
// BM_JourneyApply: ProfileJourneys::Apply for each event of each profile (the runtime alone, on
//   already-stored events). Reported: items_per_second = events/s.
// BM_EngineIngestWithJourneys: the same events through Engine::IngestBatch (validation, identity,
//   timeline and journeys). Reported: items_per_second = events/s.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "google/protobuf/arena.h"
#include "journey/runtime.h"
#include "omnijourney/engine.h"
#include "omnijourney/journey.h"
#include "timeline/timeline.h"

namespace {

using omnijourney::Event;
namespace v1 = omnijourney::v1;
using omnijourney::JourneyBuilder;
using omnijourney::MakeAction;
using omnijourney::OnEvent;

constexpr int kJourneys = 20;
constexpr int kProfiles = 100000;
constexpr int kPerProfile = 10;
const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01

std::vector<omnijourney::JourneyDefinition> Journeys() {
  std::vector<omnijourney::JourneyDefinition> out;
  for (int k = 0; k < kJourneys; ++k) {
    auto j = JourneyBuilder(absl::StrCat("journey_", k), 1)
                 .Entry(OnEvent().Names({absl::StrCat("Start ", k)}))
                 .Reentry(v1::Reentry::REENTRY_AFTER_EXIT)
                 .State("started")
                 .On("engaged", OnEvent().Names({absl::StrCat("Step ", k)}))
                 .On("converted", OnEvent().Names({"Buy"}), {MakeAction("thank")})
                 .After("lapsed", absl::Hours(24), {MakeAction("nudge", "preferred")})
                 .State("engaged")
                 .On("converted", OnEvent().Names({"Buy"}))
                 .On("engaged", OnEvent().Names({"Support"}).Channels({v1::CHANNEL_VOICE, v1::CHANNEL_CHAT}))
                 .After("lapsed", absl::Hours(24 * 7))
                 .Goal("converted")
                 .Exit("lapsed")
                 .Build();
    out.push_back(*j);
  }
  return out;
}

std::string NameFor(uint64_t r) {
  const int which = static_cast<int>(r % 63);
  if (which < 20) return absl::StrCat("Start ", which);
  if (which < 40) return absl::StrCat("Step ", which - 20);
  if (which == 60) return "Buy";
  if (which >= 61) return "Support";
  return absl::StrCat("Page ", which);
}

struct Stream {
  std::vector<std::unique_ptr<google::protobuf::Arena>> arenas;
  std::vector<const Event*> events;  // Profile-interleaved, globally in time order.
};

Stream MakeStream() {
  Stream s;
  std::mt19937_64 rng(11);
  for (int step = 0; step < kPerProfile; ++step) {
    for (int p = 0; p < kProfiles; ++p) {
      if (s.events.size() % 10000 == 0) s.arenas.push_back(std::make_unique<google::protobuf::Arena>());
      Event& e = *google::protobuf::Arena::CreateMessage<Event>(s.arenas.back().get());
      e.set_source("bench");
      e.set_event_id(absl::StrCat(p, "-", step));
      e.set_kind(v1::EVENT_KIND_TRACK);
      e.set_name(NameFor(rng()));
      e.set_channel(rng() % 2 ? v1::CHANNEL_WEB : v1::CHANNEL_CHAT);
      e.set_direction(v1::DIRECTION_INBOUND);
      *e.mutable_occurred_at() = omnijourney::ToTimestamp(kStart + absl::Hours(step) + absl::Milliseconds(p));
      auto* id = e.add_identifiers();
      id->set_type("user_id");
      id->set_value(absl::StrCat("u", p));
      s.events.push_back(&e);
    }
  }
  return s;
}

const Stream& TheStream() {
  static const Stream* s = new Stream(MakeStream());
  return *s;
}

void BM_JourneyApply(benchmark::State& state) {
  omnijourney::internal::JourneyCatalog catalog;
  for (const auto& j : Journeys()) (void)catalog.Add(j);
  const omnijourney::TimelineOptions topt;
  // Stored entries per profile, in order.
  std::vector<std::vector<omnijourney::internal::StoredEntry>> entries(kProfiles);
  const auto& stream = TheStream();
  for (size_t i = 0; i < stream.events.size(); ++i) {
    entries[i % kProfiles].push_back(omnijourney::internal::MakeEntry(*stream.events[i], topt));
  }
  const std::vector<std::string> priority;
  int64_t actions = 0;
  for (auto _ : state) {
    actions = 0;
    for (const auto& profile : entries) {
      omnijourney::internal::ProfileJourneys journeys(&catalog, &priority);
      for (const auto& e : profile) journeys.Apply(e);
      actions += static_cast<int64_t>(journeys.actions().size());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(stream.events.size()));
  state.counters["actions"] = static_cast<double>(actions);
}
BENCHMARK(BM_JourneyApply)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_EngineIngestWithJourneys(benchmark::State& state) {
  const auto& stream = TheStream();
  for (auto _ : state) {
    omnijourney::EngineOptions options;
    options.time_mode = omnijourney::EngineOptions::TimeMode::kEventTime;
    auto engine = *omnijourney::Engine::Open(options);
    for (const auto& j : Journeys()) (void)engine->AddJourney(j);
    for (size_t i = 0; i < stream.events.size(); i += 1000) {
      std::vector<const Event*> batch(stream.events.begin() + static_cast<std::ptrdiff_t>(i),
                                      stream.events.begin() + static_cast<std::ptrdiff_t>(std::min(stream.events.size(), i + 1000)));
      auto r = engine->IngestBatch(batch);
      benchmark::DoNotOptimize(r);
      std::vector<std::string> ids;
      for (const auto& a : engine->TakeActions()) ids.push_back(a.id);
      benchmark::DoNotOptimize(engine->AckActions(ids));
    }
    state.PauseTiming();
    engine.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(stream.events.size()));
}
BENCHMARK(BM_EngineIngestWithJourneys)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
