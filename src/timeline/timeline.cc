#include "timeline/timeline.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "omnijourney/v1/store.pb.h"

namespace omnijourney {

std::string_view TimelineEntry::Property(std::string_view key) const {
  for (const auto& [k, v] : properties) {
    if (k == key) return v;
  }
  return {};
}

namespace internal {
namespace {

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string CutUtf8(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

std::string FormatMoney(const v1::Money& m) {
  // units + nanos/1e9 with two decimals (rounded half away from zero), then the currency.
  const bool negative = m.units() < 0 || m.nanos() < 0;
  const int64_t units = std::abs(m.units());
  const int64_t cents = (std::abs(static_cast<int64_t>(m.nanos())) + 5'000'000) / 10'000'000;
  return absl::StrFormat("%s%d.%02d %s", negative ? "-" : "", units + cents / 100, cents % 100, m.currency());
}

}  // namespace

std::string DisplayValue(const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue: return value.string_value();
    case google::protobuf::Value::kBoolValue: return value.bool_value() ? "true" : "false";
    case google::protobuf::Value::kNullValue: return "null";
    case google::protobuf::Value::kNumberValue: {
      const double d = value.number_value();
      if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 1e15) {
        return absl::StrCat(static_cast<int64_t>(d));
      }
      return absl::StrCat(d);
    }
    default: {
      std::string out;
      if (!google::protobuf::util::MessageToJsonString(value, &out).ok()) return "";
      return out;
    }
  }
}

StoredEntry MakeEntry(const Event& event, const TimelineOptions& options) {
  StoredEntry e;
  TimelineEntry& v = e.view;
  v.time = FromTimestamp(event.occurred_at());
  v.source = event.source();
  v.event_id = event.event_id();
  v.kind = event.kind();
  v.name = event.name();
  v.channel = event.channel();
  v.direction = event.direction();
  v.provider = event.provider();
  v.agent_id = event.agent_id();
  v.conversation_id = event.conversation_id();
  v.text = CutUtf8(event.text(), options.max_text_bytes);
  if (event.has_value() && !event.value().currency().empty()) v.value = FormatMoney(event.value());
  const auto& fields = event.properties().fields();
  for (const std::string& key : options.key_properties) {
    auto it = fields.find(key);
    if (it != fields.end()) {
      v.properties.emplace_back(key, DisplayValue(it->second));
    } else if (key == "path" && !event.context().page().path().empty()) {
      v.properties.emplace_back(key, event.context().page().path());
    }
  }
  e.identifiers.reserve(event.identifiers_size() + 1);
  for (const auto& id : event.identifiers()) e.identifiers.push_back({id.type(), id.value()});
  if (event.has_previous_id()) e.identifiers.push_back({event.previous_id().type(), event.previous_id().value()});
  for (const auto& [key, value] : event.traits().fields()) e.traits.emplace_back(key, DisplayValue(value));
  std::sort(e.traits.begin(), e.traits.end());  // Map iteration order is unspecified.
  for (const auto& [key, value] : fields) FlattenValue(key, value, &e.flat_properties, StoredEntry::kMaxFlatProperties);
  std::sort(e.flat_properties.begin(), e.flat_properties.end());
  e.session_id = event.session_id();
  if (event.has_value() && !event.value().currency().empty()) {
    e.value_units = absl::StrCat(static_cast<double>(event.value().units()) + event.value().nanos() / 1e9);
    e.currency = event.value().currency();
  }
  return e;
}

void FlattenValue(const std::string& path, const google::protobuf::Value& value,
                  std::vector<std::pair<std::string, std::string>>* out, size_t max) {
  if (out->size() >= max) return;
  if (value.has_struct_value()) {
    for (const auto& [key, inner] : value.struct_value().fields()) FlattenValue(path + "." + key, inner, out, max);
    return;
  }
  out->emplace_back(path, DisplayValue(value));
}

void ProfileTimeline::Insert(StoredEntry entry, const TimelineOptions& options, absl::Time now) {
  if (entries_.empty() || entries_.back().Key() < entry.Key()) {
    entries_.push_back(std::move(entry));
  } else {
    auto at = std::upper_bound(entries_.begin(), entries_.end(), entry,
                               [](const StoredEntry& a, const StoredEntry& b) { return a.Key() < b.Key(); });
    entries_.insert(at, std::move(entry));
  }
  Retain(options, now);
}

void ProfileTimeline::Absorb(ProfileTimeline&& other, const TimelineOptions& options, absl::Time now) {
  const size_t middle = entries_.size();
  for (StoredEntry& e : other.entries_) entries_.push_back(std::move(e));
  other.entries_.clear();
  std::inplace_merge(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(middle), entries_.end(),
                     [](const StoredEntry& a, const StoredEntry& b) { return a.Key() < b.Key(); });
  Retain(options, now);
}

std::vector<StoredEntry> ProfileTimeline::TakeAll() {
  std::vector<StoredEntry> out = std::move(entries_);
  entries_.clear();
  return out;
}

void ProfileTimeline::Retain(const TimelineOptions& options, absl::Time now) {
  size_t drop = entries_.size() > options.max_entries ? entries_.size() - options.max_entries : 0;
  const absl::Time oldest = now - options.max_age;
  while (drop < entries_.size() && entries_[drop].view.time < oldest) ++drop;
  if (drop > 0) entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
}

std::string ProfileTimeline::Encode() const {
  v1::StoredTimeline out;
  out.set_tenant(tenant_);
  auto pairs = [](const std::vector<std::pair<std::string, std::string>>& from,
                  google::protobuf::RepeatedPtrField<v1::StoredPair>* to) {
    to->Reserve(static_cast<int>(from.size()));
    for (const auto& [k, v] : from) {
      v1::StoredPair* p = to->Add();
      p->set_key(k);
      p->set_value(v);
    }
  };
  out.mutable_entries()->Reserve(static_cast<int>(entries_.size()));
  for (const StoredEntry& e : entries_) {
    v1::StoredTimelineEntry* s = out.add_entries();
    const TimelineEntry& v = e.view;
    *s->mutable_time() = ToTimestamp(v.time);
    s->set_source(v.source);
    s->set_event_id(v.event_id);
    s->set_kind(v.kind);
    s->set_name(v.name);
    s->set_channel(v.channel);
    s->set_direction(v.direction);
    s->set_provider(v.provider);
    s->set_agent_id(v.agent_id);
    s->set_conversation_id(v.conversation_id);
    s->set_text(v.text);
    s->set_value(v.value);
    pairs(v.properties, s->mutable_properties());
    for (const IdentifierValue& id : e.identifiers) {
      v1::Identifier* i = s->add_identifiers();
      i->set_type(id.type);
      i->set_value(id.value);
    }
    pairs(e.traits, s->mutable_traits());
    pairs(e.flat_properties, s->mutable_flat_properties());
    s->set_session_id(e.session_id);
    s->set_value_units(e.value_units);
    s->set_currency(e.currency);
  }
  return out.SerializeAsString();
}

absl::StatusOr<ProfileTimeline> ProfileTimeline::Decode(std::string_view bytes) {
  v1::StoredTimeline in;
  if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("stored profile timeline: unreadable");
  }
  auto pairs = [](google::protobuf::RepeatedPtrField<v1::StoredPair>* from,
                  std::vector<std::pair<std::string, std::string>>* to) {
    to->reserve(static_cast<size_t>(from->size()));
    for (v1::StoredPair& p : *from) to->emplace_back(std::move(*p.mutable_key()), std::move(*p.mutable_value()));
  };
  ProfileTimeline out(std::move(*in.mutable_tenant()));
  out.entries_.reserve(static_cast<size_t>(in.entries_size()));
  for (v1::StoredTimelineEntry& s : *in.mutable_entries()) {
    StoredEntry e;
    TimelineEntry& v = e.view;
    v.time = FromTimestamp(s.time());
    v.source = std::move(*s.mutable_source());
    v.event_id = std::move(*s.mutable_event_id());
    v.kind = s.kind();
    v.name = std::move(*s.mutable_name());
    v.channel = s.channel();
    v.direction = s.direction();
    v.provider = std::move(*s.mutable_provider());
    v.agent_id = std::move(*s.mutable_agent_id());
    v.conversation_id = std::move(*s.mutable_conversation_id());
    v.text = std::move(*s.mutable_text());
    v.value = std::move(*s.mutable_value());
    pairs(s.mutable_properties(), &v.properties);
    e.identifiers.reserve(static_cast<size_t>(s.identifiers_size()));
    for (v1::Identifier& id : *s.mutable_identifiers()) {
      e.identifiers.push_back({std::move(*id.mutable_type()), std::move(*id.mutable_value())});
    }
    pairs(s.mutable_traits(), &e.traits);
    pairs(s.mutable_flat_properties(), &e.flat_properties);
    e.session_id = std::move(*s.mutable_session_id());
    e.value_units = std::move(*s.mutable_value_units());
    e.currency = std::move(*s.mutable_currency());
    out.entries_.push_back(std::move(e));
  }
  return out;
}

void TraitReconciler::Observe(const StoredEntry& e) {
  if (e.traits.empty()) return;
  size_t rank = 0;
  if (priority_ != nullptr) {
    rank = static_cast<size_t>(std::find(priority_->begin(), priority_->end(), e.view.source) - priority_->begin());
  }
  for (const auto& [key, value] : e.traits) {
    auto it = ranks_.find(key);
    if (it == ranks_.end() || rank <= it->second) {
      ranks_[key] = rank;
      traits_[key] = {value, e.view.source, e.view.time};
    }
  }
}

std::map<std::string, TraitValue> ProfileTimeline::Traits(const std::vector<std::string>& source_priority) const {
  TraitReconciler reconciler(&source_priority);
  for (const StoredEntry& e : entries_) reconciler.Observe(e);
  return {reconciler.traits().begin(), reconciler.traits().end()};
}

}  // namespace internal
}  // namespace omnijourney
