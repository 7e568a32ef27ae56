// Scenario 7: one synthetic population through the engine with identity stitching (omnichannel)
// and without (multichannel: every channel keeps its own customers, as separate systems do).
//
// The support agents' success depends on what the engine shows them: after every support contact
// the example asks the engine (ContactMonitor) whether the contact's profile holds earlier history
// from another channel and tells the population, whose follow-up contacts resolve more often when
// the agent saw the earlier ones. Everything else about the customers is the same in both runs.
//
// Each run feeds a second engine that knows the true customer of every event (one CRM id per
// customer, nothing else): the "customers" columns are the same events grouped correctly, i.e. what
// really happened, next to what the engine could measure.
#ifndef OMNIJOURNEY_EXAMPLES_OMNICHANNEL_COMPARE_H_
#define OMNIJOURNEY_EXAMPLES_OMNICHANNEL_COMPARE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "omnijourney/analysis.h"
#include "omnijourney/engine.h"
#include "omnijourney/synth.h"

namespace omnijourney::examples {

struct View {
  analytics::Analysis analysis;  // Everything; the fields below are parts of it.
  analytics::Kpis kpis;
  std::vector<analytics::JourneyFunnel> funnels;  // One per journey, in the given order.
  analytics::ChannelPathReport paths;
};

struct ModeResult {
  bool stitching = false;
  View engine;     // As the engine's profiles show it.
  View customers;  // Grouped by true customer.
  EngineStats stats;
  int64_t delivered = 0;
  int64_t rejected = 0;
  int64_t issues = 0;           // Support issues in the simulation.
  int64_t issues_resolved = 0;  // Resolved by some contact.
};

// Teams of the synthetic contact centre come from the events' "team" property.
inline absl::StatusOr<View> Analyse(const Engine& engine, const analytics::ContactMonitor& monitor,
                                    const std::vector<JourneyDefinition>& journeys) {
  analytics::AnalysisOptions options;
  options.journeys = journeys;
  auto analysis = analytics::Analyze(engine, options, &monitor);
  if (!analysis.ok()) return analysis.status();
  View v;
  v.kpis = analysis->kpis;
  v.funnels = analysis->funnels;
  v.paths = analysis->paths;
  v.analysis = *std::move(analysis);
  return v;
}

inline absl::StatusOr<ModeResult> RunMode(bool stitching, const synth::PopulationOptions& population_options,
                                          const std::vector<JourneyDefinition>& journeys) {
  EngineOptions options;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  auto engine = Engine::Open(options);
  if (!engine.ok()) return engine.status();
  auto truth = Engine::Open(options);
  if (!truth.ok()) return truth.status();
  for (const JourneyDefinition& j : journeys) {
    if (absl::Status s = (*engine)->AddJourney(j); !s.ok()) return s;
    if (absl::Status s = (*truth)->AddJourney(j); !s.ok()) return s;
  }
  auto population = synth::Population::Create(population_options);
  if (!population.ok()) return population.status();

  ModeResult out;
  out.stitching = stitching;
  analytics::ContactMonitor monitor, truth_monitor;
  synth::GeneratedEvent g;
  absl::Time latest = absl::InfinitePast();
  while ((*population)->Next(&g)) {
    Event e = g.event;
    // Multichannel: each channel is a tenant of its own, and identifiers never link across tenants.
    if (!stitching) e.set_tenant(std::string(ChannelName(e.channel())));
    auto r = (*engine)->Ingest(e);
    if (!r.ok()) {
      ++out.rejected;
      continue;
    }
    std::optional<bool> history = monitor.Observe(**engine, e, *r);
    if (g.contact) (*population)->ReportHistory(history.value_or(false));

    Event t = g.event;
    t.clear_identifiers();
    auto* id = t.add_identifiers();
    id->set_type("crm_id");
    id->set_value(absl::StrCat("customer-", g.customer));
    if (auto tr = (*truth)->Ingest(t); tr.ok()) truth_monitor.Observe(**truth, t, *tr);
    latest = std::max(latest, FromTimestamp(g.event.occurred_at()));
  }
  // Let the journeys' timeouts (14 days) fire for the last customers.
  if (latest != absl::InfinitePast()) {
    if (absl::Status s = (*engine)->AdvanceTime(latest + absl::Hours(24 * 15)); !s.ok()) return s;
    if (absl::Status s = (*truth)->AdvanceTime(latest + absl::Hours(24 * 15)); !s.ok()) return s;
  }
  out.delivered = (*population)->delivered();
  out.issues = (*population)->issues();
  out.issues_resolved = (*population)->issues_resolved();
  out.stats = (*engine)->Stats();
  auto ev = Analyse(**engine, monitor, journeys);
  if (!ev.ok()) return ev.status();
  out.engine = *std::move(ev);
  auto cv = Analyse(**truth, truth_monitor, journeys);
  if (!cv.ok()) return cv.status();
  out.customers = *std::move(cv);
  return out;
}

}  // namespace omnijourney::examples

#endif  // OMNIJOURNEY_EXAMPLES_OMNICHANNEL_COMPARE_H_
