#include "engine/readers.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "omnijourney/event.h"
#include "sodium.h"

namespace omnijourney {

std::string ProfileExplanation::ToString() const {
  std::string out = absl::StrCat("profile ", FormatProfileId(profile), "\n");
  for (const auto& id : identifiers) absl::StrAppend(&out, "  ", id.type, " ", id.value, "\n");
  for (const auto& e : audit) absl::StrAppend(&out, "  ", e.ToString(), "\n");
  for (const auto& j : journeys) {
    absl::StrAppend(&out, "  journey ", j.journey, " v", j.version, ": ", j.state, j.ended ? " (ended)" : "", "\n");
    for (const auto& s : j.steps) {
      absl::StrAppend(&out, "    ", FormatRfc3339(s.time), " ", s.from.empty() ? "(entry)" : s.from, " -> ",
                      s.to.empty() ? "(restarted)" : s.to, " by ", s.transition, " on ", s.cause, "\n");
    }
  }
  return out;
}

namespace internal {
namespace {

std::string Time(absl::Time t) { return FormatRfc3339(t); }

// One line of the digest's text: fields separated by tabs, each C-escaped (so no field holds one).
template <typename... Fields>
void Line(std::string* out, const Fields&... fields) {
  bool first = true;
  for (const std::string_view f : {std::string_view(fields)...}) {
    if (!first) out->push_back('\t');
    first = false;
    out->append(absl::CHexEscape(absl::string_view(f.data(), f.size())));
  }
  out->push_back('\n');
}

}  // namespace

std::string DigestState(const Engine& engine, std::string_view tenant, std::vector<std::string> released,
                        std::string* text) {
  std::string out;
  std::vector<ProfileId> profiles;
  (void)engine.ForEachProfile([&](const ProfileSnapshot& p) {
    if (p.tenant != tenant) return;
    profiles.push_back(p.profile);
    Line(&out, "profile", FormatProfileId(p.profile));
    for (const TimelineEntry& e : p.timeline) {
      Line(&out, "entry", Time(e.time), e.source, e.event_id, absl::StrCat(e.kind), e.name, absl::StrCat(e.channel),
           absl::StrCat(e.direction), e.provider, e.agent_id, e.conversation_id, e.text, e.value);
      for (const auto& [k, v] : e.properties) Line(&out, "property", k, v);
    }
    for (const JourneyTrace& j : p.journeys) {
      Line(&out, "journey", j.journey, absl::StrCat(j.version), j.state, j.ended ? "ended" : "running",
           Time(j.started), Time(j.entered));
      for (const JourneyTrace::Step& s : j.steps) Line(&out, "step", s.from, s.to, s.transition, s.cause, Time(s.time));
    }
  });
  // Identifiers and audit of the same profiles (those without retained entries are counted below).
  for (ProfileId id : profiles) {
    absl::StatusOr<ProfileExplanation> e = engine.Explain(tenant, id);
    if (!e.ok()) {
      Line(&out, "explain", FormatProfileId(id), e.status().ToString());
      continue;
    }
    Line(&out, "identity", FormatProfileId(e->profile));
    for (const IdentifierValue& v : e->identifiers) Line(&out, "identifier", v.type, v.value);
    for (const AuditEntry& a : e->audit) Line(&out, "audit", a.ToString());
    Line(&out, "folded", absl::StrCat(e->audit_folded));
  }
  Line(&out, "profiles", absl::StrCat(engine.TenantProfiles(tenant)));
  std::sort(released.begin(), released.end());
  for (const std::string& id : released) Line(&out, "released", id);
  std::array<unsigned char, 16> hash{};
  crypto_generichash(hash.data(), hash.size(), reinterpret_cast<const unsigned char*>(out.data()), out.size(),
                     nullptr, 0);
  if (text != nullptr) *text = std::move(out);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
}

absl::Status CheckSplitPart(const IdentityGraph& graph, ProfileId id, const std::vector<IdentifierValue>& part) {
  if (part.empty()) return absl::InvalidArgumentError("part: empty");
  ASSIGN_OR_RETURN(const std::string tenant, graph.TenantOf(id));
  ASSIGN_OR_RETURN(const std::vector<IdentifierValue> all, graph.Identifiers(id));
  for (size_t i = 0; i < part.size(); ++i) {
    absl::StatusOr<ProfileId> of = graph.Resolve(tenant, part[i].type, part[i].value);
    if (!of.ok() || *of != id) {
      return absl::InvalidArgumentError(
          absl::StrCat("part[", i, "]: ", part[i].type, " is not an identifier of profile ", FormatProfileId(id)));
    }
  }
  if (part.size() >= all.size()) return absl::InvalidArgumentError("part: the whole profile (nothing would be left)");
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace omnijourney
