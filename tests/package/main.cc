// docs/getting-started.md, compiled against the installed package by the test suite: a host
// program that links omnijourney, loads a journey, ingests events from two channels, asks for the
// caller's context and hands the journey's action on.
#include <iostream>

#include "omnijourney/engine.h"
#include "omnijourney/journey.h"
#include "omnijourney/segment.h"
#include "omnijourney/version.h"

int main() {
  // 1. Open an engine (in memory; set options.storage.path for a durable RocksDB store).
  omnijourney::EngineOptions options;
  options.time_mode = omnijourney::EngineOptions::TimeMode::kEventTime;  // replaying history
  options.identity.default_phone_region = "CZ";  // phone numbers without +420 are Czech
  auto engine = omnijourney::Engine::Open(options);
  if (!engine.ok()) {
    std::cerr << engine.status() << "\n";
    return 1;
  }

  // 2. A journey: a callback requested on the web must be called back within 2 hours.
  auto journey = omnijourney::ParseJourneyText(R"pb(
    name: "callback" version: 1
    entry { trigger { names: "Callback Requested" } }
    states {
      name: "requested"
      transitions { to: "called" on { kinds: EVENT_KIND_CALL } }
      transitions { to: "missed" after { seconds: 7200 } actions { name: "alert_supervisor" } }
    }
    states { name: "called" kind: STATE_KIND_GOAL }
    states { name: "missed" kind: STATE_KIND_EXIT }
  )pb");
  if (!journey.ok() || !(*engine)->AddJourney(*journey).ok()) {
    std::cerr << "journey: " << journey.status() << "\n";
    return 1;
  }

  // 3. Events from any channel: here a Segment track call from the website...
  auto web = omnijourney::ParseSegmentJson(
      R"({"type":"track","event":"Callback Requested","anonymousId":"ck-1","messageId":"m-1",)"
      R"("timestamp":"2026-11-20T10:00:00Z","context":{"traits":{"phone":"+420 601 123 456"}}})",
      {});
  if (!web.ok() || web->events.size() != 1) {
    std::cerr << "segment: " << web.status() << "\n";
    return 1;
  }
  if (auto r = (*engine)->Ingest(web->events[0]); !r.ok()) {
    std::cerr << r.status() << "\n";
    return 1;
  }
  // ... and an SMS reply built directly as the protobuf envelope.
  omnijourney::Event sms;
  sms.set_source("sms-gateway");
  sms.set_event_id("sms-77");
  sms.set_kind(omnijourney::v1::EVENT_KIND_MESSAGE);
  sms.set_channel(omnijourney::v1::CHANNEL_SMS);
  sms.set_direction(omnijourney::v1::DIRECTION_INBOUND);
  sms.set_text("Please call after 11, thanks");
  *sms.mutable_occurred_at() = omnijourney::ToTimestamp(absl::FromUnixSeconds(1795171200));  // 10:40
  auto* id = sms.add_identifiers();
  id->set_type("phone");
  id->set_value("601123456");
  if (auto r = (*engine)->Ingest(sms); !r.ok()) {
    std::cerr << r.status() << "\n";
    return 1;
  }

  // 4. Two hours pass without a call: the journey hands an action to the host, exactly once.
  if (!(*engine)->AdvanceTime(absl::FromUnixSeconds(1795171200 + 3 * 3600)).ok()) return 1;
  std::vector<std::string> delivered;
  for (const omnijourney::JourneyAction& a : (*engine)->TakeActions()) {
    std::cout << "action " << a.name << " (" << a.journey << ": " << a.from_state << " -> " << a.to_state << ")\n";
    delivered.push_back(a.id);
  }
  if (!(*engine)->AckActions(delivered).ok()) return 1;  // Delivered: never handed out again.

  // 5. The caller's number shows the web request and the SMS: one customer.
  auto ctx = (*engine)->Context({"", "phone", "+420601123456"});
  if (!ctx.ok() || ctx->timeline_size != 2) {
    std::cerr << "context: " << ctx.status() << "\n";
    return 1;
  }
  std::cout << omnijourney::RenderContext(*ctx);
  std::cout << "omnijourney " << OMNIJOURNEY_VERSION_STRING << "\n";
  return 0;
}
