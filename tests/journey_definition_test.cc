// Journey definitions: text format, JSON, builder, and every validation rule.
#include <functional>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "omnijourney/journey.h"

namespace omnijourney {
namespace {

using ::testing::HasSubstr;

constexpr char kReservation[] = R"pb(
  name: "reservation"
  version: 2
  description: "Store reservation: pickup, reminder, expiry"
  entry { trigger { kinds: EVENT_KIND_ORDER names: "Reservation Created" } }
  states {
    name: "reserved"
    transitions { to: "picked_up" on { names: "Reservation Picked Up" } }
    transitions {
      to: "reminded"
      after { seconds: 86400 }
      actions { name: "remind_pickup" channel: "preferred" parameters { key: "template" value: "pickup-1" } }
    }
    reset_timers_on { names: "Reservation Extended" }
  }
  states {
    name: "reminded"
    transitions { to: "picked_up" on { names: "Reservation Picked Up" } }
    transitions { to: "expired" after { seconds: 86400 } guard { condition { field: "counters.orders" op: OP_GE values { number_value: 0 } } } }
  }
  states { name: "picked_up" kind: STATE_KIND_GOAL }
  states { name: "expired" kind: STATE_KIND_EXIT on_enter { name: "release_item" } }
  reentry { policy: REENTRY_AFTER_EXIT cooldown { seconds: 3600 } }
  migrations { from_version: 1 state_map { key: "waiting" value: "reserved" } }
)pb";

JourneyDefinition Base() {
  auto j = ParseJourneyText(kReservation);
  EXPECT_TRUE(j.ok()) << j.status();
  return *j;
}

TEST(JourneyDefinitionTest, ParsesTextFormat) {
  const JourneyDefinition j = Base();
  EXPECT_EQ(j.name(), "reservation");
  EXPECT_EQ(j.version(), 2);
  ASSERT_EQ(j.states_size(), 4);
  EXPECT_EQ(j.states(0).transitions(1).actions(0).parameters().at("template"), "pickup-1");
  EXPECT_EQ(j.states(3).kind(), v1::State::STATE_KIND_EXIT);
}

TEST(JourneyDefinitionTest, JsonAndBuilderGiveTheSameDefinition) {
  auto json = ParseJourneyJson(R"({
    "name": "reservation", "version": 2,
    "description": "Store reservation: pickup, reminder, expiry",
    "entry": {"trigger": {"kinds": ["EVENT_KIND_ORDER"], "names": ["Reservation Created"]}},
    "states": [
      {"name": "reserved",
       "transitions": [
         {"to": "picked_up", "on": {"names": ["Reservation Picked Up"]}},
         {"to": "reminded", "after": "86400s",
          "actions": [{"name": "remind_pickup", "channel": "preferred", "parameters": {"template": "pickup-1"}}]}],
       "resetTimersOn": [{"names": ["Reservation Extended"]}]},
      {"name": "reminded",
       "transitions": [
         {"to": "picked_up", "on": {"names": ["Reservation Picked Up"]}},
         {"to": "expired", "after": "86400s",
          "guard": {"condition": {"field": "counters.orders", "op": "OP_GE", "values": [0]}}}]},
      {"name": "picked_up", "kind": "STATE_KIND_GOAL"},
      {"name": "expired", "kind": "STATE_KIND_EXIT", "onEnter": [{"name": "release_item"}]}],
    "reentry": {"policy": "REENTRY_AFTER_EXIT", "cooldown": "3600s"},
    "migrations": [{"fromVersion": 1, "stateMap": {"waiting": "reserved"}}]
  })");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*json, Base()));

  const OnEvent picked = OnEvent().Names({"Reservation Picked Up"});
  auto built = JourneyBuilder("reservation", 2)
                   .Description("Store reservation: pickup, reminder, expiry")
                   .Entry(OnEvent().Kinds({v1::EVENT_KIND_ORDER}).Names({"Reservation Created"}))
                   .State("reserved")
                   .On("picked_up", picked)
                   .After("reminded", absl::Hours(24), {MakeAction("remind_pickup", "preferred", {{"template", "pickup-1"}})})
                   .ResetTimersOn(OnEvent().Names({"Reservation Extended"}))
                   .State("reminded")
                   .On("picked_up", picked)
                   .After("expired", absl::Hours(24), {}, Field("counters.orders").Ge(Num(0)))
                   .Goal("picked_up")
                   .Exit("expired", {MakeAction("release_item")})
                   .Reentry(v1::Reentry::REENTRY_AFTER_EXIT, absl::Hours(1))
                   .Migrate(1, {{"waiting", "reserved"}})
                   .Build();
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*built, Base())) << built->DebugString();
}

TEST(JourneyDefinitionTest, SyntaxErrorsHaveLineAndColumn) {
  auto bad = ParseJourneyText("name: \"x\"\nversion: 1\nstates { nme: \"a\" }\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("line 3, column"));
  EXPECT_THAT(std::string(ParseJourneyJson("{\"name\": 5}").status().message()), HasSubstr("journey JSON"));
  EXPECT_THAT(std::string(ParseJourneyJson("{\"nmae\": \"x\"}").status().message()), HasSubstr("journey JSON"));
}

TEST(JourneyDefinitionTest, JourneySetsValidateEachAndRejectDuplicates) {
  const std::string one = std::string("journeys {") + kReservation + "}";
  auto set = ParseJourneySetText(one + " journeys { name: \"other\" version: 1 entry { trigger { names: \"X\" } } "
                                       "states { name: \"done\" kind: STATE_KIND_GOAL } }");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->size(), 2u);
  auto dup = ParseJourneySetText(one + one);
  EXPECT_THAT(std::string(dup.status().message()), HasSubstr("journeys[1]: journey 'reservation' version 2 defined twice"));
  auto bad = ParseJourneySetText(one + " journeys { name: \"broken\" version: 1 }");
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("journeys[1]: journey 'broken': states: at least one state is required"));
}

TEST(JourneyDefinitionTest, BuilderMisuseIsAnError) {
  auto b = JourneyBuilder("x", 1).On("a", OnEvent().Names({"A"})).State("a").Build();
  EXPECT_EQ(b.status().code(), absl::StatusCode::kFailedPrecondition);
}

struct BadCase {
  const char* what;
  std::function<void(JourneyDefinition&)> mutate;
  const char* message;
};

TEST(JourneyDefinitionTest, LoopsThroughAnEventAreAllowed) {
  JourneyDefinition j = Base();
  // reminded -> reserved on an event, reserved -> reminded on a timeout: each lap needs an event.
  j.mutable_states(1)->mutable_transitions(0)->set_to("reserved");
  EXPECT_TRUE(ValidateJourney(j).ok()) << ValidateJourney(j);
}

TEST(JourneyDefinitionTest, EveryValidationRuleNamesThePath) {
  auto st = [](JourneyDefinition& j, int i) { return j.mutable_states(i); };
  auto tr = [](JourneyDefinition& j, int s, int t) { return j.mutable_states(s)->mutable_transitions(t); };
  const std::vector<BadCase> cases = {
      {"bad name", [](auto& j) { j.set_name("Reservation!"); }, "name: required"},
      {"version", [](auto& j) { j.set_version(0); }, "version: must be >= 1"},
      {"no states", [](auto& j) { j.clear_states(); }, "states: at least one state"},
      {"duplicate state", [&](auto& j) { st(j, 1)->set_name("reserved"); }, "states[1].name: duplicate state 'reserved'"},
      {"unknown target", [&](auto& j) { tr(j, 0, 0)->set_to("shipped"); },
       "states[0].transitions[0].to: unknown state 'shipped'"},
      {"unreachable", [&](auto& j) { tr(j, 1, 1)->set_to("picked_up"); },
       "states[3]: state 'expired' is unreachable from the entry state 'reserved'"},
      {"no way out", [&](auto& j) { st(j, 1)->clear_transitions(); }, "states[1]: no way out of state 'reminded'"},
      {"terminal with transitions", [&](auto& j) { *st(j, 2)->add_transitions() = j.states(0).transitions(0); },
       "states[2].transitions: a goal or exit state ends the journey"},
      {"two triggers", [&](auto& j) { tr(j, 0, 0)->mutable_after()->set_seconds(5); },
       "states[0].transitions[0]: exactly one trigger"},
      {"no trigger", [&](auto& j) { tr(j, 0, 0)->clear_on(); }, "states[0].transitions[0]: exactly one trigger"},
      {"timeout to itself", [&](auto& j) { tr(j, 0, 1)->set_to("reserved"); },
       "states[0].transitions[1]: timeouts form a cycle (reserved -> reserved)"},
      {"cycle of timeouts", [&](auto& j) { tr(j, 1, 1)->set_to("reserved"); },
       "states[1].transitions[1]: timeouts form a cycle (reserved -> reminded -> reserved)"},
      {"zero timeout", [&](auto& j) { tr(j, 0, 1)->mutable_after()->set_seconds(0); },
       "states[0].transitions[1].after: must be positive"},
      {"negative timeout", [&](auto& j) { tr(j, 0, 1)->mutable_after()->set_seconds(-5); },
       "states[0].transitions[1].after: must be a non-negative duration"},
      {"bad nanos", [&](auto& j) { tr(j, 0, 1)->mutable_after()->set_nanos(2000000000); },
       "states[0].transitions[1].after: must be a non-negative duration"},
      {"huge timeout", [&](auto& j) { tr(j, 0, 1)->mutable_after()->set_seconds(int64_t{1} << 40); },
       "longer than 10 years"},
      {"no entry", [](auto& j) { j.clear_entry(); }, "entry.trigger: required"},
      {"match-all entry", [](auto& j) { j.mutable_entry()->mutable_trigger()->Clear(); },
       "entry.trigger: matches every event"},
      {"unknown entry state", [](auto& j) { j.mutable_entry()->set_state("nowhere"); },
       "entry.state: unknown state 'nowhere'"},
      {"unspecified kind", [](auto& j) { j.mutable_entry()->mutable_trigger()->add_kinds(v1::EVENT_KIND_UNSPECIFIED); },
       "entry.trigger.kinds[1]: not a valid event kind"},
      {"no op", [&](auto& j) { tr(j, 1, 1)->mutable_guard()->mutable_condition()->set_op(v1::Condition::OP_UNSPECIFIED); },
       "states[1].transitions[1].guard.condition.op: required"},
      {"exists with value", [&](auto& j) { tr(j, 1, 1)->mutable_guard()->mutable_condition()->set_op(v1::Condition::OP_EXISTS); },
       "guard.condition.values: OP_EXISTS takes no values"},
      {"in without values", [&](auto& j) {
         auto* c = tr(j, 1, 1)->mutable_guard()->mutable_condition();
         c->set_op(v1::Condition::OP_IN);
         c->clear_values();
       }, "guard.condition.values: OP_IN needs at least one value"},
      {"unknown profile field", [&](auto& j) { tr(j, 1, 1)->mutable_guard()->mutable_condition()->set_field("counters.visits"); },
       "guard.condition.field: unknown profile field 'counters.visits'"},
      {"event field in guard", [&](auto& j) { tr(j, 1, 1)->mutable_guard()->mutable_condition()->set_field("name"); },
       "unknown profile field 'name'"},
      {"unknown event field", [&](auto& j) {
         auto* c = tr(j, 0, 0)->mutable_on()->mutable_where()->mutable_condition();
         c->set_field("colour");
         c->set_op(v1::Condition::OP_EXISTS);
       }, "states[0].transitions[0].on.where.condition.field: unknown event field 'colour'"},
      {"prefix with a number", [&](auto& j) {
         auto* c = tr(j, 0, 0)->mutable_on()->mutable_where()->mutable_condition();
         c->set_field("properties.sku");
         c->set_op(v1::Condition::OP_PREFIX);
         c->add_values()->set_number_value(4);
       }, "on.where.condition.values[0]: must be a string for OP_PREFIX"},
      {"ordered boolean", [&](auto& j) {
         auto* c = tr(j, 0, 0)->mutable_on()->mutable_where()->mutable_condition();
         c->set_field("properties.vip");
         c->set_op(v1::Condition::OP_LT);
         c->add_values()->set_bool_value(true);
       }, "booleans cannot be ordered"},
      {"empty predicate", [&](auto& j) { tr(j, 0, 0)->mutable_on()->mutable_where()->mutable_all()->add_items(); },
       "on.where.all.items[0]: empty predicate"},
      {"branches and to", [&](auto& j) {
         auto* b = tr(j, 0, 0)->add_branches();
         b->set_to("reminded");
         b->set_weight(1);
       }, "states[0].transitions[0].to: set either `to` or `branches`"},
      {"zero weight", [&](auto& j) {
         tr(j, 0, 0)->clear_to();
         auto* b = tr(j, 0, 0)->add_branches();
         b->set_to("picked_up");
       }, "states[0].transitions[0].branches[0].weight: must be > 0"},
      {"unknown branch", [&](auto& j) {
         tr(j, 0, 0)->clear_to();
         auto* b = tr(j, 0, 0)->add_branches();
         b->set_to("mars");
         b->set_weight(1);
       }, "branches[0].to: unknown state 'mars'"},
      {"action name", [&](auto& j) { tr(j, 0, 1)->mutable_actions(0)->set_name(""); },
       "states[0].transitions[1].actions[0].name: required"},
      {"action channel", [&](auto& j) { tr(j, 0, 1)->mutable_actions(0)->set_channel("pigeon"); },
       "actions[0].channel: 'pigeon' is not a channel name"},
      {"on_enter action", [&](auto& j) { st(j, 3)->mutable_on_enter(0)->set_name("Bad Name"); },
       "states[3].on_enter[0].name: required"},
      {"reset without timeout", [&](auto& j) { *st(j, 1)->add_reset_timers_on() = j.states(0).reset_timers_on(0); tr(j, 1, 1)->clear_after(); tr(j, 1, 1)->mutable_on()->add_names("Gone"); },
       "states[1].reset_timers_on: the state has no timeout"},
      {"cooldown", [](auto& j) { j.mutable_reentry()->mutable_cooldown()->set_seconds(-1); },
       "reentry.cooldown: must be a non-negative duration"},
      {"migration version", [](auto& j) { j.mutable_migrations(0)->set_from_version(2); },
       "migrations[0].from_version: must be between 1 and 1"},
      {"migration target", [](auto& j) { (*j.mutable_migrations(0)->mutable_state_map())["waiting"] = "limbo"; },
       "migrations[0].state_map[waiting]: unknown state 'limbo'"},
  };
  for (const BadCase& c : cases) {
    JourneyDefinition j = Base();
    c.mutate(j);
    const absl::Status s = ValidateJourney(j);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.what;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.message)) << c.what;
  }
}

}  // namespace
}  // namespace omnijourney
