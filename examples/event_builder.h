// A fluent builder of interaction events for examples and tests.
//
// Example:
//   Event e = Ev("c1", 30, v1::EVENT_KIND_CALL, "Call Started").Id("phone", "+420 601 123 456")
//                 .In(v1::CHANNEL_VOICE).Conv("call-1").Agent("agent:jana");
#ifndef OMNIJOURNEY_EXAMPLES_EVENT_BUILDER_H_
#define OMNIJOURNEY_EXAMPLES_EVENT_BUILDER_H_

#include <string>

#include "absl/time/civil_time.h"
#include "omnijourney/event.h"

namespace omnijourney::examples {

// 2026-11-02 09:00 UTC plus `minutes`.
inline absl::Time At(int64_t minutes) {
  return absl::FromCivil(absl::CivilMinute(2026, 11, 2, 9, 0), absl::UTCTimeZone()) + absl::Minutes(minutes);
}

class Ev {
 public:
  Ev(std::string id, int64_t minute, v1::EventKind kind, std::string name) {
    e_.set_event_id(std::move(id));
    e_.set_source("test");
    e_.set_kind(kind);
    e_.set_name(std::move(name));
    *e_.mutable_occurred_at() = ToTimestamp(At(minute));
  }
  Ev& Id(const std::string& type, const std::string& value) {
    auto* i = e_.add_identifiers();
    i->set_type(type);
    i->set_value(value);
    return *this;
  }
  Ev& On(v1::Channel c, v1::Direction d = v1::DIRECTION_UNSPECIFIED) {
    e_.set_channel(c);
    e_.set_direction(d);
    return *this;
  }
  Ev& In(v1::Channel c) { return On(c, v1::DIRECTION_INBOUND); }
  Ev& Out(v1::Channel c) { return On(c, v1::DIRECTION_OUTBOUND); }
  Ev& Conv(const std::string& id) {
    e_.set_conversation_id(id);
    return *this;
  }
  Ev& Agent(const std::string& a) {
    e_.set_agent_id(a);
    return *this;
  }
  Ev& Text(const std::string& t) {
    e_.set_text(t);
    return *this;
  }
  Ev& Prop(const std::string& k, const std::string& v) {
    (*e_.mutable_properties()->mutable_fields())[k].set_string_value(v);
    return *this;
  }
  Ev& Trait(const std::string& k, const std::string& v) {
    (*e_.mutable_traits()->mutable_fields())[k].set_string_value(v);
    return *this;
  }
  // A trait set to null: clears it.
  Ev& NullTrait(const std::string& k) {
    (*e_.mutable_traits()->mutable_fields())[k].set_null_value(google::protobuf::NULL_VALUE);
    return *this;
  }
  Ev& Source(const std::string& s) {
    e_.set_source(s);
    return *this;
  }
  Ev& Tenant(const std::string& t) {
    e_.set_tenant(t);
    return *this;
  }
  Ev& Value(int64_t units, const std::string& currency) {
    e_.mutable_value()->set_units(units);
    e_.mutable_value()->set_currency(currency);
    return *this;
  }
  operator const Event&() const { return e_; }  // NOLINT: builder.
  const Event& event() const { return e_; }

 private:
  Event e_;
};

}  // namespace omnijourney::examples

#endif  // OMNIJOURNEY_EXAMPLES_EVENT_BUILDER_H_
