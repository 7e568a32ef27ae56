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
  released_[action.id] = action.time;
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

void Outbox::Prune(absl::Time horizon) {
  absl::erase_if(released_, [&](const auto& entry) {
    return entry.second < horizon && !pending_seq_.contains(entry.first);
  });
  const std::string day = absl::FormatCivilTime(absl::ToCivilDay(horizon, absl::UTCTimeZone()) - 1);
  for (auto it = sent_per_day_.begin(); it != sent_per_day_.end();) {
    it = std::get<2>(it->first) < day ? sent_per_day_.erase(it) : std::next(it);
  }
}

}  // namespace omnijourney::internal
