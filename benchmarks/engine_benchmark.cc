// The whole Engine: ingest throughput and Context lookup latency.
//
// Input (seeded, reproducible): customers with an email, a phone and a cookie. Each customer has
// an order on the web (cookie + email + phone), a chat message (email) and a call (phone, the
// number written with spaces for half of them), in time order per customer; customers interleave.
//
// BM_ContextLatency/profiles:1000000: 1M customers (3M events) ingested once, then Context() by a
//   random customer's phone (E.164, as caller ID delivers it). Reported: p50_us, p99_us over all
//   iterations (each call timed on its own) and items_per_second.
// BM_EngineIngest/events:N/batch:B: N events into a new in-memory engine, B events per
//   IngestBatch (1: Ingest one by one). Reported: items_per_second = events/s.
// BM_DurableIngest/C: the 300k events (100k customers) into a new RocksDB engine, batches of 1000,
//   sync off; C = storage.cache_profiles (0: all in memory; 10000: a tenth of the profiles, the rest
//   spilled and loaded on demand). Reported: items_per_second = events/s.
// BM_SpilledContext: Context by phone on that engine with a cache of 10k of 100k profiles, random
//   customers (90% spilled: read from RocksDB and decoded). Reported: p50/p99 in microseconds.
// BM_Recovery/C/S: Open() on a database of C customers, 3 events each (built on first use in
//   $TMPDIR/omnijourney_bench_db_C), S = 0: without a snapshot (the whole log is replayed), 1: with
//   a snapshot of the last record (Checkpoint() after the load). Reported: time per Open, and
//   checkpoint_s / snapshot_mb for the Checkpoint() that wrote the snapshot; with S = 1 also
//   sealed_context_p50_us / p99: Context by phone of 20k random customers right after Open (their
//   profiles still sealed in the snapshot).
// BM_ExplainLargeProfile/N: Explain() of one profile of N events, each linking a new cookie to the
//   person's email (N audit links), while another thread ingests single events of other customers
//   back to back. Reported: time per Explain, and ingest_p50_us / ingest_p99_us / ingest_max_us of
//   those Ingest() calls during the Explains (a writer that waited for a whole Explain shows it in
//   max).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "google/protobuf/arena.h"
#include "omnijourney/engine.h"

namespace {

using omnijourney::Event;
namespace v1 = omnijourney::v1;

const absl::Time kStart = absl::FromUnixSeconds(1788220800);  // 2026-09-01: 3M seconds later is still past

struct Stream {
  std::vector<std::unique_ptr<google::protobuf::Arena>> arenas;
  std::vector<const Event*> events;
};

std::string Phone(int i) { return absl::StrCat("+420", 601000000 + i); }  // Valid Czech mobiles.

Stream MakeStream(int customers) {
  Stream s;
  std::mt19937_64 rng(42);
  s.events.reserve(static_cast<size_t>(customers) * 3);
  auto add = [&](int64_t seq) -> Event& {
    if (s.events.size() % 10000 == 0) s.arenas.push_back(std::make_unique<google::protobuf::Arena>());
    Event& e = *google::protobuf::Arena::CreateMessage<Event>(s.arenas.back().get());
    e.set_source("bench");
    e.set_event_id(absl::StrCat("e", seq));
    *e.mutable_occurred_at() = omnijourney::ToTimestamp(kStart + absl::Seconds(seq));
    s.events.push_back(&e);
    return e;
  };
  auto id = [](Event& e, const char* type, const std::string& value) {
    auto* i = e.add_identifiers();
    i->set_type(type);
    i->set_value(value);
  };
  // Three rounds over the customers: order, chat, call.
  int64_t seq = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < customers; ++i) {
      Event& e = add(seq++);
      const std::string email = absl::StrCat("customer", i, "@example.com");
      if (round == 0) {
        e.set_kind(v1::EVENT_KIND_ORDER);
        e.set_name("Order Completed");
        e.set_channel(v1::CHANNEL_WEB);
        e.set_direction(v1::DIRECTION_INBOUND);
        id(e, "cookie", absl::StrCat("ck-", i));
        id(e, "email", email);
        id(e, "phone", Phone(i));
        (*e.mutable_properties()->mutable_fields())["order_id"].set_string_value(absl::StrCat("O-", i));
        (*e.mutable_properties()->mutable_fields())["category"].set_string_value(rng() % 2 ? "sofas" : "lamps");
        e.mutable_value()->set_units(1000 + static_cast<int64_t>(rng() % 50000));
        e.mutable_value()->set_currency("CZK");
      } else if (round == 1) {
        e.set_kind(v1::EVENT_KIND_MESSAGE);
        e.set_name("Message Received");
        e.set_channel(v1::CHANNEL_CHAT);
        e.set_direction(v1::DIRECTION_INBOUND);
        e.set_conversation_id(absl::StrCat("chat-", i));
        e.set_text("Hello, where is my order? It should have arrived yesterday.");
        id(e, "email", email);
      } else {
        e.set_kind(v1::EVENT_KIND_CALL);
        e.set_name("Call Started");
        e.set_channel(v1::CHANNEL_VOICE);
        e.set_direction(v1::DIRECTION_INBOUND);
        e.set_agent_id("agent:7");
        const std::string digits = std::to_string(601000000 + i);
        id(e, "phone", i % 2 ? Phone(i)
                             : absl::StrCat("+420 ", digits.substr(0, 3), " ", digits.substr(3, 3), " ",
                                            digits.substr(6)));
      }
    }
  }
  return s;
}

std::unique_ptr<omnijourney::Engine> NewEngine() {
  omnijourney::EngineOptions options;
  options.time_mode = omnijourney::EngineOptions::TimeMode::kEventTime;
  return *omnijourney::Engine::Open(options);
}

void IngestAll(omnijourney::Engine& engine, const std::vector<const Event*>& events, size_t batch) {
  if (batch <= 1) {
    for (const Event* e : events) {
      auto r = engine.Ingest(*e);
      benchmark::DoNotOptimize(r);
    }
    return;
  }
  for (size_t i = 0; i < events.size(); i += batch) {
    std::vector<const Event*> part(events.begin() + static_cast<std::ptrdiff_t>(i),
                                   events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), i + batch)));
    auto r = engine.IngestBatch(part);
    benchmark::DoNotOptimize(r);
  }
}

void BM_EngineIngest(benchmark::State& state) {
  static const Stream* stream = new Stream(MakeStream(100000));  // 300k events.
  const size_t n = std::min(static_cast<size_t>(state.range(0)), stream->events.size());
  const std::vector<const Event*> events(stream->events.begin(), stream->events.begin() + static_cast<std::ptrdiff_t>(n));
  for (auto _ : state) {
    auto engine = NewEngine();
    IngestAll(*engine, events, static_cast<size_t>(state.range(1)));
    state.PauseTiming();
    engine.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_EngineIngest)
    ->ArgNames({"events", "batch"})
    ->Args({300000, 1})
    ->Args({300000, 1000})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

// Durable ingest into RocksDB (sync off, batches of 1000) of the 300k-event stream, then the time to
// reopen (recover by replay) per 100k profiles. Directory: $TMPDIR or /tmp.
std::string BenchDir() {
  const char* tmp = std::getenv("TMPDIR");
  return absl::StrCat(tmp ? tmp : "/tmp", "/omnijourney_bench_db");
}

void BM_DurableIngest(benchmark::State& state) {
  static const Stream* stream = new Stream(MakeStream(100000));
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(BenchDir());
    omnijourney::EngineOptions options;
    options.time_mode = omnijourney::EngineOptions::TimeMode::kEventTime;
    options.storage.path = BenchDir();
    options.storage.cache_profiles = static_cast<size_t>(state.range(0));
    auto engine = *omnijourney::Engine::Open(options);
    state.ResumeTiming();
    IngestAll(*engine, stream->events, 1000);
    state.PauseTiming();
    state.counters["cached_profiles"] = static_cast<double>(engine->Stats().cached_profiles);
    engine.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * stream->events.size()));
}
BENCHMARK(BM_DurableIngest)->Arg(0)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_SpilledContext(benchmark::State& state) {
  static const Stream* stream = new Stream(MakeStream(100000));
  const std::string dir = BenchDir() + "_spilled";
  std::filesystem::remove_all(dir);
  omnijourney::EngineOptions options;
  options.time_mode = omnijourney::EngineOptions::TimeMode::kEventTime;
  options.storage.path = dir;
  options.storage.cache_profiles = 10000;
  auto engine = *omnijourney::Engine::Open(options);
  IngestAll(*engine, stream->events, 1000);
  std::mt19937_64 rng(7);
  std::vector<double> micros;
  for (auto _ : state) {
    const int who = static_cast<int>(rng() % 100000);
    const auto t0 = std::chrono::steady_clock::now();
    auto ctx = engine->Context({"", "phone", Phone(who)});
    const auto t1 = std::chrono::steady_clock::now();
    if (!ctx.ok() || ctx->timeline_size != 3) {
      state.SkipWithError(ctx.ok() ? absl::StrCat("timeline size ", ctx->timeline_size).c_str()
                                   : std::string(ctx.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(ctx);
    micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  if (!micros.empty()) {
    std::sort(micros.begin(), micros.end());
    state.counters["p50_us"] = micros[micros.size() / 2];
    state.counters["p99_us"] = micros[micros.size() * 99 / 100];
  }
  state.counters["cached_profiles"] = static_cast<double>(engine->Stats().cached_profiles);
  engine.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SpilledContext)->Iterations(200000);

void BM_Recovery(benchmark::State& state) {
  const int customers = static_cast<int>(state.range(0));
  const bool snapshot = state.range(1) != 0;
  const auto cache = static_cast<size_t>(state.range(2));  // Profile cache at Open (0: none).
  // storage.recovery_cache_profiles (0: the default); equal to the cache: the replay goes through it.
  const auto recovery_cache = static_cast<size_t>(state.range(3));
  const std::string dir = absl::StrCat(BenchDir(), "_", customers);
  omnijourney::EngineOptions options;
  options.time_mode = omnijourney::EngineOptions::TimeMode::kEventTime;
  options.storage.path = dir;
  options.storage.snapshot_every_records = 0;  // Only the Checkpoint() below.
  if (!std::filesystem::exists(dir)) {
    Stream stream = MakeStream(customers);
    auto engine = *omnijourney::Engine::Open(options);
    IngestAll(*engine, stream.events, 1000);
  }
  std::filesystem::remove_all(dir + "/snapshots");
  double checkpoint_s = 0, snapshot_mb = 0;
  if (snapshot) {
    auto engine = *omnijourney::Engine::Open(options);
    const auto t0 = std::chrono::steady_clock::now();
    if (absl::Status s = engine->Checkpoint(); !s.ok()) state.SkipWithError(std::string(s.message()).c_str());
    checkpoint_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& f : std::filesystem::directory_iterator(dir + "/snapshots")) snapshot_mb += f.file_size() / 1e6;
  }
  int64_t profiles = 0, events = 0, replayed = 0;
  omnijourney::EngineOptions open_options = options;
  open_options.storage.cache_profiles = cache;
  if (recovery_cache > 0) open_options.storage.recovery_cache_profiles = recovery_cache;
  for (auto _ : state) {
    auto engine = *omnijourney::Engine::Open(open_options);
    profiles = engine->Stats().profiles;
    events = engine->Stats().events;
    replayed = engine->Stats().recovered;
    state.PauseTiming();
    engine.reset();
    state.ResumeTiming();
  }
  state.counters["profiles"] = static_cast<double>(profiles);
  state.counters["events"] = static_cast<double>(events);
  state.counters["replayed"] = static_cast<double>(replayed);
  state.counters["checkpoint_s"] = checkpoint_s;
  state.counters["snapshot_mb"] = snapshot_mb;
  if (snapshot) {
    // Context right after Open, by phone: the profiles are still sealed in the snapshot (each
    // lookup decodes a copy of one).
    auto engine = *omnijourney::Engine::Open(options);
    std::mt19937_64 rng(11);
    std::vector<double> micros;
    for (int i = 0; i < 20000; ++i) {
      const int who = static_cast<int>(rng() % static_cast<uint64_t>(customers));
      const auto t0 = std::chrono::steady_clock::now();
      auto ctx = engine->Context({"", "phone", Phone(who)});
      micros.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      if (!ctx.ok()) {
        state.SkipWithError(std::string(ctx.status().message()).c_str());
        return;
      }
    }
    std::sort(micros.begin(), micros.end());
    state.counters["sealed_context_p50_us"] = micros[micros.size() / 2];
    state.counters["sealed_context_p99_us"] = micros[micros.size() * 99 / 100];
    state.counters["sealed_profiles"] = static_cast<double>(engine->Stats().sealed_profiles);
  }
}
// Third argument: the profile cache at Open (10k of 100k profiles); fourth: the cache during the
// replay (0: storage.recovery_cache_profiles' default; 10000: the replay goes through the small cache).
BENCHMARK(BM_Recovery)
    ->Args({100000, 0, 0, 0})
    ->Args({100000, 1, 0, 0})
    ->Args({100000, 0, 10000, 0})
    ->Args({100000, 0, 10000, 10000})
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Recovery)->Args({1000000, 0, 0, 0})->Args({1000000, 1, 0, 0})->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_ContextLatency(benchmark::State& state) {
  const int customers = static_cast<int>(state.range(0));
  Stream stream = MakeStream(customers);
  auto engine = NewEngine();
  IngestAll(*engine, stream.events, 1000);
  stream = Stream();  // The engine keeps its own copy of what it needs.
  std::mt19937_64 rng(7);
  std::vector<double> micros;
  micros.reserve(1 << 20);
  for (auto _ : state) {
    const int who = static_cast<int>(rng() % static_cast<uint64_t>(customers));
    const auto t0 = std::chrono::steady_clock::now();
    auto ctx = engine->Context({"", "phone", Phone(who)});
    const auto t1 = std::chrono::steady_clock::now();
    if (!ctx.ok() || ctx->timeline_size != 3) {
      state.SkipWithError(ctx.ok() ? absl::StrCat("timeline size ", ctx->timeline_size).c_str()
                                   : std::string(ctx.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(ctx);
    micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  if (!micros.empty()) {
    std::sort(micros.begin(), micros.end());
    state.counters["p50_us"] = micros[micros.size() / 2];
    state.counters["p99_us"] = micros[micros.size() * 99 / 100];
  }
  state.counters["profiles"] = static_cast<double>(engine->Stats().profiles);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ContextLatency)->ArgNames({"profiles"})->Arg(1000)->Arg(1000000)->Iterations(200000);

void BM_ExplainLargeProfile(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto engine = NewEngine();
  {
    google::protobuf::Arena arena;
    std::vector<const Event*> events;
    for (int i = 0; i < n; ++i) {
      Event& e = *google::protobuf::Arena::CreateMessage<Event>(&arena);
      e.set_source("bench");
      e.set_event_id(absl::StrCat("big-", i));
      e.set_kind(v1::EVENT_KIND_PAGE);
      e.set_name("Page Viewed");
      e.set_channel(v1::CHANNEL_WEB);
      *e.mutable_occurred_at() = omnijourney::ToTimestamp(kStart + absl::Seconds(i));
      auto* email = e.add_identifiers();
      email->set_type("email");
      email->set_value("big@example.com");
      auto* cookie = e.add_identifiers();
      cookie->set_type("cookie");
      cookie->set_value(absl::StrCat("ck-big-", i));
      events.push_back(&e);
    }
    IngestAll(*engine, events, 1000);
  }
  auto profile = engine->Context({"", "email", "big@example.com"});
  if (!profile.ok()) {
    state.SkipWithError(std::string(profile.status().message()).c_str());
    return;
  }
  Stream others = MakeStream(200000);
  std::atomic<bool> done{false};
  std::vector<double> waits;
  std::thread writer([&] {
    for (size_t i = 0; !done.load() && i < others.events.size(); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = engine->Ingest(*others.events[i]);
      waits.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      benchmark::DoNotOptimize(r);
    }
  });
  size_t audit = 0;
  for (auto _ : state) {
    auto explanation = engine->Explain(profile->profile);
    if (!explanation.ok()) {
      state.SkipWithError(std::string(explanation.status().message()).c_str());
      break;
    }
    audit = explanation->audit.size();
  }
  done = true;
  writer.join();
  state.counters["audit_entries"] = static_cast<double>(audit);
  if (!waits.empty()) {
    std::sort(waits.begin(), waits.end());
    state.counters["ingest_p50_us"] = waits[waits.size() / 2];
    state.counters["ingest_p99_us"] = waits[waits.size() * 99 / 100];
    state.counters["ingest_max_us"] = waits.back();
  }
}
BENCHMARK(BM_ExplainLargeProfile)->Arg(100000)->Iterations(5)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
