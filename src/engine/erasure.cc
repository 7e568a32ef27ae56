#include "engine/erasure.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "common/status_macros.h"

namespace omnijourney::internal {

absl::Status ScrubLog(Log& log, const IdentityGraph& graph, const std::string& tenant,
                      const std::vector<IdentifierValue>& erased, LogPosition position) {
  if (erased.empty()) return absl::OkStatus();
  auto is_erased = [&](const std::string& type, const std::string& value) {
    for (const auto& e : erased) {
      if (e.type != type) continue;
      auto k = graph.MatchKey(type, value);
      if (k.ok() && *k == e.value) return true;
    }
    return false;
  };
  std::vector<std::pair<LogPosition, std::optional<v1::LogRecord>>> changes;
  RETURN_IF_ERROR(log.Read(0, [&](LogPosition pos, const v1::LogRecord& r) -> absl::Status {
    if (pos >= position) return absl::OkStatus();
    if (r.has_event() && r.event().tenant() == tenant) {
      v1::LogRecord copy = r;
      Event& e = *copy.mutable_event();
      auto* ids = e.mutable_identifiers();
      const int before = ids->size();
      ids->erase(std::remove_if(ids->begin(), ids->end(),
                                [&](const v1::Identifier& id) { return is_erased(id.type(), id.value()); }),
                 ids->end());
      bool changed = ids->size() != before;
      if (e.has_previous_id() && is_erased(e.previous_id().type(), e.previous_id().value())) {
        e.clear_previous_id();
        changed = true;
      }
      if (changed) {
        if (ids->empty() && !e.has_previous_id()) {
          changes.emplace_back(pos, std::nullopt);
        } else {
          changes.emplace_back(pos, std::move(copy));
        }
      }
    } else if (r.has_unlink() && r.unlink().tenant() == tenant && is_erased(r.unlink().type(), r.unlink().value())) {
      changes.emplace_back(pos, std::nullopt);
    } else if (r.has_split()) {
      v1::LogRecord copy = r;
      auto* part = copy.mutable_split()->mutable_part();
      const int before = part->size();
      part->erase(std::remove_if(part->begin(), part->end(),
                                 [&](const v1::Identifier& id) { return is_erased(id.type(), id.value()); }),
                  part->end());
      if (part->size() != before) {
        if (part->empty()) {
          changes.emplace_back(pos, std::nullopt);
        } else {
          changes.emplace_back(pos, std::move(copy));
        }
      }
    }
    return absl::OkStatus();
  }));
  return log.Rewrite(changes);
}

}  // namespace omnijourney::internal
