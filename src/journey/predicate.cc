#include "journey/predicate.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "timeline/contact_facts.h"
#include "omnijourney/event.h"

namespace omnijourney::internal {
namespace {

bool AsNumber(std::string_view s, double* out) { return absl::SimpleAtod(ToAbsl(s), out); }

// -1, 0, 1, or nullopt when the two cannot be compared (a number against a non-number).
std::optional<int> Compare(const std::string& field, const google::protobuf::Value& v) {
  if (v.has_number_value()) {
    double d;
    if (!AsNumber(field, &d)) return std::nullopt;
    return d < v.number_value() ? -1 : d > v.number_value() ? 1 : 0;
  }
  const std::string other = v.has_bool_value() ? (v.bool_value() ? "true" : "false") : v.string_value();
  const int c = field.compare(other);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

bool EvalCondition(const v1::Condition& c, const FieldSource& fields) {
  const std::optional<std::string> value = fields.Get(c.field());
  using C = v1::Condition;
  if (c.op() == C::OP_EXISTS) return value.has_value();
  if (c.op() == C::OP_NE) {
    if (!value) return true;
    const auto cmp = Compare(*value, c.values(0));
    return !cmp || *cmp != 0;
  }
  if (!value) return false;
  switch (c.op()) {
    case C::OP_EQ: {
      const auto cmp = Compare(*value, c.values(0));
      return cmp && *cmp == 0;
    }
    case C::OP_LT: case C::OP_LE: case C::OP_GT: case C::OP_GE: {
      const auto cmp = Compare(*value, c.values(0));
      if (!cmp) return false;
      switch (c.op()) {
        case C::OP_LT: return *cmp < 0;
        case C::OP_LE: return *cmp <= 0;
        case C::OP_GT: return *cmp > 0;
        default: return *cmp >= 0;
      }
    }
    case C::OP_IN:
      return std::any_of(c.values().begin(), c.values().end(), [&](const google::protobuf::Value& v) {
        const auto cmp = Compare(*value, v);
        return cmp && *cmp == 0;
      });
    case C::OP_PREFIX: return std::string_view(*value).substr(0, c.values(0).string_value().size()) == c.values(0).string_value();
    case C::OP_CONTAINS: return value->find(c.values(0).string_value()) != std::string::npos;
    default: return false;
  }
}

}  // namespace

std::optional<std::string> EntryFields::Get(std::string_view field) const {
  auto nonempty = [](std::string_view s) -> std::optional<std::string> {
    if (s.empty()) return std::nullopt;
    return std::string(s);
  };
  auto found = [](std::optional<std::string_view> s) -> std::optional<std::string> {
    if (!s) return std::nullopt;
    return std::string(*s);
  };
  if (field == "kind") return std::string(KindName(e_.kind()));
  if (field == "name") return nonempty(e_.name());
  if (field == "channel") return std::string(ChannelName(e_.channel()));
  if (field == "direction") return std::string(DirectionName(e_.direction()));
  if (field == "source") return nonempty(e_.source());
  if (field == "provider") return nonempty(e_.provider());
  if (field == "agent_id") return nonempty(e_.agent_id());
  if (field == "conversation_id") return nonempty(e_.conversation_id());
  if (field == "session_id") return nonempty(e_.session_id());
  if (field == "text") return nonempty(e_.text());
  if (field == "value.units") return nonempty(e_.value_units());
  if (field == "value.currency") return nonempty(e_.currency());
  if (field.substr(0, 11) == "properties.") return found(e_.flat_properties().Find(field.substr(11)));
  if (field.substr(0, 7) == "traits.") {
    const std::optional<std::string_view> trait = e_.traits().Find(field.substr(7));
    if (!trait || *trait == kClearedTrait) return std::nullopt;  // Set to null: absent.
    return found(ReadStoredTrait(*trait).second);
  }
  return std::nullopt;
}

void ProfileFacts::Observe(const StoredEntry& e) {
  const absl::Time t = e.time();
  if (t > now_) now_ = t;
  traits_.Observe(e);
  if (e.kind() == v1::EVENT_KIND_ORDER) {
    const std::string_view id = e.Property("order_id");
    if (id.empty() || order_ids_.insert(std::string(id)).second) order_times_.push_back(t);
  }
  if (IsInboundContact(e.direction(), e.kind())) {
    std::pair<std::string, std::string> key = e.conversation_id().empty()
                                                  ? std::make_pair(std::string(e.source()), std::string(e.event_id()))
                                                  : std::make_pair(std::string(), std::string(e.conversation_id()));
    if (contact_keys_.insert(std::move(key)).second) contact_starts_.push_back(t);
  }
}

std::optional<std::string> ProfileFacts::Get(std::string_view field) const {
  if (field.substr(0, 7) == "traits.") {
    auto it = traits_.traits().find(field.substr(7));
    if (it == traits_.traits().end()) return std::nullopt;
    return it->second.value;
  }
  if (field.substr(0, 9) != "counters.") return std::nullopt;
  const ContactCounters k = CountContacts(order_times_, contact_starts_, now_);
  const std::string_view name = field.substr(9);
  if (name == "orders") return absl::StrCat(k.orders);
  if (name == "orders_30d") return absl::StrCat(k.orders_30d);
  if (name == "contacts_7d") return absl::StrCat(k.contacts_7d);
  if (name == "contacts_30d") return absl::StrCat(k.contacts_30d);
  if (name == "repeat_contacts_24h_30d") return absl::StrCat(k.repeat_contacts_24h_30d);
  return std::nullopt;
}

bool Eval(const v1::Predicate& p, const FieldSource& fields) {
  switch (p.expr_case()) {
    case v1::Predicate::kCondition: return EvalCondition(p.condition(), fields);
    case v1::Predicate::kAll:
      return std::all_of(p.all().items().begin(), p.all().items().end(),
                         [&](const v1::Predicate& i) { return Eval(i, fields); });
    case v1::Predicate::kAny:
      return std::any_of(p.any().items().begin(), p.any().items().end(),
                         [&](const v1::Predicate& i) { return Eval(i, fields); });
    case v1::Predicate::kNot: return !Eval(p.not_(), fields);
    default: return true;  // Unset: no constraint.
  }
}

bool Matches(const v1::EventPredicate& p, const StoredEntry& e) {
  if (p.kinds_size() > 0 && std::find(p.kinds().begin(), p.kinds().end(), e.kind()) == p.kinds().end()) return false;
  if (p.names_size() > 0 && std::find(p.names().begin(), p.names().end(), e.name()) == p.names().end()) return false;
  if (p.channels_size() > 0 && std::find(p.channels().begin(), p.channels().end(), e.channel()) == p.channels().end()) {
    return false;
  }
  if (p.directions_size() > 0 &&
      std::find(p.directions().begin(), p.directions().end(), e.direction()) == p.directions().end()) {
    return false;
  }
  return !p.has_where() || Eval(p.where(), EntryFields(e));
}

void ProfileFacts::Save(SerialWriter& w) const {
  traits_.Save(w);
  w.Time(now_);
  w.Varint(order_ids_.size());
  for (const auto& id : order_ids_) w.Bytes(id);
  w.Varint(order_times_.size());
  for (absl::Time t : order_times_) w.Time(t);
  w.Varint(contact_keys_.size());
  for (const auto& [a, b] : contact_keys_) {
    w.Bytes(a);
    w.Bytes(b);
  }
  w.Varint(contact_starts_.size());
  for (absl::Time t : contact_starts_) w.Time(t);
}

bool ProfileFacts::Restore(SerialReader& r) {
  if (!traits_.Restore(r)) return false;
  now_ = r.Time();
  const size_t ids = r.Count(1);
  for (size_t i = 0; i < ids && r.ok(); ++i) order_ids_.insert(std::string(r.Bytes()));
  const size_t orders = r.Count(8);
  for (size_t i = 0; i < orders && r.ok(); ++i) order_times_.push_back(r.Time());
  const size_t keys = r.Count(2);
  for (size_t i = 0; i < keys && r.ok(); ++i) {
    std::string a(r.Bytes());
    contact_keys_.emplace(std::move(a), std::string(r.Bytes()));
  }
  const size_t starts = r.Count(8);
  for (size_t i = 0; i < starts && r.ok(); ++i) contact_starts_.push_back(r.Time());
  return r.ok();
}

}  // namespace omnijourney::internal
