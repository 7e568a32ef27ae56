// The outbox: journey actions from the moment they are due until the host acknowledges them.
//
// An action is released once (its id is remembered: replays that emit it again are ignored), with a
// disposition from the action policy (EngineOptions::actions: quiet hours defer or suppress it,
// frequency caps suppress it), and then stays pending until AckActions. Take hands each pending
// action to the host once per process (again after redeliver_after when set); pending actions are
// rebuilt by replaying the log after a restart, so an unacknowledged action comes back with its
// id. Everything but the hand-outs is derived from log records, so a replay gives the same outbox.
//
// Bounded: released ids and per-day cap counts are forgotten once they are too old to matter (see
// Prune). Pending actions stay until acknowledged.
//
// Thread-safety: not thread-safe (the engine's lock guards it).
#ifndef OMNIJOURNEY_SRC_ENGINE_OUTBOX_H_
#define OMNIJOURNEY_SRC_ENGINE_OUTBOX_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "common/serial.h"
#include "absl/time/time.h"
#include "omnijourney/engine.h"

namespace omnijourney::internal {

class Outbox {
 public:
  // `options` must outlive the outbox.
  Outbox(const ActionOptions& options, absl::TimeZone default_zone) : options_(options), default_zone_(default_zone) {}

  // Quiet hours or caps are configured (then channel actions need the profile's context).
  bool PolicyActive() const {
    return options_.max_per_channel_per_day > 0 || options_.quiet_start_hour != options_.quiet_end_hour;
  }
  bool released(absl::string_view id) const { return released_.contains(id); }
  // The profile's time zone: its "timezone" trait when it names a known zone, else the default.
  absl::TimeZone ZoneOf(const CustomerContext* ctx) const;

  // Releases a due action (REQUIRES: !released(action.id)): applies quiet hours and caps (with the
  // profile's context, may be null) and queues it as pending, or holds it until the quiet hours end.
  void Release(JourneyAction action, const CustomerContext* ctx);
  // Releases deferred actions whose quiet hours end at or before `limit`; caps apply on the day they
  // go out, in the zone `zone_of` gives for the profile.
  void ReleaseDeferred(absl::Time limit, const std::function<absl::TimeZone(ProfileId)>& zone_of);
  // When the next deferred action goes out, if any.
  std::optional<absl::Time> NextDeferred() const;

  // Pending actions not handed out in this process yet, or handed out at least `redeliver_after`
  // before `wall_now` (when redeliver_after > 0), in release order; they are marked handed out.
  std::vector<JourneyAction> Take(absl::Time wall_now, absl::Duration redeliver_after);
  // NotFound naming the first id that is neither pending nor acknowledged before (acknowledging
  // twice is fine). Changes nothing.
  absl::Status CheckAck(const std::vector<std::string>& ids) const;
  // Removes the pending actions with these ids (unknown ids are ignored).
  void Ack(const std::vector<std::string>& ids);
  // Forgets released ids of actions before `horizon` (no replay can emit them again: their events
  // are past the timeline's retention) and cap counts of days before the day of `horizon`.
  void Prune(absl::Time horizon);

  // Snapshots: everything but the hand-outs of this process (after a restart every pending action is
  // handed out again).
  void Save(SerialWriter& w) const;
  absl::Status Restore(SerialReader& r);

  // Calls `fn` with the id, profile (when it was released) and time of every released action still
  // remembered (see Prune), in no particular order.
  void ForEachReleased(const std::function<void(const std::string& id, ProfileId profile, absl::Time time)>& fn) const {
    for (const auto& [id, r] : released_) fn(id, r.profile, r.time);
  }

  int64_t pending() const { return static_cast<int64_t>(pending_.size()); }
  int64_t deferred() const { return static_cast<int64_t>(deferred_.size()); }

 private:
  // Counts the action against its profile's cap; false when the cap was reached (then it is not
  // counted).
  bool WithinCap(const JourneyAction& action, absl::TimeZone tz);
  void Queue(JourneyAction action);

  const ActionOptions& options_;
  const absl::TimeZone default_zone_;
  struct Released {
    absl::Time time;  // The action's time.
    ProfileId profile = 0;
  };
  absl::flat_hash_map<std::string, Released> released_;  // By id.
  // Pending actions by release sequence, and their sequence by id.
  std::map<uint64_t, JourneyAction> pending_;
  absl::flat_hash_map<std::string, uint64_t> pending_seq_;
  uint64_t next_seq_ = 0;
  // Handed out in this process (not logged): sequence -> wall time of the hand-out.
  absl::flat_hash_map<uint64_t, absl::Time> handed_;
  // Deferred actions by the time they go out (the sequence keeps equal times in order).
  std::map<std::pair<absl::Time, uint64_t>, JourneyAction> deferred_;
  // Actions counted against the cap per (profile, channel, local day "YYYY-MM-DD").
  std::map<std::tuple<ProfileId, std::string, std::string>, int> sent_per_day_;
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_OUTBOX_H_
