// A seeded, reproducible synthetic customer population for examples, tests and benchmarks.
//
// Every customer shops once (an ad click, product views on the web or in the app, maybe a sales chat,
// maybe a registration that links their cookie, email and phone, maybe an order online or in a
// store) and may then have a support issue, which they raise on their preferred channel and, while
// it is not resolved, again (often on another channel). Some customers stay anonymous (their channels
// share no identifier), some share a household tablet with another customer, some events carry junk
// values (test@test.com, "null", the call-centre number typed into a store order), arrive late or
// twice. The same options (seed included) give the same events on every machine.
//
// Support contacts are handled by agents in teams, with waits, abandoned calls and handle times,
// and followed by CSAT/CES answers and complaints (see PopulationOptions).
//
// Support outcomes can depend on the engine: after a support contact (GeneratedEvent::contact) the
// caller may say whether the agent saw the customer's earlier contacts (ReportHistory); a follow-up
// contact resolves with PopulationOptions::resolve_with_history or resolve_without_history.
//
// Example:
//   auto population = omnijourney::synth::Population::Create({.seed = 7, .customers = 1000});
//   omnijourney::synth::GeneratedEvent g;
//   while ((*population)->Next(&g)) engine->Ingest(g.event);
#ifndef OMNIJOURNEY_SYNTH_H_
#define OMNIJOURNEY_SYNTH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "omnijourney/event.h"

namespace omnijourney::synth {

struct PopulationOptions {
  uint64_t seed = 1;
  int64_t customers = 1000;
  // Customers start shopping at a uniformly random time in [start, start + span).
  absl::Time start = absl::FromCivil(absl::CivilDay(2026, 9, 1), absl::UTCTimeZone());
  absl::Duration span = absl::Hours(24 * 30);
  std::string tenant;

  double known_rate = 0.7;           // Register on the web: cookie, email and phone in one event.
  double app_rate = 0.3;             // Browse in the app (device id; the CRM id once logged in).
  double store_rate = 0.4;           // Have a loyalty card and may buy in a store.
  double ad_rate = 0.5;              // Start from an ad click.
  double sales_chat_rate = 0.3;      // Ask in the web chat before buying.
  double buy_rate = 0.5;             // Buy (online, or in the store for loyalty-card holders).
  double support_rate = 0.35;        // Have a support issue after shopping.
  double shared_device_rate = 0.02;  // Share a household tablet with the next customer.
  double junk_rate = 0.02;           // An event with an email or phone also carries a junk value.
  double late_rate = 0.01;           // Delivered up to max_lateness after its time (never a contact).
  absl::Duration max_lateness = absl::Minutes(10);
  double duplicate_rate = 0.01;      // Delivered a second time within the hour.

  // Support: the first contact resolves the issue with resolve_first; a follow-up with
  // resolve_with_history when the agent saw the earlier contacts, else resolve_without_history.
  // Unresolved, the customer comes back 2 hours to 3 days later, on another channel with
  // switch_channel, at most max_contacts times.
  double resolve_first = 0.55;
  double resolve_with_history = 0.75;
  double resolve_without_history = 0.35;
  double switch_channel = 0.5;
  int max_contacts = 5;
  // What a follow-up assumes when the caller does not ReportHistory.
  bool assume_history = true;

  // The contact centre. Each support channel has its team(s) of agents_per_team agents ("voice-1"
  // and "voice-2", "digital", "store"); a conversation ends with a "Contact Ended" event carrying
  // agent_id and the properties team, wait_seconds (voice and chat), handle_seconds and abandoned.
  // A caller who waits longer than their patience (45 s to 4 min) abandons: no agent, no resolution,
  // back within hours. An agent who sees the earlier contacts (ReportHistory) answers sooner (the
  // routing knows the customer: waits x history_wait_factor) and handles a follow-up faster
  // (without history the customer tells the story again: handle x no_history_handle_factor).
  int agents_per_team = 8;
  bool abandonment = true;
  double history_wait_factor = 0.6;
  double no_history_handle_factor = 1.5;
  // Feedback: after a contact's outcome a survey answer with feedback_rate (CSAT 1-5, or CES 1-7
  // for a quarter of them), lower when unresolved, after repeats without history and long waits;
  // an NPS answer (0-10) after an order with nps_rate. A customer whose issue is still open after
  // their third contact files a complaint (an inbound email TICKET, category "complaint") with
  // complaint_rate, once.
  double feedback_rate = 0.4;
  double nps_rate = 0.15;
  double complaint_rate = 0.4;
};

struct GeneratedEvent {
  Event event;
  int64_t customer = 0;     // The true customer (0-based): ground truth the engine never sees.
  bool duplicate = false;   // A second delivery of an event delivered before.
  bool late = false;        // Delivered after events that happened later.
  bool contact = false;     // A support contact: ReportHistory applies to it.
};

class Population {
 public:
  // InvalidArgument naming the option: rates outside [0, 1], customers < 0, span <= 0,
  // max_contacts < 1, negative max_lateness.
  static absl::StatusOr<std::unique_ptr<Population>> Create(const PopulationOptions& options);
  virtual ~Population() = default;

  // The next event in delivery order (by delivery time, ties in generation order); false at the end.
  virtual bool Next(GeneratedEvent* out) = 0;
  // Whether the agent of the support contact Next() returned last saw the customer's earlier
  // contacts. Ignored when that event was not a contact.
  virtual void ReportHistory(bool available) = 0;

  // Counters so far.
  virtual int64_t delivered() const = 0;
  virtual int64_t issues() const = 0;           // Support issues started.
  virtual int64_t issues_resolved() const = 0;  // Resolved by some contact.

 protected:
  Population() = default;
};

// All events of a population without feedback (assume_history decides), in delivery order.
absl::StatusOr<std::vector<GeneratedEvent>> Generate(const PopulationOptions& options);

}  // namespace omnijourney::synth

#endif  // OMNIJOURNEY_SYNTH_H_
