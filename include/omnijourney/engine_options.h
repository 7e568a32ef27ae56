// Options of omnijourney::Engine.
#ifndef OMNIJOURNEY_ENGINE_OPTIONS_H_
#define OMNIJOURNEY_ENGINE_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "omnijourney/clock.h"
#include "omnijourney/event_options.h"
#include "omnijourney/identity_options.h"
#include "omnijourney/timeline_options.h"

namespace omnijourney {

// How Context() summarises a profile.
struct ContextOptions {
  // Entries in CustomerContext::recent. Default: 20.
  size_t recent_entries = 20;
  // Interests returned. Default: 5.
  size_t max_interests = 5;
  // Trait sources in priority order (first wins over later, whatever the time); unlisted sources
  // rank below listed ones and, among themselves, the most recent value wins.
  // Default: empty (the most recent value wins).
  std::vector<std::string> trait_source_priority;
  // Weight of a contact in the preferred-channel score halves every this long.
  // Default: 90 days.
  absl::Duration preference_half_life = absl::Hours(24 * 90);
  // An inbound message within this long after an outbound one on the same channel is a reply
  // (weighs twice as much as an inbound contact the customer started).
  // Default: 72 hours.
  absl::Duration reply_window = absl::Hours(72);
};

// What the engine does with journey actions for customer-facing channels (actions with a channel;
// tasks without one are never capped or deferred).
struct ActionOptions {
  // At most this many actions per profile, channel and local calendar day; further ones are handed
  // out as suppressed. Default: 0 (no cap).
  int max_per_channel_per_day = 0;
  // Quiet hours in the profile's local time, [quiet_start_hour, quiet_end_hour), wrapping midnight
  // when start > end (21 and 8: 21:00-08:00). Equal hours: no quiet hours. Default: 0, 0 (none).
  int quiet_start_hour = 0;
  int quiet_end_hour = 0;
  enum class QuietPolicy {
    kDefer,     // Handed out when the quiet hours end (marked deferred).
    kSuppress,  // Handed out at once, marked suppressed.
  };
  // Default: kDefer.
  QuietPolicy quiet_policy = QuietPolicy::kDefer;
  // IANA time zone of profiles without a "timezone" trait. Default: "UTC".
  std::string default_time_zone = "UTC";
  // An action handed out by TakeActions and not acknowledged this long after (by the engine's
  // clock) is handed out again. 0: only after the engine is reopened. Default: 0.
  absl::Duration redeliver_after = absl::ZeroDuration();
};

struct EngineOptions {
  ValidationOptions validation;
  IdentityOptions identity;
  TimelineOptions timeline;
  ContextOptions context;
  // Source of "now" for validation (future skew) and, in kClock mode, for Context(). Not owned;
  // must outlive the engine. Default: RealClock().
  const Clock* clock = nullptr;
  enum class TimeMode {
    kClock,      // Now is clock->Now() (or later, after AdvanceTime): live operation.
    kEventTime,  // Now is the latest event time ingested or AdvanceTime, whichever is later:
                 // replays of historical data.
  };
  // Default: kClock.
  TimeMode time_mode = TimeMode::kClock;
  // How many (tenant, source, event_id) keys are remembered for idempotence; the oldest are
  // forgotten first (a re-delivery older than that is ingested again).
  // Default: 4,000,000.
  size_t dedupe_window = 4'000'000;
  // Most profiles one tenant may hold. An event that would add profiles beyond it (new identifiers
  // that join no known profile) is refused with ResourceExhausted naming this option
  // (ExceededLimit() returns "max_profiles_per_tenant"); nothing changes and nothing is stored, so
  // it may be sent again once there is room. Events of known customers are still accepted. Operator
  // splits and unlinks are never refused and may take a tenant past it; a store opened with a lower
  // limit keeps what it holds. Default: 0 (no limit).
  int64_t max_profiles_per_tenant = 0;
  // How long journey timeouts and actions wait behind now (see time_mode) for late events: a timeout
  // due at t fires, and an action of a transition at t is handed to the host, once now - t reaches
  // this. Late events within it are placed in order and change the outcome; later ones cannot take
  // back what was handed out. Default: 0 (immediately).
  absl::Duration allowed_lateness = absl::ZeroDuration();
  ActionOptions actions;
  // In clock mode, an engine-owned thread fires journey timeouts and releases actions when the clock
  // reaches them, with no call from the host (each firing is a log record). Off: time moves only
  // with events and AdvanceTime. Ignored in event-time mode. Default: true.
  bool live_timers = true;
  // The longest the timer thread sleeps before reading the clock again (a clock that jumps, such as
  // SimulatedClock, is noticed at most this late). Default: 1 second.
  absl::Duration timer_poll_interval = absl::Seconds(1);
  // How long a batch (IngestBatch) holds the state before it lets readers that wait (Context,
  // Explain, ...) in: at least one event, then until this much time has passed. Shorter favours the
  // readers' latency under a heavy batch load, longer the batch's throughput while readers keep
  // coming; with no reader waiting it changes nothing. At most 1 second. Default: 3 microseconds
  // (docs/architecture.md has the figures).
  absl::Duration writer_slice = absl::Microseconds(3);
  // Durability. Empty path: the log is in memory (nothing survives the process). Otherwise a RocksDB
  // directory (created when missing): every acknowledged event, journey definition, operator action,
  // time advance and action acknowledgement is stored before the call returns, and Open() on the
  // directory recovers the whole state by replaying it.
  struct Storage {
    std::string path;
    // Without a path: the in-memory log keeps the most recent records up to this many bytes (their
    // serialized size), dropping the oldest (for inspection and tests; the engine needs none of
    // them once applied). Default: 0 (records are numbered, not kept, and events not encoded).
    size_t memory_log_bytes = 0;
    // A snapshot of the derived state is written after this many records since the last one (see
    // Engine::Checkpoint; Open loads the newest valid snapshot and replays only the records after
    // it). 0: only on Checkpoint() and after erasures. Default: 1,000,000.
    uint64_t snapshot_every_records = 1'000'000;
    // fsync each write: acknowledged events survive power loss, not only a process crash.
    // Default: false.
    bool sync = false;
    // Profiles whose timeline and journeys stay in memory; the least recently used others are
    // spilled to the store and loaded on demand (an event, a due timeout, a query or an operator
    // action). 0: all stay in memory. The identity graph, timer index and idempotence window stay
    // in memory regardless. Needs `path`. Default: 0.
    size_t cache_profiles = 0;
    // With cache_profiles: the profiles kept in memory while Open replays the log (then it spills
    // down to cache_profiles), so that a replay of customers' interleaved events does not load and
    // spill a profile for almost every event. At most this many profiles' timelines are in memory
    // at once during Open. Default: 100,000 (or cache_profiles, when that is larger).
    size_t recovery_cache_profiles = 100'000;
    // What Open does when the write-ahead log is damaged (a checksum fails, or a record is cut
    // short before the end of the log): kRefuse fails Open with DataLoss naming the log files;
    // kRecoverToLastConsistentPoint opens with the records before the damage, drops the rest and
    // says so in EngineStats::storage_recovery. A record cut short at the very end of the log (a
    // write torn by a crash, which was never acknowledged) is dropped in both. Default: kRefuse.
    enum class DamagedLog { kRefuse, kRecoverToLastConsistentPoint };
    DamagedLog damaged_log = DamagedLog::kRefuse;
  };
  Storage storage;
};

}  // namespace omnijourney

#endif  // OMNIJOURNEY_ENGINE_OPTIONS_H_
