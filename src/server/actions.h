// The journeys' actions on their way to the hosts: taken from the engine, held per tenant until a
// host acknowledges them, leased to one reader at a time (long poll or Server-Sent Events) and
// offered again when a lease runs out unacknowledged (at least once; the id makes it exactly once).
#ifndef OMNIJOURNEY_SERVER_ACTIONS_H_
#define OMNIJOURNEY_SERVER_ACTIONS_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "omnijourney/engine.h"

namespace omnijourney::server {

// The JSON of an action: id, tenant, profile, journey, version, transition, from_state, to_state,
// name, channel, parameters, time, cause, disposition, disposition_reason, handed_out.
std::string ActionToJson(const JourneyAction& action);

class ActionHub {
 public:
  using Clock = std::chrono::steady_clock;
  // `lease`: how long a handed-out action is held for its reader before it is offered again.
  ActionHub(Engine* engine, std::chrono::milliseconds poll, std::chrono::milliseconds lease);
  ~ActionHub();  // Stop()s.

  // Up to `limit` actions of `tenant` that are not leased, leased now (as JSON, oldest first);
  // waits up to `wait` for one when there is none. Empty after Stop().
  std::vector<std::string> Lease(const std::string& tenant, size_t limit,
                                 std::chrono::milliseconds wait);
  // Acknowledges actions of `tenant`: the engine logs it and they are never offered again.
  // NotFound naming the first id that is not an unacknowledged action of the tenant (nothing is
  // acknowledged then); the engine's own errors as they are.
  absl::Status Ack(const std::string& tenant, const std::vector<std::string>& ids);
  // Takes due actions from the engine now (besides every `poll`).
  void Wake();
  // Ends the taking thread and every wait.
  void Stop();
  bool stopping() const;

  // For metrics: unacknowledged actions and the age of the oldest (by when the hub took it).
  struct Figures {
    int64_t pending = 0;
    double oldest_seconds = 0;
    int64_t acknowledged = 0;
    int64_t leases_expired = 0;
  };
  Figures figures() const;

 private:
  struct Held {
    std::string id;
    std::string json;
    Clock::time_point taken;
    Clock::time_point leased_until;  // Epoch (min): not leased.
  };
  void Run();
  void TakeLocked(std::unique_lock<std::mutex>& lock);

  Engine* engine_;
  const std::chrono::milliseconds poll_, lease_;
  mutable std::mutex mu_;
  std::condition_variable changed_;  // New actions, a wake, or stop.
  std::map<std::string, std::deque<Held>> by_tenant_;
  // Ids acknowledged lately, per tenant (the newest kRememberedAcks): acknowledging one again is
  // fine, as a host that did not see the answer retries.
  static constexpr size_t kRememberedAcks = 100000;
  std::map<std::string, std::pair<std::set<std::string>, std::deque<std::string>>> acked_;
  bool stop_ = false, wake_ = false;
  int64_t acknowledged_ = 0, expired_ = 0;
  std::thread thread_;
};

}  // namespace omnijourney::server

#endif  // OMNIJOURNEY_SERVER_ACTIONS_H_
