// Fuzz target: Engine::Ingest and IngestBatch with random events built from the input (tenants,
// sources, ids, kinds, channels, identifiers of known and unknown types with colliding values,
// junk values, times from year 0 to 9999, texts, properties), then Unlink and EraseIdentifier on
// some identifiers. Invariants:
// - no crash, hang or leak; every rejection has a message;
// - with max_profiles_per_tenant (1-7, from the input's last byte, or none), only that limit
//   refuses with ResourceExhausted, and says so (ExceededLimit);
// - a rejected event changes nothing (the engine's Stats are the same before and after);
// - an accepted event's profile has a context;
// - re-delivering every event changes nothing: accepted ones are duplicates, rejected ones are
//   rejected again (or duplicates, when another event with the same key was accepted), but an
//   event the profile limit refused may be accepted once later events made room.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/time/time.h"
#include "fuzz_util.h"
#include "omnijourney/engine.h"
#include "omnijourney/event_json.h"
#include "omnijourney/validate.h"

namespace {

using omnijourney::EngineStats;
using omnijourney::Event;
using omnijourney::fuzz::Bytes;

bool SameStats(const EngineStats& a, const EngineStats& b) {
  return a.events == b.events && a.profiles == b.profiles && a.timeline_entries == b.timeline_entries &&
         a.identity.identifiers == b.identity.identifiers && a.identity.profiles == b.identity.profiles &&
         a.identity.link_records == b.identity.link_records;
}

std::string Pick(Bytes& in, const std::vector<std::string>& pool) {
  if (in.Bool()) return in.String(40);
  return pool[static_cast<size_t>(in.Int(0, static_cast<int64_t>(pool.size()) - 1))];
}

Event MakeEvent(Bytes& in) {
  static const std::vector<std::string> kTenants = {"", "acme"};
  static const std::vector<std::string> kSources = {"web", "crm", "shop"};
  static const std::vector<std::string> kTypes = {"email", "phone",  "cookie", "crm_id", "device_id", "chat_handle",
                                                  "ssn",   "emial",  "whatsapp"};
  static const std::vector<std::string> kValues = {"a@example.com",   "A@Example.com ",   "+420 601 123 456",
                                                   "601123456",       "null",             "test@test.com",
                                                   "ck-1",            "ck-2",             "42",
                                                   "",                "(650) 253-0000",   "0151 23456789",
                                                   "000-000-0000",    "ZOË@example.com",  "Eva <a@example.com>",
                                                   "mailto:a@example.com", "521-21-2123", "+420 601\t123\n456"};
  static const std::vector<std::string> kRegions = {"", "", "US", "CZ", "DE", "XX", "cz"};
  static const std::vector<std::string> kNames = {"Order Completed", "Ticket Closed", "Message", "Page Viewed"};
  Event e;
  e.set_tenant(Pick(in, kTenants));
  e.set_source(Pick(in, kSources));
  e.set_event_id(std::to_string(in.Int(0, 20)));
  e.set_kind(static_cast<omnijourney::v1::EventKind>(static_cast<int>(in.Int(-1, 20))));
  e.set_channel(static_cast<omnijourney::v1::Channel>(static_cast<int>(in.Int(-1, 20))));
  e.set_direction(static_cast<omnijourney::v1::Direction>(static_cast<int>(in.Int(-1, 4))));
  e.set_name(Pick(in, kNames));
  // From year 0 to 9999, mostly near 2026.
  const int64_t seconds = in.Bool() ? in.Int(-62167219200, 253402300799) : 1790000000 + in.Int(0, 86400 * 30);
  e.mutable_occurred_at()->set_seconds(seconds);
  e.mutable_occurred_at()->set_nanos(static_cast<int32_t>(in.Int(-1, 1000000000)));
  const int64_t ids = in.Int(0, 5);
  for (int64_t i = 0; i < ids; ++i) {
    auto* id = e.add_identifiers();
    id->set_type(Pick(in, kTypes));
    id->set_value(Pick(in, kValues));
    id->set_region(Pick(in, kRegions));
  }
  if (in.Bool()) e.set_conversation_id(in.String(16));
  if (in.Bool()) e.set_text(in.String(200));
  if (in.Bool()) {
    auto& fields = *e.mutable_properties()->mutable_fields();
    fields[in.String(12)].set_string_value(in.String(24));
    fields["status"].set_string_value(in.Bool() ? "closed" : "open");
    fields["ticket_id"].set_number_value(in.Double());
  }
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool verbose = std::getenv("OMNIJOURNEY_FUZZ_VERBOSE") != nullptr;  // Explains a failure.
  Bytes in(data, size);
  omnijourney::EngineOptions options;
  options.time_mode = omnijourney::EngineOptions::TimeMode::kEventTime;
  // Not read through `in`, so the corpus keeps its meaning.
  options.max_profiles_per_tenant = size == 0 ? 0 : data[size - 1] % 8;
  // Phone regions and unknown types: none, one region, and a tenant of its own, by the input's size.
  options.identity.default_phone_region = size % 3 == 0 ? "" : size % 3 == 1 ? "CZ" : "US";
  if (size % 2 == 0) options.identity.tenant_phone_regions["acme"] = "DE";
  options.identity.unknown_types = size % 5 == 0 ? omnijourney::UnknownTypes::kReject : omnijourney::UnknownTypes::kWarn;
  auto opened = omnijourney::Engine::Open(options);
  FUZZ_CHECK(opened.ok());
  omnijourney::Engine& engine = **opened;

  std::vector<Event> events;
  std::vector<bool> accepted;
  std::vector<bool> refused_by_limit;
  std::set<std::tuple<std::string, std::string, std::string>> accepted_keys;
  const int64_t n = in.Int(1, 24);
  for (int64_t i = 0; i < n && in.remaining() > 0; ++i) {
    events.push_back(MakeEvent(in));
    const EngineStats before = engine.Stats();
    const bool batch = in.Bool();
    absl::StatusOr<omnijourney::IngestResult> r =
        batch ? std::move(engine.IngestBatch({&events.back()}).at(0)) : engine.Ingest(events.back());
    if (!r.ok()) {
      FUZZ_CHECK(!r.status().message().empty());
      FUZZ_CHECK(SameStats(before, engine.Stats()));
      const bool by_limit = omnijourney::ExceededLimit(r.status()) == "max_profiles_per_tenant";
      FUZZ_CHECK(by_limit == (r.status().code() == absl::StatusCode::kResourceExhausted));
      FUZZ_CHECK(!by_limit || options.max_profiles_per_tenant > 0);
    } else if (!r->duplicate && !r->erased) {
      FUZZ_CHECK(engine.Context(events.back().tenant(), r->profile).ok());
    }
    accepted.push_back(r.ok());
    refused_by_limit.push_back(!r.ok() && omnijourney::ExceededLimit(r.status()) == "max_profiles_per_tenant");
    if (r.ok()) accepted_keys.insert({events.back().tenant(), events.back().source(), events.back().event_id()});
    if (verbose) {
      std::fprintf(stderr, "event %d: %s\n  -> %s\n", static_cast<int>(i), omnijourney::EventToJson(events.back()).c_str(),
                   r.ok() ? (r->duplicate ? "duplicate" : "accepted") : std::string(r.status().message()).c_str());
    }
  }
  // Re-delivery of everything is a no-op, except that an event the profile limit refused may fit
  // now (a later event merged profiles and freed a place).
  const EngineStats before = engine.Stats();
  bool changed = false;
  for (size_t i = 0; i < events.size(); ++i) {
    auto r = engine.Ingest(events[i]);
    if (verbose) {
      std::fprintf(stderr, "again %d -> %s\n", static_cast<int>(i),
                   r.ok() ? (r->duplicate ? "duplicate" : "accepted") : std::string(r.status().message()).c_str());
    }
    const bool key_taken = accepted_keys.contains({events[i].tenant(), events[i].source(), events[i].event_id()});
    if (accepted[i]) {
      FUZZ_CHECK(r.ok() && r->duplicate);  // Idempotent by (tenant, source, event_id).
    } else if (refused_by_limit[i] && r.ok() && !r->duplicate) {
      changed = true;
      accepted_keys.insert({events[i].tenant(), events[i].source(), events[i].event_id()});
    } else if (key_taken) {
      FUZZ_CHECK(!r.ok() || r->duplicate);  // Invalid (validation comes first), or a duplicate.
    } else {
      FUZZ_CHECK(!r.ok());
    }
  }
  FUZZ_CHECK(changed || SameStats(before, engine.Stats()));
  // Identity operations on some identifiers: errors have messages, contexts stay reachable.
  for (const Event& e : events) {
    if (e.identifiers_size() == 0 || in.remaining() == 0) continue;
    const omnijourney::IdentifierQuery q{e.tenant(), e.identifiers(0).type(), e.identifiers(0).value()};
    const int64_t op = in.Int(0, 3);
    if (op == 1) {
      auto r = engine.Unlink(q);
      FUZZ_CHECK(r.ok() || !r.status().message().empty());
    } else if (op == 2) {
      auto r = engine.EraseIdentifier(q);
      FUZZ_CHECK(r.ok() || !r.status().message().empty());
    }
    auto c = engine.Context(q);
    FUZZ_CHECK(c.ok() || !c.status().message().empty());
  }
  // After unlinks and erasures, an accepted event delivered again is a duplicate (scrubbed or not)
  // or refused as erased; never new.
  for (size_t i = 0; i < events.size(); ++i) {
    if (!accepted[i]) continue;
    auto r = engine.Ingest(events[i]);
    FUZZ_CHECK(r.ok() && (r->duplicate || r->erased));
  }
  return 0;
}
