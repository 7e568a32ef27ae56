#include "engine/outbox.h"

#include "absl/strings/str_cat.h"
#include "omnijourney/event.h"

namespace omnijourney::internal {

absl::TimeZone Outbox::ZoneOf(const CustomerContext* ctx) const {
  absl::TimeZone tz = default_zone_;
  if (ctx != nullptr) {
    if (auto it = ctx->traits.find("timezone"); it != ctx->traits.end()) {
      absl::TimeZone own;
      if (absl::LoadTimeZone(it->second.value, &own)) tz = own;
    }
  }
  return tz;
}

void Outbox::Queue(JourneyAction action) {
  const uint64_t seq = next_seq_++;
  pending_seq_[action.id] = seq;
  pending_.emplace(seq, std::move(action));
}

bool Outbox::WithinCap(const JourneyAction& action, absl::TimeZone tz) {
  const absl::CivilDay day = absl::ToCivilDay(action.handed_out, tz);
  int& sent = sent_per_day_[{action.profile, action.channel, absl::FormatCivilTime(day)}];
  if (sent >= options_.max_per_channel_per_day) return false;
  ++sent;
  return true;
}

void Outbox::Release(JourneyAction action, const CustomerContext* ctx) {
  released_[action.id] = Released{action.time, action.profile};
  if (action.channel.empty() || !PolicyActive()) {
    Queue(std::move(action));
    return;
  }
  const absl::TimeZone tz = ZoneOf(ctx);
  const absl::Time at = action.handed_out;
  const absl::CivilHour hour = absl::ToCivilHour(at, tz);
  const int h = hour.hour();
  const int start = options_.quiet_start_hour, end = options_.quiet_end_hour;
  const bool quiet = start != end && (start < end ? (h >= start && h < end) : (h >= start || h < end));
  if (quiet) {
    const std::string why = absl::StrCat("quiet hours ", start, ":00-", end, ":00 ", tz.name());
    if (options_.quiet_policy == ActionOptions::QuietPolicy::kSuppress) {
      action.disposition = JourneyAction::Disposition::kSuppressed;
      action.disposition_reason = why;
      Queue(std::move(action));
      return;
    }
    // The next local end hour after `at`.
    absl::CivilDay day = absl::CivilDay(hour);
    if (h >= end) day += 1;
    action.handed_out = absl::FromCivil(absl::CivilHour(day.year(), day.month(), day.day(), end), tz);
    action.disposition = JourneyAction::Disposition::kDeferred;
    action.disposition_reason = absl::StrCat(why, ": deferred from ", FormatRfc3339(at));
    const absl::Time out = action.handed_out;
    deferred_.emplace(std::make_pair(out, next_seq_++), std::move(action));
    return;
  }
  if (options_.max_per_channel_per_day > 0 && !WithinCap(action, tz)) {
    action.disposition = JourneyAction::Disposition::kSuppressed;
    action.disposition_reason =
        absl::StrCat("frequency cap ", options_.max_per_channel_per_day, " per day on ", action.channel,
                     " reached on ", absl::FormatCivilTime(absl::ToCivilDay(at, tz)));
  }
  Queue(std::move(action));
}

void Outbox::ReleaseDeferred(absl::Time limit, const std::function<absl::TimeZone(ProfileId)>& zone_of) {
  while (!deferred_.empty() && deferred_.begin()->first.first <= limit) {
    auto node = deferred_.extract(deferred_.begin());
    JourneyAction action = std::move(node.mapped());
    if (options_.max_per_channel_per_day > 0 && !WithinCap(action, zone_of(action.profile))) {
      action.disposition = JourneyAction::Disposition::kSuppressed;
      action.disposition_reason = absl::StrCat(action.disposition_reason, "; then frequency cap ",
                                               options_.max_per_channel_per_day, " per day on ", action.channel);
    }
    Queue(std::move(action));
  }
}

std::optional<absl::Time> Outbox::NextDeferred() const {
  if (deferred_.empty()) return std::nullopt;
  return deferred_.begin()->first.first;
}

std::vector<JourneyAction> Outbox::Take(absl::Time wall_now, absl::Duration redeliver_after) {
  std::vector<JourneyAction> out;
  for (const auto& [seq, action] : pending_) {
    auto [it, fresh] = handed_.try_emplace(seq, wall_now);
    if (!fresh) {
      if (redeliver_after <= absl::ZeroDuration() || wall_now - it->second < redeliver_after) continue;
      it->second = wall_now;
    }
    out.push_back(action);
  }
  return out;
}

absl::Status Outbox::CheckAck(const std::vector<std::string>& ids) const {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!pending_seq_.contains(ids[i]) && !released_.contains(ids[i])) {
      return absl::NotFoundError(absl::StrCat("ids[", i, "]: no action '", ids[i], "' was handed out"));
    }
  }
  return absl::OkStatus();
}

void Outbox::Ack(const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    auto it = pending_seq_.find(id);
    if (it == pending_seq_.end()) continue;
    pending_.erase(it->second);
    handed_.erase(it->second);
    pending_seq_.erase(it);
  }
}

namespace {

void SaveAction(const JourneyAction& a, SerialWriter& w) {
  w.Bytes(a.id);
  w.Bytes(a.tenant);
  w.U64(a.profile);
  w.Bytes(a.journey);
  w.I64(a.version);
  w.Bytes(a.transition);
  w.Bytes(a.from_state);
  w.Bytes(a.to_state);
  w.Bytes(a.name);
  w.Bytes(a.channel);
  w.Varint(a.parameters.size());
  for (const auto& [k, v] : a.parameters) {
    w.Bytes(k);
    w.Bytes(v);
  }
  w.Time(a.time);
  w.Bytes(a.cause);
  w.U8(static_cast<uint8_t>(a.disposition));
  w.Bytes(a.disposition_reason);
  w.Time(a.handed_out);
}

JourneyAction RestoreAction(SerialReader& r) {
  JourneyAction a;
  a.id = std::string(r.Bytes());
  a.tenant = std::string(r.Bytes());
  a.profile = r.U64();
  a.journey = std::string(r.Bytes());
  a.version = static_cast<int>(r.I64());
  a.transition = std::string(r.Bytes());
  a.from_state = std::string(r.Bytes());
  a.to_state = std::string(r.Bytes());
  a.name = std::string(r.Bytes());
  a.channel = std::string(r.Bytes());
  const size_t n = r.Count(2);
  for (size_t i = 0; i < n; ++i) {
    std::string k(r.Bytes());
    a.parameters[std::move(k)] = std::string(r.Bytes());
  }
  a.time = r.Time();
  a.cause = std::string(r.Bytes());
  const uint8_t d = r.U8();
  if (d > static_cast<uint8_t>(JourneyAction::Disposition::kSuppressed)) r.Fail();
  a.disposition = static_cast<JourneyAction::Disposition>(d);
  a.disposition_reason = std::string(r.Bytes());
  a.handed_out = r.Time();
  return a;
}

}  // namespace

void Outbox::Save(SerialWriter& w) const {
  w.Varint(released_.size());
  for (const auto& [id, r] : released_) {
    w.Bytes(id);
    w.Time(r.time);
    w.U64(r.profile);
  }
  w.Varint(pending_.size());
  for (const auto& [seq, action] : pending_) {
    w.U64(seq);
    SaveAction(action, w);
  }
  w.Varint(deferred_.size());
  for (const auto& [key, action] : deferred_) {
    w.Time(key.first);
    w.U64(key.second);
    SaveAction(action, w);
  }
  w.Varint(sent_per_day_.size());
  for (const auto& [key, count] : sent_per_day_) {
    w.U64(std::get<0>(key));
    w.Bytes(std::get<1>(key));
    w.Bytes(std::get<2>(key));
    w.I64(count);
  }
  w.U64(next_seq_);
}

absl::Status Outbox::Restore(SerialReader& r) {
  const size_t released = r.Count(17);
  released_.reserve(released);
  for (size_t i = 0; i < released && r.ok(); ++i) {
    std::string id(r.Bytes());
    const absl::Time t = r.Time();
    released_[std::move(id)] = Released{t, r.U64()};
  }
  const size_t pending = r.Count(16);
  for (size_t i = 0; i < pending && r.ok(); ++i) {
    const uint64_t seq = r.U64();
    JourneyAction a = RestoreAction(r);
    pending_seq_[a.id] = seq;
    pending_.emplace(seq, std::move(a));
  }
  const size_t deferred = r.Count(24);
  for (size_t i = 0; i < deferred && r.ok(); ++i) {
    const absl::Time t = r.Time();
    const uint64_t seq = r.U64();
    deferred_.emplace(std::make_pair(t, seq), RestoreAction(r));
  }
  const size_t days = r.Count(11);
  for (size_t i = 0; i < days && r.ok(); ++i) {
    const ProfileId p = r.U64();
    std::string channel(r.Bytes());
    std::string day(r.Bytes());
    sent_per_day_[{p, std::move(channel), std::move(day)}] = static_cast<int>(r.I64());
  }
  next_seq_ = r.U64();
  return r.status("outbox");
}

void Outbox::Prune(absl::Time horizon) {
  absl::erase_if(released_, [&](const auto& entry) {
    return entry.second.time < horizon && !pending_seq_.contains(entry.first);
  });
  const std::string day = absl::FormatCivilTime(absl::ToCivilDay(horizon, absl::UTCTimeZone()) - 1);
  for (auto it = sent_per_day_.begin(); it != sent_per_day_.end();) {
    it = std::get<2>(it->first) < day ? sent_per_day_.erase(it) : std::next(it);
  }
}

}  // namespace omnijourney::internal
