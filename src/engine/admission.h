// Admission: what an event must pass before it is written to the log. A refused event is never
// logged and changes nothing (only these counters).
//
// Two kinds of check: Validate needs no engine state (it runs outside the engine's lock, on the
// caller's thread); CheckState reads the identity graph (usable identifiers, the tenant's profile
// limit) and runs under the engine's lock, right before the event is appended.
//
// Thread-safety: thread-safe (its counters have their own lock). CheckState's `graph` must not
// change during the call.
#ifndef OMNIJOURNEY_SRC_ENGINE_ADMISSION_H_
#define OMNIJOURNEY_SRC_ENGINE_ADMISSION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "omnijourney/clock.h"
#include "omnijourney/engine_options.h"
#include "omnijourney/identity.h"

namespace omnijourney::internal {

// Whether `event` is an alias whose previous_id (of type anonymous_id) may be another type
// (IdentityOptions::alias_previous_types): ResolveAliasPrevious has work to do.
bool AliasToResolve(const IdentityOptions& options, const Event& event);

// The alias `event` with its previous_id typed as the identifier the tenant knows it as: a type of
// IdentityOptions::alias_previous_types known in `graph` (and the value not known as an
// anonymous_id), or named by one of `earlier` (events of the same batch before it). nullopt when
// it stays as it is. REQUIRES: AliasToResolve(event); `graph` does not change during the call.
std::optional<Event> ResolveAliasPrevious(const IdentityGraph& graph, const IdentityOptions& options,
                                          const Event& event, const std::vector<const Event*>& earlier);

class Admission {
 public:
  // `options` and `clock` must outlive it.
  Admission(const EngineOptions& options, const Clock* clock) : options_(options), clock_(clock) {}

  // ValidateEvent with the engine's options and clock (future skew).
  absl::Status Validate(const Event& event);
  // The checks against the engine's state: at least one usable identifier, and room in the
  // tenant's max_profiles_per_tenant. REQUIRES: `event` passed Validate and is not a duplicate.
  // `memo` (may be null): what the check found out, for the event's Link (IdentityGraph::CheckUsable).
  absl::Status CheckState(const IdentityGraph& graph, const Event& event, LinkMemo* memo = nullptr);
  // Whether ingesting `events` could take a tenant past max_profiles_per_tenant: then each event's
  // room depends on the ones before it, and they are admitted and applied one at a time.
  bool MayReachProfileLimit(const IdentityGraph& graph, const std::vector<const Event*>& events) const;

  struct Counters {
    int64_t rejected = 0;
    std::map<std::string, int64_t> limit_hits;  // By option (see EngineStats::limit_hits).
  };
  Counters counters() const;

 private:
  // Counts a refusal (and the limit it names, if any); returns `status`.
  absl::Status Refused(absl::Status status);
  // Each identifier adds at most one profile.
  static int64_t MostProfilesAdded(const Event& event) {
    return event.identifiers_size() + (event.has_previous_id() ? 1 : 0);
  }

  const EngineOptions& options_;
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  Counters counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_ENGINE_ADMISSION_H_
