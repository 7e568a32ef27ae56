// Journey definitions: loading (text format, JSON), validation and a C++ builder.
// The schema, with every field documented, is proto/omnijourney/v1/journey.proto.
//
// Example:
//   auto journey = omnijourney::JourneyBuilder("reservation", 1)
//                      .Entry(omnijourney::OnEvent().Names({"Reservation Created"}))
//                      .State("reserved")
//                      .On("picked_up", omnijourney::OnEvent().Names({"Reservation Picked Up"}))
//                      .After("expired", absl::Hours(48), {omnijourney::MakeAction("remind", "preferred")})
//                      .Goal("picked_up")
//                      .Exit("expired")
//                      .Build();   // absl::StatusOr<JourneyDefinition>, validated
#ifndef OMNIJOURNEY_JOURNEY_H_
#define OMNIJOURNEY_JOURNEY_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "omnijourney/v1/journey.pb.h"

namespace omnijourney {

using JourneyDefinition = v1::JourneyDefinition;

// Parses one JourneyDefinition in protobuf text format; errors carry line and column. The result is
// validated (ValidateJourney).
absl::StatusOr<JourneyDefinition> ParseJourneyText(std::string_view text);
// Parses a JourneySet ("journeys { ... } journeys { ... }") in text format, each validated; errors
// name the journey ("journeys[1] (name): ...").
absl::StatusOr<std::vector<JourneyDefinition>> ParseJourneySetText(std::string_view text);
// Parses one JourneyDefinition in protobuf's JSON mapping (field names in lowerCamelCase or as in
// the .proto, enums by name, durations as "3600s"), validated.
absl::StatusOr<JourneyDefinition> ParseJourneyJson(std::string_view json);

// InvalidArgument naming the first problem by its path, e.g.
// "states[1].transitions[0].to: unknown state 'shipped'". Checks: names, version, duplicate states,
// unknown targets, unreachable states, non-terminal states without a way out, terminal states
// with transitions, exactly one trigger per transition, durations, conditions and their operands,
// splits, actions, re-entry and migrations.
absl::Status ValidateJourney(const JourneyDefinition& journey);

// Builds an EventPredicate.
class OnEvent {
 public:
  OnEvent& Kinds(std::initializer_list<v1::EventKind> kinds);
  OnEvent& Names(std::initializer_list<std::string_view> names);
  OnEvent& Channels(std::initializer_list<v1::Channel> channels);
  OnEvent& Directions(std::initializer_list<v1::Direction> directions);
  OnEvent& Where(v1::Predicate predicate);
  const v1::EventPredicate& proto() const { return p_; }

 private:
  v1::EventPredicate p_;
};

// Conditions for Where() and guards: Field("properties.total").Gt(1000).
class Field {
 public:
  explicit Field(std::string path) : path_(std::move(path)) {}
  v1::Predicate Eq(const google::protobuf::Value& v) const { return Make(v1::Condition::OP_EQ, {v}); }
  v1::Predicate Ne(const google::protobuf::Value& v) const { return Make(v1::Condition::OP_NE, {v}); }
  v1::Predicate Lt(const google::protobuf::Value& v) const { return Make(v1::Condition::OP_LT, {v}); }
  v1::Predicate Le(const google::protobuf::Value& v) const { return Make(v1::Condition::OP_LE, {v}); }
  v1::Predicate Gt(const google::protobuf::Value& v) const { return Make(v1::Condition::OP_GT, {v}); }
  v1::Predicate Ge(const google::protobuf::Value& v) const { return Make(v1::Condition::OP_GE, {v}); }
  v1::Predicate In(const std::vector<google::protobuf::Value>& vs) const { return Make(v1::Condition::OP_IN, vs); }
  v1::Predicate Exists() const { return Make(v1::Condition::OP_EXISTS, {}); }
  v1::Predicate Prefix(std::string_view s) const;
  v1::Predicate Contains(std::string_view s) const;

 private:
  v1::Predicate Make(v1::Condition::Op op, const std::vector<google::protobuf::Value>& values) const;
  std::string path_;
};

// Values for conditions.
google::protobuf::Value Str(std::string_view s);
google::protobuf::Value Num(double d);
google::protobuf::Value Bool(bool b);

v1::Predicate AllOf(std::initializer_list<v1::Predicate> items);
v1::Predicate AnyOf(std::initializer_list<v1::Predicate> items);
v1::Predicate Not(v1::Predicate p);

v1::Action MakeAction(std::string_view name, std::string_view channel = "",
                      std::initializer_list<std::pair<std::string_view, std::string_view>> parameters = {});

// Fluent journey construction: State()/Goal()/Exit() open a state; On()/After()/Split() add
// transitions to the state opened last. Build() validates.
class JourneyBuilder {
 public:
  JourneyBuilder(std::string_view name, int version);
  JourneyBuilder& Description(std::string_view text);
  JourneyBuilder& Entry(const OnEvent& trigger, v1::Predicate condition = {}, std::string_view state = "");
  JourneyBuilder& Reentry(v1::Reentry::Policy policy, absl::Duration cooldown = absl::ZeroDuration());
  JourneyBuilder& State(std::string_view name, std::vector<v1::Action> on_enter = {});
  JourneyBuilder& Goal(std::string_view name, std::vector<v1::Action> on_enter = {});
  JourneyBuilder& Exit(std::string_view name, std::vector<v1::Action> on_enter = {});
  JourneyBuilder& On(std::string_view to, const OnEvent& trigger, std::vector<v1::Action> actions = {},
                     v1::Predicate guard = {});
  JourneyBuilder& After(std::string_view to, absl::Duration timeout, std::vector<v1::Action> actions = {},
                        v1::Predicate guard = {});
  // A randomized split on an event: (state, weight) branches.
  JourneyBuilder& Split(const OnEvent& trigger, std::initializer_list<std::pair<std::string_view, uint32_t>> branches);
  JourneyBuilder& ResetTimersOn(const OnEvent& trigger);
  JourneyBuilder& Migrate(int from_version, std::initializer_list<std::pair<std::string_view, std::string_view>> map);
  absl::StatusOr<JourneyDefinition> Build() const;

 private:
  v1::State* Current();
  // A transition on the current state with its target, actions and guard; null after misuse.
  v1::Transition* AddTransition(std::string_view to, std::vector<v1::Action> actions, v1::Predicate guard);
  JourneyDefinition def_;
  std::string error_;  // First misuse (a transition before any state).
};

}  // namespace omnijourney

#endif  // OMNIJOURNEY_JOURNEY_H_
