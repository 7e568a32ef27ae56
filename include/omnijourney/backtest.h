// Backtest of journey definitions over history: what a new or changed journey would have done with
// the customers of a period, next to what the live version does with the same history, without
// handing out a single action and without touching the live engine.
//
// The dry run copies the state read through Engine::ForEachProfile: each profile's retained
// timeline entries of the period become events of one customer (identifier type "profile", the
// profile as it is stitched now), replayed in event-time order into a scratch in-memory engine that
// holds only the definitions under test and the live engine's options (frequency caps, quiet hours,
// timeline options). Its actions are counted per day, journey and channel with their disposition
// (delivered, deferred by quiet hours, suppressed by a cap or quiet hours), acknowledged in the
// scratch engine and never leave it. The live definitions of the same names are replayed the same
// way for the side-by-side; the live engine's own funnels of the period are included as recorded.
//
// What a replay cannot see: traits (quiet hours use the actions' default time zone), properties
// that are not TimelineOptions::key_properties (they are replayed as strings), identifiers.
// Memory: the period's events, as a replay of them costs.
//
// Example:
//   omnijourney::analytics::BacktestOptions options;
//   options.from = absl::FromCivil(absl::CivilDay(2026, 9, 1), absl::UTCTimeZone());
//   options.to = absl::FromCivil(absl::CivilDay(2026, 10, 1), absl::UTCTimeZone());
//   options.engine = live_options;  // Caps and quiet hours as in production.
//   auto result = omnijourney::analytics::RunBacktest(*engine, {candidate_v2}, options);
//   std::cout << result->ToString();
#ifndef OMNIJOURNEY_BACKTEST_H_
#define OMNIJOURNEY_BACKTEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "omnijourney/analysis.h"
#include "omnijourney/engine.h"
#include "omnijourney/engine_options.h"

namespace omnijourney::analytics {

struct BacktestOptions {
  // Events in [from, to) are replayed; at the end time advances to `to` (or a day after the last
  // event when `to` is unbounded) so that due timeouts fire.
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
  std::optional<std::string> tenant;  // Only this tenant; all when unset.
  // The live engine's options: actions (caps, quiet hours), timeline, validation. Storage, clock
  // and tenants' limits are not used by the scratch engine.
  EngineOptions engine;
  absl::TimeZone time_zone = absl::UTCTimeZone();  // Days of BacktestRun::actions.
  FunnelOptions funnels;  // drop_after and examples; as_of is the end of the replay.
  // Between events the replay's time moves on in these steps, so a timeout is acted on within a
  // step of its due time, as a live engine's timer thread does (not at the next event); quiet hours
  // and caps see that time. At least a second.
  absl::Duration timer_step = absl::Minutes(1);
};

struct ActionCount {
  absl::CivilDay day;  // Of the transition that handed it out (a deferred one is delivered later).
  std::string journey;
  std::string channel;  // "" for actions without a channel.
  int64_t delivered = 0;
  int64_t deferred = 0;
  int64_t suppressed = 0;
  int64_t total() const { return delivered + deferred + suppressed; }
};

struct BacktestRun {
  std::string label;  // "candidate", "live (replayed)".
  std::vector<JourneyDefinition> journeys;  // The definitions replayed.
  std::vector<JourneyFunnel> funnels;       // One per definition, in its order.
  std::vector<ActionCount> actions;         // By day, journey, channel.
  int64_t delivered = 0;
  int64_t deferred = 0;
  int64_t suppressed = 0;
};

struct Backtest {
  absl::Time from, to;  // The period asked.
  absl::Time end;       // Where the replays' time ended.
  int64_t profiles = 0;  // With at least one event replayed.
  int64_t events = 0;    // Replayed into each run.
  int64_t rejected = 0;  // Entries the scratch engine refused (per run).
  BacktestRun candidate;
  BacktestRun live;  // The live engine's newest version of each candidate's name (none for new names).
  // The live engine's own funnels of those journeys, for instances started in the period.
  std::vector<JourneyFunnel> recorded;

  // A side-by-side text table: per journey the instances, conversion, time to goal and states
  // reached; the actions by disposition; the actions per day and channel.
  std::string ToString() const;
};

// InvalidArgument for an invalid candidate (naming it), an empty candidate list or from >= to.
// Errors of the live engine's ForEachProfile are returned as they are.
absl::StatusOr<Backtest> RunBacktest(const Engine& live, const std::vector<JourneyDefinition>& candidate,
                                     const BacktestOptions& options);

}  // namespace omnijourney::analytics

#endif  // OMNIJOURNEY_BACKTEST_H_
