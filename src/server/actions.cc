// ActionHub: see actions.h.
#include "server/actions.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "omnijourney/profile_id.h"
#include "server/service.h"

namespace omnijourney::server {
namespace {

std::string_view DispositionName(JourneyAction::Disposition d) {
  switch (d) {
    case JourneyAction::Disposition::kDeliver:
      return "deliver";
    case JourneyAction::Disposition::kDeferred:
      return "deferred";
    case JourneyAction::Disposition::kSuppressed:
      return "suppressed";
  }
  return "deliver";
}

}  // namespace

std::string ActionToJson(const JourneyAction& a) {
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();
  for (const auto& [k, v] : a.parameters) parameters[k] = v;
  nlohmann::ordered_json j = {{"id", a.id},
                              {"tenant", a.tenant},
                              {"profile", FormatProfileId(a.profile)},
                              {"journey", a.journey},
                              {"version", a.version},
                              {"transition", a.transition},
                              {"from_state", a.from_state},
                              {"to_state", a.to_state},
                              {"name", a.name},
                              {"channel", a.channel},
                              {"parameters", std::move(parameters)},
                              {"time", Rfc3339(a.time)},
                              {"cause", a.cause},
                              {"disposition", DispositionName(a.disposition)},
                              {"disposition_reason", a.disposition_reason},
                              {"handed_out", Rfc3339(a.handed_out)}};
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

ActionHub::ActionHub(Engine* engine, std::chrono::milliseconds poll,
                     std::chrono::milliseconds lease)
    : engine_(engine), poll_(poll), lease_(lease), thread_([this] { Run(); }) {}

ActionHub::~ActionHub() { Stop(); }

void ActionHub::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool ActionHub::stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stop_;
}

void ActionHub::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
  }
  changed_.notify_all();
}

void ActionHub::TakeLocked(std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  std::vector<JourneyAction> taken = engine_->TakeActions();  // Not under mu_: readers go on.
  lock.lock();
  if (taken.empty()) return;
  const Clock::time_point now = Clock::now();
  for (const JourneyAction& a : taken) {
    std::deque<Held>& queue = by_tenant_[a.tenant];
    // The engine hands an action out again after actions.redeliver_after: still held once here.
    if (std::any_of(queue.begin(), queue.end(), [&](const Held& h) { return h.id == a.id; }))
      continue;
    queue.push_back({a.id, ActionToJson(a), now, Clock::time_point::min()});
  }
  changed_.notify_all();
}

void ActionHub::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    TakeLocked(lock);
    changed_.wait_for(lock, poll_, [this] { return stop_ || wake_; });
    wake_ = false;
  }
}

std::vector<std::string> ActionHub::Lease(const std::string& tenant, size_t limit,
                                          std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mu_);
  const Clock::time_point deadline = Clock::now() + wait;
  std::vector<std::string> out;
  while (!stop_) {
    const Clock::time_point now = Clock::now();
    auto it = by_tenant_.find(tenant);
    if (it != by_tenant_.end()) {
      for (Held& h : it->second) {
        if (out.size() >= limit) break;
        if (h.leased_until > now) continue;
        if (h.leased_until != Clock::time_point::min()) ++expired_;
        h.leased_until = now + lease_;
        out.push_back(h.json);
      }
    }
    if (!out.empty() || now >= deadline) break;
    // A lease that runs out makes its action available again: wake for that too.
    Clock::time_point until = deadline;
    if (it != by_tenant_.end()) {
      for (const Held& h : it->second) {
        if (h.leased_until != Clock::time_point::min()) until = std::min(until, h.leased_until);
      }
    }
    changed_.wait_until(lock, until);
  }
  return out;
}

absl::Status ActionHub::Ack(const std::string& tenant, const std::vector<std::string>& ids) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_tenant_.find(tenant);
    auto done = acked_.find(tenant);
    for (const std::string& id : ids) {
      if (done != acked_.end() && done->second.first.contains(id)) continue;
      if (it == by_tenant_.end() || std::none_of(it->second.begin(), it->second.end(),
                                                 [&](const Held& h) { return h.id == id; })) {
        return absl::NotFoundError(
            absl::StrCat("ids: ", id, " is not an unacknowledged action of this tenant"));
      }
    }
  }
  if (absl::Status s = engine_->AckActions(ids); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  const std::set<std::string> acked(ids.begin(), ids.end());
  auto it = by_tenant_.find(tenant);
  if (it != by_tenant_.end()) {
    const size_t before = it->second.size();
    std::erase_if(it->second, [&](const Held& h) { return acked.contains(h.id); });
    acknowledged_ += static_cast<int64_t>(before - it->second.size());
  }
  auto& [set, order] = acked_[tenant];
  for (const std::string& id : acked) {
    if (!set.insert(id).second) continue;
    order.push_back(id);
    if (order.size() > kRememberedAcks) {
      set.erase(order.front());
      order.pop_front();
    }
  }
  return absl::OkStatus();
}

ActionHub::Figures ActionHub::figures() const {
  std::lock_guard<std::mutex> lock(mu_);
  Figures f;
  f.acknowledged = acknowledged_;
  f.leases_expired = expired_;
  const Clock::time_point now = Clock::now();
  for (const auto& [tenant, queue] : by_tenant_) {
    f.pending += static_cast<int64_t>(queue.size());
    for (const Held& h : queue) {
      f.oldest_seconds =
          std::max(f.oldest_seconds, std::chrono::duration<double>(now - h.taken).count());
    }
  }
  return f;
}

}  // namespace omnijourney::server
