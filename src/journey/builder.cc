// JourneyBuilder and the predicate helpers of include/omnijourney/journey.h.
#include "absl/strings/str_cat.h"
#include "omnijourney/journey.h"

namespace omnijourney {
namespace {

google::protobuf::Duration ToDuration(absl::Duration d) {
  google::protobuf::Duration out;
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  out.set_seconds(nanos / 1'000'000'000);
  out.set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  return out;
}

}  // namespace

google::protobuf::Value Str(std::string_view s) {
  google::protobuf::Value v;
  v.set_string_value(std::string(s));
  return v;
}
google::protobuf::Value Num(double d) {
  google::protobuf::Value v;
  v.set_number_value(d);
  return v;
}
google::protobuf::Value Bool(bool b) {
  google::protobuf::Value v;
  v.set_bool_value(b);
  return v;
}

OnEvent& OnEvent::Kinds(std::initializer_list<v1::EventKind> kinds) {
  for (auto k : kinds) p_.add_kinds(k);
  return *this;
}
OnEvent& OnEvent::Names(std::initializer_list<std::string_view> names) {
  for (auto n : names) p_.add_names(std::string(n));
  return *this;
}
OnEvent& OnEvent::Channels(std::initializer_list<v1::Channel> channels) {
  for (auto c : channels) p_.add_channels(c);
  return *this;
}
OnEvent& OnEvent::Directions(std::initializer_list<v1::Direction> directions) {
  for (auto d : directions) p_.add_directions(d);
  return *this;
}
OnEvent& OnEvent::Where(v1::Predicate predicate) {
  *p_.mutable_where() = std::move(predicate);
  return *this;
}

v1::Predicate Field::Make(v1::Condition::Op op, const std::vector<google::protobuf::Value>& values) const {
  v1::Predicate p;
  auto* c = p.mutable_condition();
  c->set_field(path_);
  c->set_op(op);
  for (const auto& v : values) *c->add_values() = v;
  return p;
}
v1::Predicate Field::Prefix(std::string_view s) const { return Make(v1::Condition::OP_PREFIX, {Str(s)}); }
v1::Predicate Field::Contains(std::string_view s) const { return Make(v1::Condition::OP_CONTAINS, {Str(s)}); }

v1::Predicate AllOf(std::initializer_list<v1::Predicate> items) {
  v1::Predicate p;
  for (const auto& i : items) *p.mutable_all()->add_items() = i;
  if (items.size() == 0) p.mutable_all();
  return p;
}
v1::Predicate AnyOf(std::initializer_list<v1::Predicate> items) {
  v1::Predicate p;
  for (const auto& i : items) *p.mutable_any()->add_items() = i;
  if (items.size() == 0) p.mutable_any();
  return p;
}
v1::Predicate Not(v1::Predicate inner) {
  v1::Predicate p;
  *p.mutable_not_() = std::move(inner);
  return p;
}

v1::Action MakeAction(std::string_view name, std::string_view channel,
                      std::initializer_list<std::pair<std::string_view, std::string_view>> parameters) {
  v1::Action a;
  a.set_name(std::string(name));
  a.set_channel(std::string(channel));
  for (const auto& [k, v] : parameters) (*a.mutable_parameters())[std::string(k)] = std::string(v);
  return a;
}

JourneyBuilder::JourneyBuilder(std::string_view name, int version) {
  def_.set_name(std::string(name));
  def_.set_version(version);
}

JourneyBuilder& JourneyBuilder::Description(std::string_view text) {
  def_.set_description(std::string(text));
  return *this;
}

JourneyBuilder& JourneyBuilder::Entry(const OnEvent& trigger, v1::Predicate condition, std::string_view state) {
  auto* e = def_.mutable_entry();
  *e->mutable_trigger() = trigger.proto();
  if (condition.expr_case() != v1::Predicate::EXPR_NOT_SET) *e->mutable_condition() = std::move(condition);
  e->set_state(std::string(state));
  return *this;
}

JourneyBuilder& JourneyBuilder::Reentry(v1::Reentry::Policy policy, absl::Duration cooldown) {
  def_.mutable_reentry()->set_policy(policy);
  if (cooldown > absl::ZeroDuration()) *def_.mutable_reentry()->mutable_cooldown() = ToDuration(cooldown);
  return *this;
}

JourneyBuilder& JourneyBuilder::State(std::string_view name, std::vector<v1::Action> on_enter) {
  auto* s = def_.add_states();
  s->set_name(std::string(name));
  for (auto& a : on_enter) *s->add_on_enter() = std::move(a);
  return *this;
}

JourneyBuilder& JourneyBuilder::Goal(std::string_view name, std::vector<v1::Action> on_enter) {
  State(name, std::move(on_enter));
  Current()->set_kind(v1::State::STATE_KIND_GOAL);
  return *this;
}

JourneyBuilder& JourneyBuilder::Exit(std::string_view name, std::vector<v1::Action> on_enter) {
  State(name, std::move(on_enter));
  Current()->set_kind(v1::State::STATE_KIND_EXIT);
  return *this;
}

v1::State* JourneyBuilder::Current() {
  if (def_.states_size() == 0) {
    if (error_.empty()) error_ = "JourneyBuilder: a transition was added before any State()";
    return nullptr;
  }
  return def_.mutable_states(def_.states_size() - 1);
}

v1::Transition* JourneyBuilder::AddTransition(std::string_view to, std::vector<v1::Action> actions,
                                             v1::Predicate guard) {
  v1::State* s = Current();
  if (s == nullptr) return nullptr;
  auto* t = s->add_transitions();
  t->set_to(std::string(to));
  for (auto& a : actions) *t->add_actions() = std::move(a);
  if (guard.expr_case() != v1::Predicate::EXPR_NOT_SET) *t->mutable_guard() = std::move(guard);
  return t;
}

JourneyBuilder& JourneyBuilder::On(std::string_view to, const OnEvent& trigger, std::vector<v1::Action> actions,
                                   v1::Predicate guard) {
  if (v1::Transition* t = AddTransition(to, std::move(actions), std::move(guard))) *t->mutable_on() = trigger.proto();
  return *this;
}

JourneyBuilder& JourneyBuilder::After(std::string_view to, absl::Duration timeout, std::vector<v1::Action> actions,
                                      v1::Predicate guard) {
  if (v1::Transition* t = AddTransition(to, std::move(actions), std::move(guard))) {
    *t->mutable_after() = ToDuration(timeout);
  }
  return *this;
}

JourneyBuilder& JourneyBuilder::Split(const OnEvent& trigger,
                                      std::initializer_list<std::pair<std::string_view, uint32_t>> branches) {
  v1::State* s = Current();
  if (s == nullptr) return *this;
  auto* t = s->add_transitions();
  *t->mutable_on() = trigger.proto();
  for (const auto& [to, weight] : branches) {
    auto* b = t->add_branches();
    b->set_to(std::string(to));
    b->set_weight(weight);
  }
  return *this;
}

JourneyBuilder& JourneyBuilder::ResetTimersOn(const OnEvent& trigger) {
  if (v1::State* s = Current()) *s->add_reset_timers_on() = trigger.proto();
  return *this;
}

JourneyBuilder& JourneyBuilder::Migrate(int from_version,
                                        std::initializer_list<std::pair<std::string_view, std::string_view>> map) {
  auto* m = def_.add_migrations();
  m->set_from_version(from_version);
  for (const auto& [from, to] : map) (*m->mutable_state_map())[std::string(from)] = std::string(to);
  return *this;
}

absl::StatusOr<JourneyDefinition> JourneyBuilder::Build() const {
  if (!error_.empty()) return absl::FailedPreconditionError(error_);
  if (absl::Status s = ValidateJourney(def_); !s.ok()) return s;
  return def_;
}

}  // namespace omnijourney
