#include "engine/admission.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/limit.h"
#include "common/mutex.h"
#include "omnijourney/validate.h"

namespace omnijourney::internal {

bool AliasToResolve(const IdentityOptions& options, const Event& event) {
  return event.kind() == v1::EVENT_KIND_ALIAS && event.has_previous_id() &&
         event.previous_id().type() == "anonymous_id" && !options.alias_previous_types.empty();
}

std::optional<Event> ResolveAliasPrevious(const IdentityGraph& graph, const IdentityOptions& options,
                                          const Event& event, const std::vector<const Event*>& earlier) {
  const std::string& tenant = event.tenant();
  const std::string& value = event.previous_id().value();
  if (graph.Resolve(tenant, "anonymous_id", value).ok()) return std::nullopt;  // It is one.
  for (const std::string& type : options.alias_previous_types) {
    absl::StatusOr<std::string> key = graph.MatchKey(tenant, type, value, "");
    if (!key.ok()) continue;
    bool known = graph.Resolve(tenant, type, value).ok();
    for (size_t i = 0; i < earlier.size() && !known; ++i) {
      const Event* e = earlier[i];
      if (e == nullptr || e->tenant() != tenant) continue;
      for (const v1::Identifier& id : e->identifiers()) {
        if (id.type() != type) continue;
        absl::StatusOr<std::string> k = graph.MatchKey(tenant, type, id.value(), id.region());
        if (k.ok() && *k == *key) {
          known = true;
          break;
        }
      }
    }
    if (!known) continue;
    std::optional<Event> out(event);
    out->mutable_previous_id()->set_type(type);
    return out;
  }
  return std::nullopt;
}

absl::Status Admission::Refused(absl::Status status) {
  WriterLock lock(&mu_);
  ++counters_.rejected;
  if (std::string limit = ExceededLimit(status); !limit.empty()) ++counters_.limit_hits[limit];
  return status;
}

absl::Status Admission::Validate(const Event& event) {
  absl::Status s = ValidateEvent(event, options_.validation, clock_->Now());
  return s.ok() ? s : Refused(std::move(s));
}

absl::Status Admission::CheckState(const IdentityGraph& graph, const Event& event, LinkMemo* memo) {
  if (absl::Status s = graph.CheckUsable(event, memo); !s.ok()) return Refused(std::move(s));
  // EngineOptions::max_profiles_per_tenant (recovery does not check it: what was logged had passed).
  const int64_t limit = options_.max_profiles_per_tenant;
  if (limit <= 0) return absl::OkStatus();
  const int64_t have = graph.TenantProfiles(event.tenant());
  if (have + MostProfilesAdded(event) <= limit) return absl::OkStatus();  // Far from it.
  const int64_t added = graph.ProfilesAdded(event);
  if (added <= 0 || have + added <= limit) return absl::OkStatus();
  absl::Status status = absl::ResourceExhaustedError(
      absl::StrCat("identifiers: tenant '", event.tenant(), "' holds ", have, " profiles and this event would add ",
                   added, ", over max_profiles_per_tenant = ", limit));
  TagLimit(status, "max_profiles_per_tenant");
  return Refused(std::move(status));
}

bool Admission::MayReachProfileLimit(const IdentityGraph& graph, const std::vector<const Event*>& events) const {
  const int64_t limit = options_.max_profiles_per_tenant;
  if (limit <= 0) return false;
  absl::flat_hash_map<absl::string_view, int64_t> added;
  for (const Event* e : events) {
    if (e == nullptr) continue;
    auto [it, fresh] = added.try_emplace(e->tenant(), 0);
    if (fresh) it->second = graph.TenantProfiles(e->tenant());
    it->second += MostProfilesAdded(*e);
    if (it->second > limit) return true;
  }
  return false;
}

Admission::Counters Admission::counters() const {
  ReaderLock lock(&mu_);
  return counters_;
}

}  // namespace omnijourney::internal
