// The one-pass analysis at scale: time and memory of Analyze over an engine holding 1M and 10M
// synthetic events (omnijourney/synth.h, seed 1, the demo's journeys), against copying every
// profile out first (CollectProfiles, what analyses did before).
//
//   build-release/benchmarks/analysis_scale_benchmark [--events 1000000,10000000] [--runs 3]
//
// Memory is counted by this binary's operator new: the peak of bytes allocated during the call
// above what was allocated before it (the engine's own state is not counted). Each figure is the
// median of --runs runs, with the range.
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "demo_journeys.h"
#include "omnijourney/analysis.h"
#include "omnijourney/engine.h"
#include "omnijourney/journey.h"
#include "omnijourney/synth.h"

namespace {

std::atomic<int64_t> g_current{0};
std::atomic<int64_t> g_peak{0};

void Count(int64_t delta) {
  const int64_t now = g_current.fetch_add(delta, std::memory_order_relaxed) + delta;
  int64_t peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

}  // namespace

void* operator new(size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  Count(static_cast<int64_t>(malloc_usable_size(p)));
  return p;
}
void* operator new[](size_t n) { return operator new(n); }
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  Count(-static_cast<int64_t>(malloc_usable_size(p)));
  std::free(p);
}
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, size_t) noexcept { operator delete(p); }
void operator delete[](void* p, size_t) noexcept { operator delete(p); }

namespace {

using namespace omnijourney;  // NOLINT: benchmark brevity.

struct Measure {
  double seconds = 0;
  int64_t peak_bytes = 0;
};

template <typename Fn>
Measure Run(Fn&& fn) {
  const int64_t base = g_current.load();
  g_peak.store(base);
  const absl::Time start = absl::Now();
  fn();
  Measure m;
  m.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  m.peak_bytes = g_peak.load() - base;
  return m;
}

std::string Median(std::vector<double> v, const char* format) {
  std::sort(v.begin(), v.end());
  return absl::StrFormat("%s (%s - %s)", absl::StrFormat(format, v[v.size() / 2]), absl::StrFormat(format, v.front()),
                         absl::StrFormat(format, v.back()));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes = {1'000'000, 10'000'000};
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--events") {
      sizes.clear();
      for (absl::string_view part : absl::StrSplit(argv[i + 1], ',')) {
        int64_t n = 0;
        if (!absl::SimpleAtoi(part, &n) || n <= 0) {
          std::cerr << "--events: expected positive numbers, got " << argv[i + 1] << "\n";
          return 2;
        }
        sizes.push_back(n);
      }
    } else if (flag == "--runs") {
      if (!absl::SimpleAtoi(argv[i + 1], &runs) || runs < 1) {
        std::cerr << "--runs: expected a positive number\n";
        return 2;
      }
    } else {
      std::cerr << "usage: analysis_scale_benchmark [--events N,N...] [--runs R]\n";
      return 2;
    }
  }
  const std::vector<JourneyDefinition> journeys = benchmarks::DemoJourneys();
  std::cout << absl::StrFormat("%-12s %-10s %-10s %-30s %-30s %-32s\n", "events", "profiles", "replay s",
                               "Analyze s", "Analyze peak MB", "CollectProfiles peak MB");
  for (int64_t target : sizes) {
    EngineOptions options;
    options.time_mode = EngineOptions::TimeMode::kEventTime;
    auto engine = Engine::Open(options);
    if (!engine.ok()) return 1;
    for (const auto& j : journeys) (void)(*engine)->AddJourney(j);
    // About 6.7 events per customer.
    synth::PopulationOptions p;
    p.customers = std::max<int64_t>(1, target * 10 / 67);
    auto population = synth::Population::Create(p);
    if (!population.ok()) return 1;
    const absl::Time replay_start = absl::Now();
    std::vector<synth::GeneratedEvent> chunk(1000);
    std::vector<const Event*> batch;
    int64_t events = 0;
    for (bool more = true; more;) {
      batch.clear();
      size_t n = 0;
      while (n < chunk.size() && (more = (*population)->Next(&chunk[n]))) ++n;
      for (size_t k = 0; k < n; ++k) batch.push_back(&chunk[k].event);
      if (!batch.empty()) (void)(*engine)->IngestBatch(batch);
      (void)(*engine)->TakeActions();
      events += static_cast<int64_t>(n);
    }
    const double replay = absl::ToDoubleSeconds(absl::Now() - replay_start);
    analytics::AnalysisOptions ao;
    ao.journeys = journeys;
    std::vector<double> t_analyze, m_analyze, t_collect, m_collect;
    int64_t profiles = 0;
    for (int r = 0; r < runs; ++r) {
      const Measure a = Run([&] {
        auto result = analytics::Analyze(**engine, ao);
        if (!result.ok()) std::abort();
        profiles = result->profiles;
      });
      t_analyze.push_back(a.seconds);
      m_analyze.push_back(static_cast<double>(a.peak_bytes) / 1e6);
      const Measure c = Run([&] {
        auto copied = analytics::CollectProfiles(**engine);
        if (!copied.ok()) std::abort();
      });
      t_collect.push_back(c.seconds);
      m_collect.push_back(static_cast<double>(c.peak_bytes) / 1e6);
    }
    std::cout << absl::StrFormat("%-12d %-10d %-10.1f %-30s %-30s %-32s\n", events, profiles, replay,
                                 Median(t_analyze, "%.2f"), Median(m_analyze, "%.1f"), Median(m_collect, "%.0f"));
    std::cout.flush();
  }
  return 0;
}
