// Identity stitching throughput: identifier lookups + links per second through IdentityGraph::Link.
//
// Input (seeded, reproducible): 100k customers; each has 1-3 cookies, and with some probability an
// email (60%), a phone (40%, half written in national format), a crm_id (30%) and an app device id
// (30%). A stream of 1M events: 60% anonymous web events (one cookie), 40% identified events (a cookie
// or device id plus 1-2 of email/phone/crm_id). 2% arrive late (up to 1h older than the stream),
// 0.5% carry junk values ("null", "test@test.com"), 0.2% carry a shared call-centre number.
// Reported: items_per_second = events/s; the whole stream is linked once per iteration on a new graph.
// The events are built on protobuf arenas (as a host parsing a batch would), so one event's
// identifiers sit next to each other in memory instead of scattered over the heap.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "google/protobuf/arena.h"
#include "omnijourney/identity.h"

namespace {

using omnijourney::Event;

struct Customer {
  std::vector<std::string> cookies;
  std::string email, phone, crm, device;
};

struct Stream {
  std::vector<std::unique_ptr<google::protobuf::Arena>> arenas;
  std::vector<const Event*> events;
};

Stream MakeStream(int customers, int events, uint32_t seed) {
  std::mt19937_64 rng(seed);
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  std::vector<Customer> people(customers);
  for (int i = 0; i < customers; ++i) {
    Customer& c = people[i];
    const int cookies = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < cookies; ++k) c.cookies.push_back(absl::StrCat("ck-", i, "-", k));
    if (chance(0.6)) c.email = absl::StrCat("customer", i, "@example.com");
    if (chance(0.4)) {
      const int n = 601000000 + i;
      const std::string digits = std::to_string(n);
      c.phone = chance(0.5) ? absl::StrCat("+420", digits)
                            : absl::StrCat(digits.substr(0, 3), " ", digits.substr(3, 3), " ", digits.substr(6));
    }
    if (chance(0.3)) c.crm = absl::StrCat("CRM-", 100000 + i);
    if (chance(0.3)) c.device = absl::StrCat("dev-", i);
  }
  Stream out;
  out.events.reserve(events);
  const int64_t start = 1793491200;  // 2026-11-01
  for (int e = 0; e < events; ++e) {
    const Customer& c = people[rng() % customers];
    if (e % 10000 == 0) out.arenas.push_back(std::make_unique<google::protobuf::Arena>());
    Event& ev = *google::protobuf::Arena::CreateMessage<Event>(out.arenas.back().get());
    ev.set_event_id(absl::StrCat("e", e));
    ev.set_source("bench");
    ev.set_kind(omnijourney::v1::EVENT_KIND_TRACK);
    ev.set_name("x");
    int64_t t = start + e / 10;
    if (chance(0.02)) t -= static_cast<int64_t>(rng() % 3600);
    ev.mutable_occurred_at()->set_seconds(t);
    auto add = [&](const char* type, const std::string& value) {
      if (value.empty()) return;
      auto* id = ev.add_identifiers();
      id->set_type(type);
      id->set_value(value);
    };
    const bool app = !c.device.empty() && chance(0.5);
    if (app) {
      add("device_id", c.device);
    } else {
      add("cookie", c.cookies[rng() % c.cookies.size()]);
    }
    if (chance(0.4)) {
      if (chance(0.7)) add("email", c.email);
      if (chance(0.5)) add("phone", c.phone);
      if (chance(0.4)) add("crm_id", c.crm);
    }
    if (chance(0.005)) add("email", chance(0.5) ? "null" : "test@test.com");
    if (chance(0.002)) add("phone", "+420 800 100 200");
    out.events.push_back(&ev);
  }
  return out;
}

const std::vector<const Event*>& TheStream() {
  static const Stream* stream = new Stream(MakeStream(100000, 1000000, 42));
  return stream->events;
}

// Link(event i) runs while the index entries of event i + kLookahead are fetched (IdentityGraph::Prefetch).
constexpr size_t kLookahead = 8;

// The stream's company is Czech: its national numbers ("601 000 123") are Czech.
omnijourney::IdentityOptions Czech(omnijourney::PhoneValidation validation = omnijourney::PhoneValidation::kValid) {
  omnijourney::IdentityOptions options;
  options.default_phone_region = "CZ";
  options.phone_validation = validation;
  return options;
}

void BM_StitchStream(benchmark::State& state) {
  const auto& stream = TheStream();
  const size_t n = static_cast<size_t>(state.range(0));
  const bool prefetch = state.range(1) != 0;
  const auto validation =
      state.range(2) != 0 ? omnijourney::PhoneValidation::kValid : omnijourney::PhoneValidation::kPossible;
  omnijourney::IdentityStats stats;
  for (auto _ : state) {
    auto graph = *omnijourney::IdentityGraph::Create(Czech(validation));
    for (size_t i = 0; i < n; ++i) {
      if (prefetch && i + kLookahead < n) graph->Prefetch(*stream[i + kLookahead]);
      auto r = graph->Link(*stream[i]);
      benchmark::DoNotOptimize(r);
    }
    state.PauseTiming();
    stats = graph->Stats();
    graph.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.counters["profiles"] = static_cast<double>(stats.profiles);
  state.counters["identifiers"] = static_cast<double>(stats.identifiers);
  state.counters["replays"] = static_cast<double>(stats.replays);
  state.counters["refusals"] = static_cast<double>(stats.refusals);
}
// Args: events, prefetch (1: Prefetch kLookahead events ahead, as batch ingestion does; 0: Link alone),
// valid (1: phone_validation kValid, the default; 0: kPossible).
BENCHMARK(BM_StitchStream)
    ->ArgNames({"events", "prefetch", "valid"})
    ->Args({100000, 1, 1})
    ->Args({1000000, 1, 1})
    ->Args({1000000, 0, 1})
    ->Args({1000000, 1, 0})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

void BM_ResolveKnownPhone(benchmark::State& state) {
  const auto& stream = TheStream();
  auto graph = *omnijourney::IdentityGraph::Create(Czech());
  for (size_t i = 0; i < 200000; ++i) (void)graph->Link(*stream[i]);
  for (auto _ : state) {
    auto p = graph->Resolve("", "phone", "+420 601 000 123");
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ResolveKnownPhone);

}  // namespace

BENCHMARK_MAIN();
