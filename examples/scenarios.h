// Scenarios 1-5 of SCENARIOS.md as scripts: events in order, moments when time passes (journey
// timeouts fire) and moments when an operator looks the customer up. The example program
// omnijourney_scenarios prints them; tests/scenarios_*_test.cc run the same scripts and check what
// the operator sees at each moment.
#ifndef OMNIJOURNEY_EXAMPLES_SCENARIOS_H_
#define OMNIJOURNEY_EXAMPLES_SCENARIOS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "event_builder.h"
#include "omnijourney/engine.h"
#include "omnijourney/journey.h"

namespace omnijourney::examples {

struct Step {
  enum class Kind { kEvent, kAdvance, kLook };
  Kind kind = Kind::kEvent;
  Event event;             // kEvent.
  int64_t minute = 0;      // kAdvance: the engine's time moves to At(minute).
  std::string label;       // kAdvance and kLook: what happens, for the printout and for tests.
  IdentifierQuery lookup;  // kLook: the identifier the operator has.
};

inline Step E(const Ev& e) { return {Step::Kind::kEvent, e.event(), 0, "", {}}; }
inline Step Advance(int64_t minute, std::string label) { return {Step::Kind::kAdvance, {}, minute, std::move(label), {}}; }
inline Step Look(std::string label, std::string type, std::string value) {
  return {Step::Kind::kLook, {}, 0, std::move(label), {"", std::move(type), std::move(value)}};
}

struct Scenario {
  int number = 0;
  std::string title;
  std::vector<std::string> journeys;  // Journey definitions in text format.
  std::vector<Step> steps;
};

constexpr int64_t kHour = 60;
constexpr int64_t kDay = 24 * 60;

// An engine for the scenario (event time: the script's events set the clock), with its journeys.
// `stitching` false: the multichannel baseline, every identifier stays on its own.
inline absl::StatusOr<std::unique_ptr<Engine>> OpenFor(const Scenario& scenario, bool stitching = true) {
  EngineOptions options;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  options.identity.default_phone_region = "CZ";  // The scenarios' company is Czech.
  if (!stitching) {
    for (auto& [type, rule] : options.identity.rules) rule.links = false;
    options.identity.default_rule.links = false;
  }
  auto engine = Engine::Open(options);
  if (!engine.ok()) return engine.status();
  for (const std::string& text : scenario.journeys) {
    auto journey = ParseJourneyText(text);
    if (!journey.ok()) return journey.status();
    if (absl::Status st = (*engine)->AddJourney(*journey); !st.ok()) return st;
  }
  return engine;
}

// Runs `steps` through `engine`: ingests events, advances time, and calls `on_step` after every
// step (an event's ingest result is passed for events). Stops at the first failure.
inline absl::Status RunScript(Engine& engine, const std::vector<Step>& steps,
                              const std::function<void(const Step&, const IngestResult*)>& on_step) {
  for (const Step& s : steps) {
    switch (s.kind) {
      case Step::Kind::kEvent: {
        auto r = engine.Ingest(s.event);
        if (!r.ok()) return absl::Status(r.status().code(), absl::StrCat(s.event.event_id(), ": ", r.status().message()));
        on_step(s, &*r);
        break;
      }
      case Step::Kind::kAdvance:
        if (absl::Status st = engine.AdvanceTime(At(s.minute)); !st.ok()) return st;
        on_step(s, nullptr);
        break;
      case Step::Kind::kLook:
        on_step(s, nullptr);
        break;
    }
  }
  return absl::OkStatus();
}

// Scenario 1: a chat about a delayed parcel, then a call from the number on an earlier order.
inline Scenario ChatThenCall() {
  Scenario s;
  s.number = 1;
  s.title = "Chat, then a call: context for the operator";
  s.steps = {
      E(Ev("o1", 0, v1::EVENT_KIND_ORDER, "Order Completed")
            .Id("email", "eva@example.com").Id("phone", "+420 601 123 456").In(v1::CHANNEL_WEB)
            .Prop("order_id", "A-1001").Value(1299, "CZK")),
      E(Ev("c1", 3 * kDay, v1::EVENT_KIND_MESSAGE, "Message Received")
            .Id("chat_handle", "@Eva_N").Id("email", "Eva@Example.com").In(v1::CHANNEL_CHAT).Conv("chat-7")
            .Text("Where is my parcel A-1001? It was due yesterday.")),
      E(Ev("c2", 3 * kDay + 1, v1::EVENT_KIND_MESSAGE, "Message Sent")
            .Id("chat_handle", "@eva_n").Out(v1::CHANNEL_CHAT).Conv("chat-7").Agent("bot:faq")
            .Text("Sorry, the carrier reports a delay. I opened a case for you.")),
      E(Ev("t1", 3 * kDay + 2, v1::EVENT_KIND_TICKET, "Ticket Opened")
            .Id("chat_handle", "@eva_n").On(v1::CHANNEL_CHAT, v1::DIRECTION_INTERNAL).Conv("chat-7")
            .Prop("ticket_id", "T-77").Prop("subject", "Delayed delivery of A-1001")),
      E(Ev("v1", 4 * kDay, v1::EVENT_KIND_CALL, "Call Started")
            .Id("phone", "601123456").In(v1::CHANNEL_VOICE).Conv("call-1").Agent("agent:jana")),
      Look("the call arrives: the operator looks up the caller's number", "phone", "+420 601 123 456"),
  };
  return s;
}

// Scenario 2: the broken modem: two calls and an email about one issue, one support journey.
inline Scenario BrokenModem() {
  Scenario s;
  s.number = 2;
  s.title = "The broken modem: every contact joins one support journey";
  s.journeys = {R"pb(
    name: "modem_support"
    version: 1
    entry { trigger { kinds: EVENT_KIND_TICKET names: "Ticket Opened" } }
    states {
      name: "opened"
      transitions { to: "diagnosed" on { names: "Diagnosis Done" } }
      transitions { to: "resolved" on { names: "Ticket Resolved" } }
    }
    states {
      name: "diagnosed"
      transitions { to: "repair_scheduled" on { names: "Technician Scheduled" } }
      transitions { to: "resolved" on { names: "Ticket Resolved" } }
    }
    states {
      name: "repair_scheduled"
      transitions { to: "resolved" on { names: "Ticket Resolved" } }
    }
    states { name: "resolved" kind: STATE_KIND_GOAL }
  )pb"};
  s.steps = {
      E(Ev("w1", 0, v1::EVENT_KIND_TRACK, "Callback Requested")
            .Id("cookie", "ck-9").Id("phone", "+420 777 555 111").In(v1::CHANNEL_WEB)),
      E(Ev("s1", 30, v1::EVENT_KIND_CALL, "Call Ended")
            .Id("phone", "777555111").Out(v1::CHANNEL_VOICE).Agent("agent:sales-1").Conv("call-0")),
      E(Ev("o1", 60, v1::EVENT_KIND_ORDER, "Order Completed")
            .Id("crm_id", "C-42").Id("phone", "+420777555111").Id("email", "petr@example.com")
            .On(v1::CHANNEL_SERVER).Prop("order_id", "INT-1").Prop("product", "Internet 500 + modem")),
      // Ten days later the modem breaks: a call to the general line opens a ticket.
      E(Ev("c1", 10 * kDay, v1::EVENT_KIND_CALL, "Call Started")
            .Id("phone", "+420 777 555 111").In(v1::CHANNEL_VOICE).Conv("call-1").Agent("agent:eva")
            .Text("Modem shows a red light, no internet.")),
      E(Ev("k1", 10 * kDay + 5, v1::EVENT_KIND_TICKET, "Ticket Opened")
            .Id("crm_id", "C-42").On(v1::CHANNEL_VOICE, v1::DIRECTION_INTERNAL)
            .Prop("ticket_id", "T-1").Prop("subject", "Modem broken")),
      // The second call, the next morning.
      E(Ev("c2", 11 * kDay, v1::EVENT_KIND_CALL, "Call Started")
            .Id("phone", "+420777555111").In(v1::CHANNEL_VOICE).Conv("call-2").Agent("agent:tom")),
      Look("second call: the operator sees the first call and the open ticket", "phone", "777 555 111"),
      E(Ev("d1", 11 * kDay + 20, v1::EVENT_KIND_TICKET, "Diagnosis Done")
            .Id("crm_id", "C-42").On(v1::CHANNEL_VOICE, v1::DIRECTION_INTERNAL)
            .Prop("ticket_id", "T-1").Prop("status", "diagnosed: modem power supply")),
      // Then an email from the address on the contract: the same profile, a third contact.
      E(Ev("m1", 11 * kDay + 120, v1::EVENT_KIND_MESSAGE, "Email Received")
            .Id("email", "Petr@example.com").In(v1::CHANNEL_EMAIL).Conv("mail-1")
            .Text("Still no internet, please send a technician.")),
      E(Ev("r1", 11 * kDay + 150, v1::EVENT_KIND_TICKET, "Technician Scheduled")
            .Id("crm_id", "C-42").On(v1::CHANNEL_EMAIL, v1::DIRECTION_INTERNAL)
            .Prop("ticket_id", "T-1").Prop("status", "technician on Thursday")),
      Look("the email: same profile, third contact", "email", "petr@example.com"),
      E(Ev("k2", 12 * kDay, v1::EVENT_KIND_TICKET, "Ticket Resolved")
            .Id("crm_id", "C-42").On(v1::CHANNEL_SERVER, v1::DIRECTION_INTERNAL)
            .Prop("ticket_id", "T-1")),
      Advance(12 * kDay + 60, "an hour after the repair"),
      Look("resolved: no open ticket", "crm_id", "C-42"),
  };
  return s;
}

// Scenario 3: ads, web, chat, a reservation the store never confirms, a reminder before expiry,
// pickup with the loyalty card.
inline Scenario GreenSofa() {
  Scenario s;
  s.number = 3;
  s.title = "The green sofa: nothing lost between customer service and the store";
  s.journeys = {R"pb(
    name: "store_reservation"
    version: 1
    entry { trigger { kinds: EVENT_KIND_ORDER names: "Reservation Created" } }
    states {
      name: "awaiting_confirmation"
      transitions { to: "reserved" on { names: "Reservation Confirmed" } }
      transitions { to: "picked_up" on { names: "Reservation Picked Up" } }
      transitions {
        to: "unconfirmed" after { seconds: 7200 }
        actions { name: "escalate_unconfirmed" parameters { key: "team" value: "store-ops" } }
      }
    }
    states {
      name: "unconfirmed"
      transitions { to: "reserved" on { names: "Reservation Confirmed" } }
      transitions { to: "picked_up" on { names: "Reservation Picked Up" } }
      transitions { to: "expiring" after { seconds: 122400 } actions { name: "remind_pickup" channel: "preferred" } }
    }
    states {
      name: "reserved"
      transitions { to: "picked_up" on { names: "Reservation Picked Up" } }
      transitions { to: "expiring" after { seconds: 122400 } actions { name: "remind_pickup" channel: "preferred" } }
    }
    states {
      name: "expiring"
      transitions { to: "picked_up" on { names: "Reservation Picked Up" } }
      transitions { to: "expired" after { seconds: 43200 } actions { name: "release_sofa" } }
    }
    states { name: "picked_up" kind: STATE_KIND_GOAL }
    states { name: "expired" kind: STATE_KIND_EXIT }
  )pb"};
  s.steps = {
      E(Ev("ad1", 0, v1::EVENT_KIND_PAGE, "Search Ad Click").Id("cookie", "ck-sofa").In(v1::CHANNEL_ADS)),
      E(Ev("ad2", 24 * kHour, v1::EVENT_KIND_PAGE, "Retargeting Ad Click").Id("cookie", "ck-sofa").In(v1::CHANNEL_ADS)),
      E(Ev("pv1", 24 * kHour + 1, v1::EVENT_KIND_PAGE, "Product Viewed").Id("cookie", "ck-sofa").In(v1::CHANNEL_WEB)
            .Prop("category", "sofas").Prop("product", "Green sofa Oslo")),
      E(Ev("ch1", 24 * kHour + 5, v1::EVENT_KIND_MESSAGE, "Message Received").Id("cookie", "ck-sofa")
            .Id("email", "ola@example.com").In(v1::CHANNEL_CHAT).Conv("chat-55")
            .Text("Is the green Oslo sofa in stock in Brno? I'd like to see it.")),
      E(Ev("rs1", 24 * kHour + 10, v1::EVENT_KIND_ORDER, "Reservation Created").Id("email", "ola@example.com")
            .On(v1::CHANNEL_CHAT, v1::DIRECTION_OUTBOUND).Agent("agent:petra").Conv("chat-55")
            .Prop("reservation_id", "R-881").Prop("store", "Brno Centrum").Prop("product", "Green sofa Oslo")),
      Advance(26 * kHour + 10, "two hours later, the store has not confirmed"),
      Advance(60 * kHour + 10, "36 hours after the reservation"),
      E(Ev("pk1", 62 * kHour, v1::EVENT_KIND_ORDER, "Reservation Picked Up").Id("loyalty_card", "LC-0042 7781")
            .Id("email", "ola@example.com").In(v1::CHANNEL_STORE).Prop("reservation_id", "R-881")),
      Advance(100 * kHour, "later: nothing to release"),
      Look("the store looks up the loyalty card", "loyalty_card", "LC00427781"),
  };
  return s;
}

// Scenario 4: lead to contract; the preferred channel is learned from the replies. The messaging
// connectors know the number behind a WhatsApp or Viber id and send it as a phone too.
inline Scenario LeadToContract() {
  Scenario s;
  s.number = 4;
  s.title = "Lead to contract: one profile, one journey, the preferred channel learned";
  s.journeys = {R"pb(
    name: "lead_to_customer"
    version: 1
    entry { trigger { names: "Lead Submitted" } }
    states {
      name: "lead"
      transitions { to: "contacted" on { kinds: [EVENT_KIND_CALL, EVENT_KIND_MESSAGE] } }
      transitions { to: "customer" on { names: "Contract Signed" } }
      transitions { to: "lost" after { seconds: 2592000 } }
    }
    states {
      name: "contacted"
      transitions { to: "customer" on { names: "Contract Signed" } }
      transitions { to: "lost" after { seconds: 2592000 } }
    }
    states { name: "customer" kind: STATE_KIND_GOAL }
    states { name: "lost" kind: STATE_KIND_EXIT }
  )pb"};
  s.steps = {
      E(Ev("a1", 0, v1::EVENT_KIND_PAGE, "Landing").Id("cookie", "ck-lead").In(v1::CHANNEL_ADS)
            .Prop("category", "mortgages")),
      E(Ev("l1", 5, v1::EVENT_KIND_TRACK, "Lead Submitted").Id("cookie", "ck-lead").Id("email", "ana@example.com")
            .Id("phone", "+420 602 000 333").In(v1::CHANNEL_WEB).Prop("category", "mortgages")
            .Trait("first_name", "Ana").Trait("last_name", "Novak")),
      E(Ev("k1", 120, v1::EVENT_KIND_CALL, "Call Ended").Id("phone", "602000333").Out(v1::CHANNEL_VOICE)
            .Agent("agent:broker")),
      E(Ev("w1", kDay, v1::EVENT_KIND_MESSAGE, "Message Received").Id("whatsapp", "+420602000333")
            .Id("phone", "+420602000333").In(v1::CHANNEL_WHATSAPP).Conv("wa-1").Text("Can we meet on Friday?")),
      E(Ev("w2", kDay + 10, v1::EVENT_KIND_MESSAGE, "Message Sent").Id("whatsapp", "+420602000333")
            .Id("phone", "+420602000333").Out(v1::CHANNEL_WHATSAPP).Conv("wa-1").Agent("agent:broker")
            .Text("Friday 10:00 at the office.")),
      E(Ev("s1", 4 * kDay, v1::EVENT_KIND_ORDER, "Contract Signed").Id("crm_id", "CRM-5001")
            .Id("email", "ana@example.com").In(v1::CHANNEL_OFFICE).Prop("contract_id", "M-88").Value(250000, "EUR")),
      E(Ev("n1", 5 * kDay, v1::EVENT_KIND_NOTIFICATION, "Onboarding Email").Id("email", "ana@example.com")
            .Out(v1::CHANNEL_EMAIL)),
      E(Ev("n2", 6 * kDay, v1::EVENT_KIND_NOTIFICATION, "Onboarding Push").Id("crm_id", "CRM-5001")
            .Out(v1::CHANNEL_PUSH)),
      E(Ev("n3", 7 * kDay, v1::EVENT_KIND_NOTIFICATION, "Onboarding SMS").Id("phone", "+420602000333")
            .Out(v1::CHANNEL_SMS)),
      E(Ev("n4", 8 * kDay, v1::EVENT_KIND_MESSAGE, "Onboarding Viber").Id("viber", "+420 602 000 333")
            .Id("phone", "+420602000333").Out(v1::CHANNEL_VIBER).Conv("vb-1")),
      E(Ev("r1", 8 * kDay + 30, v1::EVENT_KIND_MESSAGE, "Message Received").Id("viber", "+420602000333")
            .Id("phone", "+420602000333").In(v1::CHANNEL_VIBER).Conv("vb-1").Text("Thanks, all clear!")),
      E(Ev("n5", 12 * kDay, v1::EVENT_KIND_MESSAGE, "Rate Reminder").Id("viber", "+420602000333")
            .Id("phone", "+420602000333").Out(v1::CHANNEL_VIBER).Conv("vb-2")),
      E(Ev("r2", 12 * kDay + 60, v1::EVENT_KIND_MESSAGE, "Message Received").Id("viber", "+420602000333")
            .Id("phone", "+420602000333").In(v1::CHANNEL_VIBER).Conv("vb-2").Text("Got it.")),
      Advance(12 * kDay + 61, "a minute after the last reply"),
      Look("the bank's CRM id: everything on one profile", "crm_id", "CRM-5001"),
  };
  return s;
}

// Scenario 5: bought in the app, complaint filed by phone, follow-up on Facebook Messenger.
inline Scenario ComplaintAnyChannel() {
  Scenario s;
  s.number = 5;
  s.title = "A complaint in any channel: continued, not restarted";
  s.journeys = {R"pb(
    name: "complaint"
    version: 1
    entry { trigger { kinds: EVENT_KIND_TICKET names: "Complaint Filed" } }
    reentry { policy: REENTRY_AFTER_EXIT }
    states {
      name: "filed"
      transitions { to: "accepted" on { names: "Complaint Accepted" } actions { name: "confirm_acceptance" channel: "preferred" } }
      transitions {
        name: "follow_up"
        to: "filed"
        on { kinds: [EVENT_KIND_MESSAGE, EVENT_KIND_CALL] directions: DIRECTION_INBOUND }
        actions { name: "notify_case_owner" }
      }
      transitions { to: "overdue" after { seconds: 1209600 } actions { name: "escalate" } }
    }
    states {
      name: "accepted"
      transitions { to: "resolved" on { names: "Complaint Resolved" } }
      transitions {
        name: "follow_up_accepted"
        to: "accepted"
        on { kinds: [EVENT_KIND_MESSAGE, EVENT_KIND_CALL] directions: DIRECTION_INBOUND }
        actions { name: "notify_case_owner" }
      }
    }
    states { name: "resolved" kind: STATE_KIND_GOAL }
    states { name: "overdue" kind: STATE_KIND_EXIT }
  )pb"};
  s.steps = {
      E(Ev("o1", 0, v1::EVENT_KIND_ORDER, "Order Completed").Id("device_id", "DEV-77").Id("email", "karel@example.com")
            .Id("phone", "+420 603 111 222").In(v1::CHANNEL_APP).Prop("order_id", "APP-9").Prop("product", "Blender X")),
      E(Ev("t1", 5 * kDay, v1::EVENT_KIND_TICKET, "Complaint Filed").Id("phone", "603111222")
            .In(v1::CHANNEL_VOICE).Agent("agent:lucie").Conv("case-12").Prop("ticket_id", "C-12")
            .Prop("subject", "Blender X stopped working")),
      E(Ev("t2", 6 * kDay, v1::EVENT_KIND_TICKET, "Complaint Accepted").Id("email", "karel@example.com")
            .On(v1::CHANNEL_SERVER, v1::DIRECTION_INTERNAL).Prop("ticket_id", "C-12")),
      // A week later on Messenger; the page links the Facebook id to the customer's email.
      E(Ev("fb1", 12 * kDay, v1::EVENT_KIND_MESSAGE, "Message Received").Id("facebook", "karel.n")
            .Id("email", "karel@example.com").In(v1::CHANNEL_SOCIAL).Conv("fb-3")
            .Text("Any news about my blender complaint?")),
      // The social care bot files a complaint too: the running one continues, no new instance.
      E(Ev("fb2", 12 * kDay + 1, v1::EVENT_KIND_TICKET, "Complaint Filed").Id("facebook", "karel.n")
            .In(v1::CHANNEL_SOCIAL).Prop("ticket_id", "C-12")),
      Look("the social care agent looks up the Facebook id", "facebook", "karel.n"),
      E(Ev("t3", 13 * kDay, v1::EVENT_KIND_TICKET, "Complaint Resolved").Id("email", "karel@example.com")
            .On(v1::CHANNEL_SERVER, v1::DIRECTION_INTERNAL).Prop("ticket_id", "C-12")),
      Look("resolved: the journey reached its goal", "email", "karel@example.com"),
  };
  return s;
}

inline std::vector<Scenario> AllScenarios() {
  return {ChatThenCall(), BrokenModem(), GreenSofa(), LeadToContract(), ComplaintAnyChannel()};
}

}  // namespace omnijourney::examples

#endif  // OMNIJOURNEY_EXAMPLES_SCENARIOS_H_
