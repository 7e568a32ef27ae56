// The macro benchmark: one table for the whole engine on the synthetic population, with the
// naive baseline a host would write by hand on the same events.
//
//   build-release/benchmarks/macro_benchmark [--events N] [--no-durable] [--nodes-file FILE]
//                                              [--only-ingest | --only-context]   (phase 1 and the floor; phases 1-2)
//                                              [--max-profiles-per-tenant N]     (the engines' limit)
//                                              [--journeys N]   (default 20: the demo's 2, copied)
//
// Input: omnijourney::synth::Population, seed 1, with as many customers as give about N events
// (default 1,000,000; ~5.8 events per customer). Events are generated in batches of 1000 and only
// the engine calls are timed. Rows:
//   ingest events/s        IngestBatch(1000) into a new in-memory engine, one thread
//   the same, warm         into a second engine, reusing the first one's freed memory
//   ingest latency         Ingest() one event at a time into another engine: p50, p99 per call
//   context latency        Context() by a random known identifier (100k lookups) after the load
//   context under load     the same lookups while another thread ingests a second population (seed
//                          2, tenant "load", as many customers but at most about 1M events,
//                          generated first) into the same engine in batches of 1000 back to back:
//                          p50 / p99 against the idle p99, the largest, and the writer's events/s
//   context beside a load  the same, the second population going into an engine of its own (run
//                          first): only the machine is shared, the floor for any design on it
//   memory                 resident set growth of the loaded engine / profiles and / events
//   durable events/s       IngestBatch(1000) into a RocksDB engine (sync off), bytes on disk / event
//   2 threads              the same engine fed from 2 threads; and 2 engines (customers split by
//                          number, as hosts partition) on 2 threads vs the same 2 on one
//   naive std::map         NaiveIngest below: per-event maps of strings, merge by moving entries
//   floor                  FloorIngest below: the least work per event and per context on this
//                          machine (memory, hashing), without the engine's rules
// With --nodes-file FILE, also writes each event's identifiers as "event number<TAB>type:value"
// lines (value trimmed and lowercased) for the PostgreSQL baseline (benchmarks/postgres_baseline.sh).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "demo_journeys.h"
#include "omnijourney/engine.h"
#include "omnijourney/journey.h"
#include "omnijourney/synth.h"

namespace {

using omnijourney::Engine;
using omnijourney::EngineOptions;
using omnijourney::Event;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Takes the due actions and acknowledges them, as a host delivering them would.
void AckAll(Engine& engine) {
  std::vector<std::string> ids;
  for (const auto& a : engine.TakeActions()) ids.push_back(a.id);
  (void)engine.AckActions(ids);
}

int64_t RssBytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * 4096;
}

// Events of the population in batches; only what the caller does with a batch is timed by it.
class Batches {
 public:
  explicit Batches(int64_t customers, uint64_t seed = 1, const std::string& tenant = "") {
    omnijourney::synth::PopulationOptions o;
    o.customers = customers;
    o.seed = seed;
    o.tenant = tenant;
    population_ = *omnijourney::synth::Population::Create(o);
  }
  // Up to 1000 events; empty at the end.
  const std::vector<omnijourney::synth::GeneratedEvent>& Next() {
    batch_.clear();
    omnijourney::synth::GeneratedEvent g;
    while (batch_.size() < 1000 && population_->Next(&g)) batch_.push_back(std::move(g));
    return batch_;
  }

 private:
  std::unique_ptr<omnijourney::synth::Population> population_;
  std::vector<omnijourney::synth::GeneratedEvent> batch_;
};

std::vector<const Event*> Pointers(const std::vector<omnijourney::synth::GeneratedEvent>& batch) {
  std::vector<const Event*> out;
  out.reserve(batch.size());
  for (const auto& g : batch) out.push_back(&g.event);
  return out;
}

int64_t max_profiles_per_tenant = 0;  // --max-profiles-per-tenant

// The journeys every engine of the table runs (--journeys N): the demo's (examples/data/
// journeys.textproto), copied under other names until there are N.
std::vector<omnijourney::JourneyDefinition> journeys;

std::vector<omnijourney::JourneyDefinition> LoadJourneys(int64_t count) {
  std::vector<omnijourney::JourneyDefinition> out;
  if (count <= 0) return out;
  const std::vector<omnijourney::JourneyDefinition> demo = omnijourney::benchmarks::DemoJourneys();
  for (int64_t k = 0; static_cast<int64_t>(out.size()) < count; ++k) {
    for (const auto& j : demo) {
      if (static_cast<int64_t>(out.size()) == count) break;
      out.push_back(j);
      if (k > 0) out.back().set_name(absl::StrCat(j.name(), "-", k));
    }
  }
  return out;
}

std::unique_ptr<Engine> Open(const std::string& path = "") {
  EngineOptions options;
  options.max_profiles_per_tenant = max_profiles_per_tenant;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  options.storage.path = path;
  auto engine = Engine::Open(options);
  if (!engine.ok()) {
    std::cerr << engine.status() << "\n";
    std::exit(1);
  }
  for (const auto& j : journeys) {
    if (absl::Status s = (*engine)->AddJourney(j); !s.ok()) {
      std::cerr << "journey " << j.name() << ": " << s << "\n";
      std::exit(1);
    }
  }
  return *std::move(engine);
}

// The customers that give about `events` events (~5.8 events per customer).
int64_t CustomersFor(int64_t events) { return std::max<int64_t>(1, events * 10 / 58); }

// Feeds the whole population to `engine` in batches of 1000; returns the seconds spent in
// IngestBatch. `seen` (optional) sees each batch after it was ingested.
double IngestAll(Engine& engine, int64_t customers,
                 const std::function<void(const std::vector<omnijourney::synth::GeneratedEvent>&)>& seen = nullptr,
                 uint64_t seed = 1, const std::string& tenant = "") {
  Batches batches(customers, seed, tenant);
  double seconds = 0;
  for (;;) {
    const auto& batch = batches.Next();
    if (batch.empty()) break;
    const auto pointers = Pointers(batch);
    const auto t0 = Clock::now();
    (void)engine.IngestBatch(pointers);
    seconds += Seconds(Clock::now() - t0);
    AckAll(engine);
    if (seen) seen(batch);
  }
  return seconds;
}

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// What a host might write by hand: a std::set of (source, event_id) for redeliveries, identifiers
// lowercased into "type:value" keys in a std::map, profiles as std::map of their identifiers and a
// vector of what a timeline shows of each event (its time, kind, channel, name and key, copied out
// of the protobuf: no deep copy of the event); a merge moves one profile's identifiers and entries
// into the other.
class NaiveIngest {
 public:
  void Ingest(const Event& e) {
    if (!seen_.insert(absl::StrCat(e.source(), "/", e.event_id())).second) return;
    std::vector<std::string> keys;
    for (const auto& id : e.identifiers()) {
      keys.push_back(absl::StrCat(id.type(), ":", absl::AsciiStrToLower(absl::StripAsciiWhitespace(id.value()))));
    }
    std::set<int64_t> found;
    for (const std::string& k : keys) {
      auto it = owner_.find(k);
      if (it != owner_.end()) found.insert(it->second);
    }
    int64_t target;
    if (found.empty()) {
      target = next_++;
    } else {
      target = *found.begin();
      for (int64_t other : found) {
        if (other == target) continue;
        Profile& from = profiles_[other];
        Profile& into = profiles_[target];
        for (const std::string& k : from.keys) {
          owner_[k] = target;
          into.keys.insert(k);
        }
        for (Entry& ev : from.events) into.events.push_back(std::move(ev));
        profiles_.erase(other);
      }
    }
    Profile& p = profiles_[target];
    for (const std::string& k : keys) {
      owner_[k] = target;
      p.keys.insert(k);
    }
    p.events.push_back(Entry{omnijourney::FromTimestamp(e.occurred_at()), e.kind(), e.channel(), e.name(),
                             e.source(), e.event_id()});
  }
  // The 20 newest events of the customer with `key`.
  size_t Context(const std::string& key) const {
    auto it = owner_.find(key);
    if (it == owner_.end()) return 0;
    const Profile& p = profiles_.at(it->second);
    std::vector<const Entry*> recent;
    for (const Entry& ev : p.events) recent.push_back(&ev);
    std::sort(recent.begin(), recent.end(), [](const Entry* a, const Entry* b) { return a->time > b->time; });
    if (recent.size() > 20) recent.resize(20);
    return recent.size();
  }
  size_t profiles() const { return profiles_.size(); }

 private:
  struct Entry {
    absl::Time time;
    omnijourney::v1::EventKind kind;
    omnijourney::v1::Channel channel;
    std::string name, source, event_id;
  };
  struct Profile {
    std::set<std::string> keys;
    std::vector<Entry> events;
  };
  std::set<std::string> seen_;
  std::map<std::string, int64_t> owner_;
  std::map<int64_t, Profile> profiles_;
  int64_t next_ = 1;
};

// The floor: the least any engine must do per event on this machine, with none of the engine's
// rules, done as tightly as we know how. Remember the event's (source, event_id) in a hash set; one
// probe per identifier (raw value, no normalisation, no merge: the first known profile wins) in a
// table reserved for the whole population, so nothing rehashes; copy the event's strings straight
// into a chunked arena (no allocation per event, no scratch copy), the entries of a profile chained
// newest first. Its context is one probe plus a walk of the profile's chain. What the engine does
// beyond this (validation, normalisation, rules, merges, audit, structured entries, journeys) is the
// gap between the two rows.
class FloorIngest {
 public:
  explicit FloorIngest(size_t expected_events) {
    seen_.reserve(expected_events);
    owner_.reserve(expected_events * 2);
    heads_.reserve(expected_events / 2);
  }

  void Ingest(const Event& e) {
    if (!seen_.insert(absl::HashOf(e.source(), e.event_id())).second) return;
    uint32_t profile = 0;
    uint32_t* slots[16];
    size_t n = 0;
    const size_t buckets = owner_.bucket_count();
    for (const auto& id : e.identifiers()) {
      auto [it, inserted] = owner_.try_emplace(absl::HashOf(id.type(), id.value()), 0);
      if (!inserted && profile == 0) profile = it->second;
      if (n < 16) slots[n++] = &it->second;  // Stable while the table does not grow (it is reserved).
    }
    if (profile == 0) {
      profile = static_cast<uint32_t>(heads_.size());
      heads_.push_back(kNoEntry);
    }
    if (owner_.bucket_count() != buckets || static_cast<size_t>(e.identifiers_size()) > n) {
      for (const auto& id : e.identifiers()) owner_[absl::HashOf(id.type(), id.value())] = profile;  // Grew.
    } else {
      for (size_t i = 0; i < n; ++i) *slots[i] = profile;
    }
    size_t bytes = e.source().size() + e.event_id().size() + e.name().size() + e.text().size() +
                   e.conversation_id().size();
    for (const auto& id : e.identifiers()) bytes += id.type().size() + id.value().size();
    for (const auto& [k, v] : e.properties().fields()) bytes += k.size() + v.string_value().size();
    const uint64_t at = Reserve(sizeof(Header) + bytes);
    char* p = Data(at);
    const Header h{heads_[profile], static_cast<uint32_t>(bytes)};
    std::memcpy(p, &h, sizeof h);
    p += sizeof h;
    auto put = [&p](const std::string& s) {
      std::memcpy(p, s.data(), s.size());
      p += s.size();
    };
    for (const std::string* s : {&e.source(), &e.event_id(), &e.name(), &e.text(), &e.conversation_id()}) put(*s);
    for (const auto& id : e.identifiers()) {
      put(id.type());
      put(id.value());
    }
    for (const auto& [k, v] : e.properties().fields()) {
      put(k);
      put(v.string_value());
    }
    heads_[profile] = at;
  }
  // Bytes of the profile's stored events, read entry by entry.
  size_t Context(const omnijourney::v1::Identifier& id) const {
    auto it = owner_.find(absl::HashOf(id.type(), id.value()));
    if (it == owner_.end()) return 0;
    size_t bytes = 0;
    for (uint64_t at = heads_[it->second]; at != kNoEntry;) {
      Header h;
      std::memcpy(&h, Data(at), sizeof h);
      bytes += h.size + static_cast<unsigned char>(Data(at)[sizeof h]);
      at = h.previous;
    }
    return bytes;
  }

 private:
  static constexpr uint64_t kNoEntry = ~uint64_t{0};
  static constexpr size_t kChunk = size_t{1} << 22;
  struct Header {
    uint64_t previous;  // The profile's previous entry, or kNoEntry.
    uint32_t size;
  };
  // An entry's place: chunk number << 32 | offset. Entries never straddle chunks.
  uint64_t Reserve(size_t bytes) {
    if (chunks_.empty() || used_ + bytes > kChunk) {
      chunks_.push_back(std::make_unique_for_overwrite<char[]>(std::max(kChunk, bytes)));
      used_ = 0;
    }
    const uint64_t at = (static_cast<uint64_t>(chunks_.size() - 1) << 32) | used_;
    used_ += bytes;
    return at;
  }
  char* Data(uint64_t at) const { return chunks_[at >> 32].get() + (at & 0xffffffffu); }

  absl::flat_hash_set<uint64_t> seen_;
  absl::flat_hash_map<uint64_t, uint32_t> owner_;
  std::vector<uint64_t> heads_{kNoEntry};  // Per profile, its newest entry; profile 0: none.
  std::vector<std::unique_ptr<char[]>> chunks_;
  size_t used_ = 0;
};

struct FloorResult {
  bool ok = false;
  double events_per_second = 0, context_p50_us = 0, context_p99_us = 0;
};

// Runs FloorIngest on the population in a child process, so that it starts on fresh memory as the
// engine's first row does, and neither run reuses the other's freed pages.
FloorResult MeasureFloor(int64_t customers) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid < 0) return {};
  if (pid == 0) {
    close(fds[0]);
    // Reserved for the population (about 5.8 events per customer).
    FloorIngest floor(static_cast<size_t>(customers) * 6);
    Batches batches(customers);
    std::mt19937_64 rng(7);
    double seconds = 0;
    int64_t events = 0;
    std::vector<omnijourney::v1::Identifier> ids;
    for (;;) {
      const auto& batch = batches.Next();
      if (batch.empty()) break;
      const auto t0 = Clock::now();
      for (const auto& g : batch) floor.Ingest(g.event);
      seconds += Seconds(Clock::now() - t0);
      events += static_cast<int64_t>(batch.size());
      for (const auto& g : batch) {
        if (ids.size() < 100000 && g.event.identifiers_size() > 0 && rng() % 8 == 0) ids.push_back(g.event.identifiers(0));
      }
    }
    std::vector<double> us;
    std::shuffle(ids.begin(), ids.end(), rng);
    for (const auto& id : ids) {
      const auto t0 = Clock::now();
      volatile size_t n = floor.Context(id);
      (void)n;
      us.push_back(Seconds(Clock::now() - t0) * 1e6);
    }
    const std::string out = absl::StrFormat("%f %f %f", events / seconds, Percentile(us, 0.5), Percentile(us, 0.99));
    const bool written = write(fds[1], out.data(), out.size()) == static_cast<ssize_t>(out.size());
    _exit(written ? 0 : 1);
  }
  close(fds[1]);
  std::string text;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  FloorResult r;
  std::istringstream in(text);
  r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && (in >> r.events_per_second >> r.context_p50_us >> r.context_p99_us);
  return r;
}

struct Row {
  std::string what, value, note;
};

// The floor's ingest row, against the engine's first row (`engine` events/s).
Row FloorIngestRow(const FloorResult& floor, double engine) {
  if (!floor.ok) return {"floor", "not measured", "the child process failed"};
  return {"floor (dedupe, 1 probe per identifier, entries copied into an arena): ingest",
          absl::StrFormat("%.0f events/s", floor.events_per_second),
          absl::StrFormat("the engine's first row is %.0f%% of it", 100.0 * engine / floor.events_per_second)};
}

}  // namespace

int main(int argc, char** argv) {
  int64_t target_events = 1'000'000;
  bool durable = true;
  bool only_ingest = false;   // For profiling: phase 1 only.
  bool only_context = false;  // Phases 1 and 2: ingest and context latency.
  std::string nodes_file;
  int64_t journey_count = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--events" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &target_events)) {
      ++i;
    } else if (a == "--only-ingest") {
      only_ingest = true;
    } else if (a == "--only-context") {
      only_context = true;
    } else if (a == "--no-durable") {
      durable = false;
    } else if (a == "--journeys" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &journey_count)) {
      ++i;
    } else if (a == "--nodes-file" && i + 1 < argc) {
      nodes_file = argv[++i];
    } else if (a == "--max-profiles-per-tenant" && i + 1 < argc &&
               absl::SimpleAtoi(argv[i + 1], &max_profiles_per_tenant)) {
      ++i;
    } else {
      std::cerr << "usage: macro_benchmark [--events N] [--only-ingest | --only-context] [--no-durable] "
                   "[--nodes-file FILE] [--max-profiles-per-tenant N] [--journeys N]\n";
      return 2;
    }
  }
  const int64_t customers = CustomersFor(target_events);
  journeys = LoadJourneys(journey_count);
  std::vector<Row> rows;
  const FloorResult floor = only_context ? FloorResult() : MeasureFloor(customers);

  // 1. Throughput, batches of 1000, one thread; the lookup sample; memory.
  std::vector<omnijourney::IdentifierQuery> sample;
  std::mt19937_64 rng(7);
  int64_t events = 0;
  double ingest_seconds = 0;
  const int64_t rss_before = RssBytes();
  auto engine = Open();
  {
    std::ofstream out;
    if (!nodes_file.empty()) out.open(nodes_file);
    int64_t number = 0;
    ingest_seconds = IngestAll(*engine, customers, [&](const std::vector<omnijourney::synth::GeneratedEvent>& batch) {
      events += static_cast<int64_t>(batch.size());
      for (const auto& g : batch) {
        ++number;
        if (out.is_open() && !g.duplicate) {
          for (const auto& id : g.event.identifiers()) {
            out << number << '\t' << id.type() << ':' << absl::AsciiStrToLower(absl::StripAsciiWhitespace(id.value())) << '\n';
          }
        }
        if (rng() % 8 == 0 && g.event.identifiers_size() > 0) {
          const auto& id = g.event.identifiers(0);
          if (id.value() != "test@test.com" && id.value() != "null") sample.push_back({g.event.tenant(), id.type(), id.value()});
        }
      }
    });
  }
  const int64_t rss_after = RssBytes();
  const omnijourney::EngineStats stats = engine->Stats();
  rows.push_back({"events (synthetic population, seed 1)", absl::StrCat(events),
                  absl::StrFormat("%d customers, %d profiles", customers, stats.profiles)});
  if (max_profiles_per_tenant > 0) {
    const auto hits = stats.limit_hits.find("max_profiles_per_tenant");
    rows.push_back({"max_profiles_per_tenant", absl::StrCat(max_profiles_per_tenant),
                    absl::StrFormat("%d events refused; largest tenant %d profiles",
                                    hits == stats.limit_hits.end() ? 0 : hits->second, stats.largest_tenant_profiles)});
  }
  rows.push_back({"ingest, in memory, batches of 1000, 1 thread", absl::StrFormat("%.0f events/s", events / ingest_seconds),
                  absl::StrFormat("%.2f s", ingest_seconds)});
  rows.push_back({"memory per profile / per event", absl::StrFormat("%.0f B / %.0f B",
                  static_cast<double>(rss_after - rss_before) / std::max<int64_t>(1, stats.profiles),
                  static_cast<double>(rss_after - rss_before) / std::max<int64_t>(1, events)),
                  absl::StrFormat("resident set +%.0f MB", (rss_after - rss_before) / 1e6)});

  // 2. Context latency on the loaded engine.
  if (!only_ingest) {
    // Three passes over the sample, each in a new random order; the median pass is reported (the
    // tail of one pass moves with the machine's noise).
    if (sample.size() > 100000) sample.resize(100000);
    std::vector<double> p50s, p99s;
    int largest = 0;
    for (int pass = 0; pass < 3; ++pass) {
      std::vector<double> us;
      us.reserve(sample.size());
      std::shuffle(sample.begin(), sample.end(), rng);
      for (const auto& q : sample) {
        const auto t0 = Clock::now();
        auto ctx = engine->Context(q);
        us.push_back(Seconds(Clock::now() - t0) * 1e6);
        if (ctx.ok()) largest = std::max(largest, ctx->timeline_size);
        if (!ctx.ok() && ctx.status().code() != absl::StatusCode::kNotFound) {
          std::cerr << "context: " << ctx.status() << "\n";
          return 1;
        }
      }
      p50s.push_back(Percentile(us, 0.5));
      p99s.push_back(Percentile(us, 0.99));
    }
    std::sort(p50s.begin(), p50s.end());
    std::sort(p99s.begin(), p99s.end());
    rows.push_back({"context by identifier, p50 / p99", absl::StrFormat("%.1f us / %.1f us", p50s[1], p99s[1]),
                    absl::StrFormat("median of 3 passes of %d lookups (p99 %.1f-%.1f); %d profiles, largest timeline %d",
                                    sample.size(), p99s[0], p99s[2], stats.profiles, largest)});

    // 2c. The same lookups while one thread ingests batches of 1000 into the same engine, back to
    // back (the batches are generated first, at most about 1M events' worth, so that a
    // 10M-event run fits in memory beside its engine).
    std::vector<std::vector<omnijourney::synth::GeneratedEvent>> load;
    const int64_t load_customers = std::min(customers, CustomersFor(1000000));
    {
      Batches batches(load_customers, /*seed=*/2, /*tenant=*/"load");
      for (;;) {
        const auto& batch = batches.Next();
        if (batch.empty()) break;
        load.push_back(batch);
      }
    }
    // The lookups while one thread ingests `load` into `target`: the latencies, and the writer's
    // events/s.
    auto under_load = [&](Engine& target, std::vector<double>* us) {
      std::atomic<bool> done{false};
      double load_seconds = 0;
      int64_t load_events = 0;
      std::thread writer([&] {
        const auto t0 = Clock::now();
        for (const auto& batch : load) {
          (void)target.IngestBatch(Pointers(batch));
          AckAll(target);
          load_events += static_cast<int64_t>(batch.size());
        }
        load_seconds = Seconds(Clock::now() - t0);
        done = true;
      });
      for (size_t i = 0; !done; i = (i + 1) % sample.size()) {
        const auto t0 = Clock::now();
        auto ctx = engine->Context(sample[i]);
        us->push_back(Seconds(Clock::now() - t0) * 1e6);
      }
      writer.join();
      return load_events / load_seconds;
    };
    // First into an engine of its own: nothing is shared but the machine (its cores, caches and
    // memory bandwidth), so this is the slowdown any design would see on it.
    std::vector<double> beside;
    double beside_rate = 0;
    {
      std::unique_ptr<Engine> other = Open();
      beside_rate = under_load(*other, &beside);
    }
    std::vector<double> us;
    const double rate = under_load(*engine, &us);
    rows.push_back({"context beside a load (the same batches into another engine), p50 / p99",
                    absl::StrFormat("%.1f us / %.1f us", Percentile(beside, 0.5), Percentile(beside, 0.99)),
                    absl::StrFormat("%d lookups; p99 %.2fx idle; max %.0f us; the writer %.0f events/s", beside.size(),
                                    Percentile(beside, 0.99) / p99s[1],
                                    *std::max_element(beside.begin(), beside.end()), beside_rate)});
    rows.push_back({"context under load (1 thread ingests batches of 1000), p50 / p99",
                    absl::StrFormat("%.1f us / %.1f us", Percentile(us, 0.5), Percentile(us, 0.99)),
                    absl::StrFormat("%d lookups; p99 %.2fx idle, %.2fx beside a load; max %.0f us; the writer %.0f events/s",
                                    us.size(), Percentile(us, 0.99) / p99s[1],
                                    Percentile(us, 0.99) / Percentile(beside, 0.99),
                                    *std::max_element(us.begin(), us.end()), rate)});
  }
  engine.reset();

  if (only_ingest || only_context) {
    if (only_ingest) rows.push_back(FloorIngestRow(floor, events / ingest_seconds));
    for (const Row& r : rows) std::cout << r.what << "  " << r.value << "  " << r.note << "\n";
    return 0;
  }

  // 2b. The same ingest into a second engine: the freed memory of the first is reused, so the
  // difference to the first row is the cost of growing the process (page faults, heap growth).
  {
    auto warm = Open();
    const double seconds = IngestAll(*warm, customers);
    rows.push_back({"the same into a second engine (memory reused)", absl::StrFormat("%.0f events/s", events / seconds),
                    absl::StrFormat("%.2f s", seconds)});
  }

  // 3. Per-call ingest latency.
  {
    auto single = Open();
    Batches batches(customers);
    std::vector<double> us;
    us.reserve(static_cast<size_t>(events));
    for (;;) {
      const auto& batch = batches.Next();
      if (batch.empty()) break;
      for (const auto& g : batch) {
        const auto t0 = Clock::now();
        (void)single->Ingest(g.event);
        us.push_back(Seconds(Clock::now() - t0) * 1e6);
      }
      AckAll(*single);
    }
    double total = 0;
    for (double v : us) total += v;
    rows.push_back({"ingest one event per call, p50 / p99", absl::StrFormat("%.1f us / %.1f us", Percentile(us, 0.5), Percentile(us, 0.99)),
                    absl::StrFormat("%.0f events/s", static_cast<double>(us.size()) / (total / 1e6))});
  }

  // 4. Two threads: one engine, and two engines with the customers split.
  {
    std::vector<std::vector<omnijourney::synth::GeneratedEvent>> all;
    Batches batches(customers);
    for (;;) {
      const auto& batch = batches.Next();
      if (batch.empty()) break;
      all.push_back(batch);
    }
    auto shared = Open();
    auto run_shared = [&](size_t first) {
      for (size_t b = first; b < all.size(); b += 2) (void)shared->IngestBatch(Pointers(all[b]));
    };
    auto t0 = Clock::now();
    std::thread a(run_shared, 0), b(run_shared, 1);
    a.join();
    b.join();
    const double shared_s = Seconds(Clock::now() - t0);
    shared.reset();
    // Partitioned by customer: engine k gets the events of customers with number % 2 == k.
    std::vector<std::vector<const Event*>> parts(2);
    for (const auto& batch : all) {
      for (const auto& g : batch) parts[static_cast<size_t>(g.customer % 2)].push_back(&g.event);
    }
    auto run_part = [&](Engine* e, const std::vector<const Event*>& part) {
      for (size_t i = 0; i < part.size(); i += 1000) {
        (void)e->IngestBatch(std::vector<const Event*>(part.begin() + static_cast<std::ptrdiff_t>(i),
                                                       part.begin() + static_cast<std::ptrdiff_t>(std::min(part.size(), i + 1000))));
      }
    };
    auto e0 = Open(), e1 = Open();
    t0 = Clock::now();
    run_part(e0.get(), parts[0]);
    run_part(e1.get(), parts[1]);
    const double sequential_s = Seconds(Clock::now() - t0);
    e0 = Open();
    e1 = Open();
    t0 = Clock::now();
    std::thread c(run_part, e0.get(), std::cref(parts[0])), d(run_part, e1.get(), std::cref(parts[1]));
    c.join();
    d.join();
    const double parallel_s = Seconds(Clock::now() - t0);
    rows.push_back({"one engine fed from 2 threads", absl::StrFormat("%.0f events/s", events / shared_s),
                    "ingest takes the engine's exclusive lock"});
    rows.push_back({"2 engines (customers split) on 1 / 2 threads",
                    absl::StrFormat("%.0f / %.0f events/s", events / sequential_s, events / parallel_s),
                    absl::StrFormat("scaling x%.2f", sequential_s / parallel_s)});
  }

  // 5. Durable.
  if (durable) {
    const std::string dir = (std::filesystem::temp_directory_path() / "omnijourney_macro_db").string();
    std::filesystem::remove_all(dir);
    const double seconds = IngestAll(*Open(dir), customers);
    uintmax_t bytes = 0;
    for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
      if (f.is_regular_file()) bytes += f.file_size();
    }
    rows.push_back({"durable ingest (RocksDB, sync off), batches of 1000", absl::StrFormat("%.0f events/s", events / seconds),
                    absl::StrFormat("%.0f bytes on disk per event", static_cast<double>(bytes) / events)});
    std::filesystem::remove_all(dir);
  }

  // 6. The naive baseline.
  {
    NaiveIngest naive;
    Batches batches(customers);
    double seconds = 0;
    std::vector<std::string> keys;
    for (;;) {
      const auto& batch = batches.Next();
      if (batch.empty()) break;
      const auto t0 = Clock::now();
      for (const auto& g : batch) naive.Ingest(g.event);
      seconds += Seconds(Clock::now() - t0);
      for (const auto& g : batch) {
        if (keys.size() < 100000 && g.event.identifiers_size() > 0 && rng() % 8 == 0) {
          keys.push_back(absl::StrCat(g.event.identifiers(0).type(), ":",
                                      absl::AsciiStrToLower(absl::StripAsciiWhitespace(g.event.identifiers(0).value()))));
        }
      }
    }
    std::vector<double> us;
    for (const std::string& k : keys) {
      const auto t0 = Clock::now();
      volatile size_t n = naive.Context(k);
      (void)n;
      us.push_back(Seconds(Clock::now() - t0) * 1e6);
    }
    rows.push_back({"naive std::map baseline: ingest", absl::StrFormat("%.0f events/s", events / seconds),
                    absl::StrFormat("x%.2f of it for the engine; %d profiles (no rules)", (events / ingest_seconds) / (events / seconds), naive.profiles())});
    rows.push_back({"naive std::map baseline: context p50 / p99", absl::StrFormat("%.1f us / %.1f us", Percentile(us, 0.5), Percentile(us, 0.99)), ""});
  }

  // 7. The floor, measured first in a child process (fresh memory, like the first engine row).
  rows.push_back(FloorIngestRow(floor, events / ingest_seconds));
  if (floor.ok) {
    rows.push_back({"floor: context (probe + walk the profile's entries) p50 / p99",
                    absl::StrFormat("%.2f us / %.2f us", floor.context_p50_us, floor.context_p99_us), ""});
  }

  size_t w0 = 0, w1 = 0;
  for (const Row& r : rows) {
    w0 = std::max(w0, r.what.size());
    w1 = std::max(w1, r.value.size());
  }
  for (const Row& r : rows) {
    std::cout << absl::StrFormat("%-*s  %*s  %s\n", static_cast<int>(w0), r.what, static_cast<int>(w1), r.value, r.note);
  }
  return 0;
}
