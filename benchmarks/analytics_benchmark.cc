// Benchmarks on the synthetic population (omnijourney/synth.h, seed 1): generating it, replaying it
// through the engine with the demo's journeys (examples/data/journeys.textproto), and the analytics
// over the resulting profiles.
//
//   build-release/benchmarks/analytics_benchmark [--benchmark_filter=...]
//
// Arg = customers (20,000 customers give ~115k events and ~23.5k profiles).
#include <benchmark/benchmark.h>

#include <map>

#include "demo_journeys.h"
#include "omnijourney/analytics.h"
#include "omnijourney/engine.h"
#include "omnijourney/journey.h"
#include "omnijourney/synth.h"

namespace {

using namespace omnijourney;  // NOLINT: benchmark brevity.

const std::vector<synth::GeneratedEvent>& Population(int64_t customers) {
  static auto* cache = new std::map<int64_t, std::vector<synth::GeneratedEvent>>();
  auto it = cache->find(customers);
  if (it == cache->end()) {
    synth::PopulationOptions o;
    o.customers = customers;
    it = cache->emplace(customers, *synth::Generate(o)).first;
  }
  return it->second;
}

std::unique_ptr<Engine> Replayed(int64_t customers) {
  EngineOptions options;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  auto engine = Engine::Open(options);
  for (const auto& j : benchmarks::DemoJourneys()) (void)(*engine)->AddJourney(j);
  const auto& events = Population(customers);
  std::vector<const Event*> batch;
  for (size_t i = 0; i < events.size(); i += 1000) {
    batch.clear();
    for (size_t k = i; k < std::min(events.size(), i + 1000); ++k) batch.push_back(&events[k].event);
    (void)(*engine)->IngestBatch(batch);
  }
  return *std::move(engine);
}

const analytics::Profiles& Profiles(int64_t customers) {
  static auto* cache = new std::map<int64_t, analytics::Profiles>();
  auto it = cache->find(customers);
  if (it == cache->end()) it = cache->emplace(customers, *analytics::CollectProfiles(*Replayed(customers))).first;
  return it->second;
}

void BM_GeneratePopulation(benchmark::State& state) {
  synth::PopulationOptions o;
  o.customers = state.range(0);
  int64_t events = 0;
  for (auto _ : state) {
    auto p = synth::Population::Create(o);
    synth::GeneratedEvent g;
    while ((*p)->Next(&g)) ++events;
  }
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GeneratePopulation)->Arg(20000)->Unit(benchmark::kMillisecond);

// Replay with the two demo journeys, batches of 1000.
void BM_ReplayPopulation(benchmark::State& state) {
  const auto& events = Population(state.range(0));
  for (auto _ : state) {
    auto engine = Replayed(state.range(0));
    benchmark::DoNotOptimize(engine.get());
  }
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events.size() * state.iterations()),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReplayPopulation)->Arg(20000)->Unit(benchmark::kMillisecond);

void BM_CollectProfiles(benchmark::State& state) {
  auto engine = Replayed(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(analytics::CollectProfiles(*engine));
}
BENCHMARK(BM_CollectProfiles)->Arg(20000)->Unit(benchmark::kMillisecond);

void BM_Funnel(benchmark::State& state) {
  const auto& profiles = Profiles(state.range(0));
  const auto journeys = benchmarks::DemoJourneys();
  for (auto _ : state) benchmark::DoNotOptimize(analytics::Funnel(profiles, journeys[0]));
}
BENCHMARK(BM_Funnel)->Arg(20000)->Unit(benchmark::kMillisecond);

void BM_ChannelPaths(benchmark::State& state) {
  const auto& profiles = Profiles(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(analytics::ChannelPaths(profiles));
}
BENCHMARK(BM_ChannelPaths)->Arg(20000)->Unit(benchmark::kMillisecond);

void BM_Attribution(benchmark::State& state) {
  const auto& profiles = Profiles(state.range(0));
  const auto journeys = benchmarks::DemoJourneys();
  for (auto _ : state) benchmark::DoNotOptimize(analytics::Attribute(profiles, journeys[0]));
}
BENCHMARK(BM_Attribution)->Arg(20000)->Unit(benchmark::kMillisecond);

void BM_Kpis(benchmark::State& state) {
  const auto& profiles = Profiles(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(analytics::ComputeKpis(profiles));
}
BENCHMARK(BM_Kpis)->Arg(20000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
