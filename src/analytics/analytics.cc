// Journey analytics: see include/omnijourney/analytics.h.
#include "omnijourney/analytics.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string_view>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "context/context_builder.h"

namespace omnijourney::analytics {
namespace {

using internal::IsInboundContact;

struct Touch {
  absl::Time time;
  v1::Channel channel;
};

// The profile's touches, oldest first (a conversation counts at its first touch).
std::vector<Touch> TouchesOf(const ProfileSnapshot& p, const TouchOptions& options) {
  std::vector<Touch> out;
  absl::flat_hash_set<std::string_view> conversations;
  for (const TimelineEntry& e : p.timeline) {
    if (!IsTouch(e, options)) continue;
    if (!e.conversation_id.empty() && !conversations.insert(e.conversation_id).second) continue;
    out.push_back({e.time, e.channel});
  }
  return out;
}

// Inbound contact start times of a profile (a conversation counts once, at its first event), sorted.
std::vector<absl::Time> ContactStarts(const ProfileSnapshot& p) {
  std::vector<absl::Time> out;
  absl::flat_hash_set<std::string_view> conversations;
  for (const TimelineEntry& e : p.timeline) {
    if (!IsInboundContact(e)) continue;
    if (!e.conversation_id.empty() && !conversations.insert(e.conversation_id).second) continue;
    out.push_back(e.time);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<v1::Channel> Collapse(const std::vector<Touch>& touches) {
  std::vector<v1::Channel> out;
  for (const Touch& t : touches) {
    if (out.empty() || out.back() != t.channel) out.push_back(t.channel);
  }
  return out;
}

// Solves A x = b (n x n, row-major) by Gaussian elimination with partial pivoting. A is
// non-singular here (I - Q of an absorbing chain, or with identity rows).
std::vector<double> Solve(std::vector<double> a, std::vector<double> b, size_t n) {
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < n; ++r) {
      if (std::abs(a[r * n + col]) > std::abs(a[pivot * n + col])) pivot = r;
    }
    if (pivot != col) {
      for (size_t c = 0; c < n; ++c) std::swap(a[col * n + c], a[pivot * n + c]);
      std::swap(b[col], b[pivot]);
    }
    const double d = a[col * n + col];
    if (d == 0) continue;  // Cannot happen for an absorbing chain; leaves the unknown at 0.
    for (size_t r = col + 1; r < n; ++r) {
      const double f = a[r * n + col] / d;
      if (f == 0) continue;
      for (size_t c = col; c < n; ++c) a[r * n + c] -= f * a[col * n + c];
      b[r] -= f * b[col];
    }
  }
  std::vector<double> x(n, 0.0);
  for (size_t i = n; i-- > 0;) {
    double s = b[i];
    for (size_t c = i + 1; c < n; ++c) s -= a[i * n + c] * x[c];
    const double d = a[i * n + i];
    x[i] = d == 0 ? 0 : s / d;
  }
  return x;
}

// First-order Markov chain over channel paths.
class Chain {
 public:
  explicit Chain(const std::vector<v1::Channel>& channels) : channels_(channels) {
    for (size_t i = 0; i < channels.size(); ++i) index_[channels[i]] = i;
    const size_t n = channels.size();
    counts_.assign(n * n, 0);
    conv_.assign(n, 0);
    null_.assign(n, 0);
    out_.assign(n, 0);
    start_.assign(n, 0);
  }

  void AddPath(const std::vector<v1::Channel>& path, bool converted) {
    if (path.empty()) return;
    ++start_[index_.at(path.front())];
    ++starts_;
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      const size_t from = index_.at(path[i]);
      ++counts_[from * channels_.size() + index_.at(path[i + 1])];
      ++out_[from];
    }
    const size_t last = index_.at(path.back());
    ++(converted ? conv_ : null_)[last];
    ++out_[last];
  }

  // Probability that a path from the start converts; `removed` (an index) leads to null instead.
  double ConversionProbability(std::optional<size_t> removed) const {
    const size_t n = channels_.size();
    if (n == 0 || starts_ == 0) return 0;
    std::vector<double> a(n * n, 0.0);
    std::vector<double> b(n, 0.0);
    for (size_t i = 0; i < n; ++i) {
      a[i * n + i] = 1;
      if (removed && *removed == i) continue;  // x_i = 0.
      const double out = static_cast<double>(out_[i]);
      for (size_t j = 0; j < n; ++j) {
        if (counts_[i * n + j] != 0) a[i * n + j] -= static_cast<double>(counts_[i * n + j]) / out;
      }
      b[i] = static_cast<double>(conv_[i]) / out;
    }
    const std::vector<double> x = Solve(std::move(a), std::move(b), n);
    double p = 0;
    for (size_t j = 0; j < n; ++j) {
      p += static_cast<double>(start_[j]) / static_cast<double>(starts_) * x[j];
    }
    return p;
  }

 private:
  std::vector<v1::Channel> channels_;
  std::map<v1::Channel, size_t> index_;
  std::vector<int64_t> counts_, conv_, null_, out_, start_;
  int64_t starts_ = 0;
};

}  // namespace

absl::StatusOr<Profiles> CollectProfiles(const Engine& engine) {
  Profiles out;
  absl::Status s = engine.ForEachProfile([&](const ProfileSnapshot& p) { out.push_back(p); });
  if (!s.ok()) return s;
  return out;
}

absl::Time LatestTime(const Profiles& profiles) {
  absl::Time latest = absl::InfinitePast();
  for (const ProfileSnapshot& p : profiles) {
    if (!p.timeline.empty()) latest = std::max(latest, p.timeline.back().time);
  }
  return latest;
}

DurationStats Summarize(std::vector<absl::Duration> durations) {
  DurationStats s;
  s.count = static_cast<int64_t>(durations.size());
  if (durations.empty()) return s;
  std::sort(durations.begin(), durations.end());
  const auto rank = [&](double q) {
    const size_t r = static_cast<size_t>(std::ceil(q * static_cast<double>(durations.size())));
    return durations[std::max<size_t>(r, 1) - 1];
  };
  s.median = rank(0.5);
  s.p90 = rank(0.9);
  return s;
}

absl::StatusOr<JourneyFunnel> Funnel(const Profiles& profiles, const JourneyDefinition& journey,
                                     const FunnelOptions& options) {
  if (absl::Status s = ValidateJourney(journey); !s.ok()) return s;
  const absl::Time as_of = options.as_of == absl::InfinitePast() ? LatestTime(profiles) : options.as_of;
  JourneyFunnel f;
  f.journey = journey.name();
  std::map<std::string, size_t, std::less<>> state_index;
  for (const v1::State& st : journey.states()) {
    state_index[st.name()] = f.states.size();
    f.states.push_back({st.name(), st.kind(), 0, {}});
  }
  std::vector<std::vector<absl::Duration>> visits(f.states.size());
  std::vector<absl::Duration> to_goal;
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> transitions;
  const auto is_goal = [&](const std::string& state) {
    auto it = state_index.find(state);
    return it != state_index.end() && f.states[it->second].kind == v1::State::STATE_KIND_GOAL;
  };
  for (const ProfileSnapshot& p : profiles) {
    for (const JourneyTrace& t : p.journeys) {
      if (t.journey != journey.name()) continue;
      ++f.entered;
      std::set<size_t> reached;
      std::optional<absl::Time> goal_at;
      for (size_t i = 0; i < t.steps.size(); ++i) {
        const JourneyTrace::Step& s = t.steps[i];
        ++transitions[{s.from, s.to, s.transition}];
        auto it = state_index.find(s.to);
        if (it == state_index.end()) continue;  // A restart ("") or a state of another version.
        reached.insert(it->second);
        if (i + 1 < t.steps.size()) visits[it->second].push_back(t.steps[i + 1].time - s.time);
        if (!goal_at && is_goal(s.to)) goal_at = s.time;
      }
      for (size_t r : reached) ++f.states[r].reached;
      if (goal_at) {
        ++f.converted;
        to_goal.push_back(*goal_at - t.started);
      } else if (t.ended) {
        ++f.exited;
      } else {
        const absl::Time last = t.steps.empty() ? t.started : t.steps.back().time;
        ++(as_of - last > options.drop_after ? f.dropped : f.active);
      }
    }
  }
  for (size_t i = 0; i < f.states.size(); ++i) f.states[i].time_in_state = Summarize(std::move(visits[i]));
  f.time_to_goal = Summarize(std::move(to_goal));
  for (const auto& [key, n] : transitions) {
    f.transitions.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), n});
  }
  std::stable_sort(f.transitions.begin(), f.transitions.end(),
                   [](const TransitionCount& a, const TransitionCount& b) { return a.count > b.count; });
  return f;
}

bool IsTouch(const TimelineEntry& e, const TouchOptions& options) {
  if (e.channel == v1::CHANNEL_UNSPECIFIED || e.channel == v1::CHANNEL_SERVER) return false;
  switch (e.direction) {
    case v1::DIRECTION_INBOUND:
    case v1::DIRECTION_UNSPECIFIED:
      return true;
    case v1::DIRECTION_OUTBOUND:
      return options.include_outbound;
    default:
      return false;
  }
}

std::string ChannelPath::ToString() const {
  std::string out;
  for (v1::Channel c : channels) absl::StrAppend(&out, out.empty() ? "" : " > ", internal::ToAbsl(ChannelName(c)));
  if (truncated) absl::StrAppend(&out, " > ...");
  return out;
}

ChannelPathReport ChannelPaths(const Profiles& profiles, const PathOptions& options) {
  ChannelPathReport r;
  std::map<std::pair<std::vector<v1::Channel>, bool>, int64_t> paths;
  for (const ProfileSnapshot& p : profiles) {
    const std::vector<Touch> touches = TouchesOf(p, options.touches);
    if (touches.empty()) continue;
    ++r.profiles;
    std::set<v1::Channel> distinct;
    for (size_t i = 0; i < touches.size(); ++i) {
      distinct.insert(touches[i].channel);
      if (i == 0) continue;
      ++r.switches[{touches[i - 1].channel, touches[i].channel}];
      ++r.transitions;
      if (touches[i - 1].channel != touches[i].channel) ++r.channel_switches;
    }
    if (distinct.size() > 1) ++r.multichannel_profiles;
    std::vector<v1::Channel> path = Collapse(touches);
    const bool truncated = path.size() > options.max_length;
    if (truncated) path.resize(options.max_length);
    ++paths[{std::move(path), truncated}];
  }
  r.distinct_paths = static_cast<int64_t>(paths.size());
  std::vector<ChannelPath> all;
  all.reserve(paths.size());
  for (const auto& [key, n] : paths) {
    all.push_back({key.first, key.second, n, Kpis::Share(n, r.profiles)});
  }
  std::sort(all.begin(), all.end(), [](const ChannelPath& a, const ChannelPath& b) {
    if (a.profiles != b.profiles) return a.profiles > b.profiles;
    return a.ToString() < b.ToString();
  });
  if (all.size() > options.top) all.resize(options.top);
  r.top = std::move(all);
  return r;
}

const char* ModelName(Model model) {
  switch (model) {
    case Model::kFirstTouch:
      return "first_touch";
    case Model::kLastTouch:
      return "last_touch";
    case Model::kLinear:
      return "linear";
    case Model::kTimeDecay:
      return "time_decay";
    case Model::kPositionBased:
      return "position_based";
    case Model::kMarkov:
      return "markov";
  }
  return "unknown";
}

absl::StatusOr<Attribution> Attribute(const Profiles& profiles, const JourneyDefinition& journey,
                                      const AttributionOptions& options) {
  if (absl::Status s = ValidateJourney(journey); !s.ok()) return s;
  Attribution a;
  a.journey = journey.name();
  absl::flat_hash_set<std::string> goals;
  for (const v1::State& st : journey.states()) {
    if (st.kind() == v1::State::STATE_KIND_GOAL) goals.insert(st.name());
  }
  for (Model m : kModels) a.credit[m];
  struct Path {
    std::vector<Touch> touches;
    absl::Time conversion;
    bool converted;
  };
  std::vector<Path> paths;
  for (const ProfileSnapshot& p : profiles) {
    std::vector<absl::Time> conversions;
    for (const JourneyTrace& t : p.journeys) {
      if (t.journey != journey.name()) continue;
      for (const JourneyTrace::Step& s : t.steps) {
        if (goals.contains(s.to)) {
          conversions.push_back(s.time);
          break;
        }
      }
    }
    std::sort(conversions.begin(), conversions.end());
    a.conversions += static_cast<int64_t>(conversions.size());
    const std::vector<Touch> touches = TouchesOf(p, options.touches);
    absl::Time prev = absl::InfinitePast();
    for (absl::Time c : conversions) {
      Path path{{}, c, true};
      for (const Touch& t : touches) {
        if (t.time > prev && t.time <= c && t.time >= c - options.lookback) path.touches.push_back(t);
      }
      prev = c;
      if (!path.touches.empty()) paths.push_back(std::move(path));
    }
    Path rest{{}, absl::InfinitePast(), false};
    for (const Touch& t : touches) {
      if (t.time > prev) rest.touches.push_back(t);
    }
    if (!rest.touches.empty()) {
      const absl::Time from = rest.touches.back().time - options.lookback;
      rest.touches.erase(std::remove_if(rest.touches.begin(), rest.touches.end(),
                                        [&](const Touch& t) { return t.time < from; }),
                         rest.touches.end());
      paths.push_back(std::move(rest));
    }
  }
  std::set<v1::Channel> channels;
  for (const Path& p : paths) {
    for (const Touch& t : p.touches) channels.insert(t.channel);
  }
  a.channels.assign(channels.begin(), channels.end());
  Chain chain(a.channels);
  const double ln2 = std::log(2.0);
  const double half_life = absl::ToDoubleSeconds(options.half_life);
  for (const Path& p : paths) {
    chain.AddPath(Collapse(p.touches), p.converted);
    if (!p.converted) {
      ++a.null_paths;
      continue;
    }
    ++a.converting_paths;
    const size_t n = p.touches.size();
    a.credit[Model::kFirstTouch][p.touches.front().channel] += 1;
    a.credit[Model::kLastTouch][p.touches.back().channel] += 1;
    std::vector<double> decay(n);
    double decay_sum = 0;
    for (size_t i = 0; i < n; ++i) {
      a.credit[Model::kLinear][p.touches[i].channel] += 1.0 / static_cast<double>(n);
      const double age = absl::ToDoubleSeconds(p.conversion - p.touches[i].time);
      decay[i] = half_life > 0 ? std::exp(-ln2 * age / half_life) : (i + 1 == n ? 1.0 : 0.0);
      decay_sum += decay[i];
    }
    for (size_t i = 0; i < n; ++i) {
      a.credit[Model::kTimeDecay][p.touches[i].channel] += decay_sum > 0 ? decay[i] / decay_sum : 1.0 / static_cast<double>(n);
    }
    auto& position = a.credit[Model::kPositionBased];
    if (n == 1) {
      position[p.touches[0].channel] += 1;
    } else if (n == 2) {
      const double total = options.position_first + options.position_last;
      position[p.touches[0].channel] += total > 0 ? options.position_first / total : 0.5;
      position[p.touches[1].channel] += total > 0 ? options.position_last / total : 0.5;
    } else {
      position[p.touches.front().channel] += options.position_first;
      position[p.touches.back().channel] += options.position_last;
      const double middle = (1.0 - options.position_first - options.position_last) / static_cast<double>(n - 2);
      for (size_t i = 1; i + 1 < n; ++i) position[p.touches[i].channel] += middle;
    }
  }
  a.conversion_probability = chain.ConversionProbability(std::nullopt);
  double total_effect = 0;
  for (size_t i = 0; i < a.channels.size(); ++i) {
    const double without = chain.ConversionProbability(i);
    const double effect = a.conversion_probability > 0 ? 1.0 - without / a.conversion_probability : 0.0;
    a.removal_effect[a.channels[i]] = effect;
    total_effect += effect;
  }
  for (v1::Channel c : a.channels) {
    a.credit[Model::kMarkov][c] =
        total_effect > 0 ? static_cast<double>(a.converting_paths) * a.removal_effect[c] / total_effect : 0.0;
  }
  return a;
}

std::optional<bool> ContactMonitor::Observe(const Engine& engine, const Event& event, const IngestResult& result) {
  if (result.duplicate || result.profile == 0) return std::nullopt;
  TimelineEntry probe;
  probe.kind = event.kind();
  probe.direction = event.direction();
  if (!IsInboundContact(probe)) return std::nullopt;
  absl::StatusOr<CustomerContext> ctx = engine.Context(result.profile);
  if (!ctx.ok()) return std::nullopt;
  const absl::Time t = FromTimestamp(event.occurred_at());
  bool history = false;
  for (const TimelineEntry& e : ctx->recent) {
    if (e.source == event.source() && e.event_id == event.event_id()) continue;
    if (e.time > t) continue;
    if (!event.conversation_id().empty() && e.conversation_id == event.conversation_id()) {
      return std::nullopt;  // A later message of a contact already counted.
    }
    if (e.channel != event.channel() && e.channel != v1::CHANNEL_UNSPECIFIED && e.channel != v1::CHANNEL_SERVER) {
      history = true;
    }
  }
  ++contacts_;
  if (history) ++with_history_;
  return history;
}

Kpis ComputeKpis(const Profiles& profiles, const KpiOptions& options, const ContactMonitor* monitor) {
  Kpis k;
  const absl::Time as_of = options.as_of == absl::InfinitePast() ? LatestTime(profiles) : options.as_of;
  for (const ProfileSnapshot& p : profiles) {
    ++k.profiles;
    const std::vector<absl::Time> starts = ContactStarts(p);
    for (size_t i = 0; i < starts.size(); ++i) {
      const absl::Time t = starts[i];
      ++k.contacts;
      const std::optional<absl::Duration> gap_before =
          i > 0 ? std::optional<absl::Duration>(t - starts[i - 1]) : std::nullopt;
      if (gap_before && *gap_before <= options.repeat_short) ++k.repeat_short;
      if (gap_before && *gap_before <= options.repeat_long) ++k.repeat_long;
      const bool first = !gap_before || *gap_before > options.resolution_window;
      if (!first || as_of - t < options.resolution_window) continue;  // Too recent to judge.
      ++k.first_contacts;
      if (i + 1 == starts.size() || starts[i + 1] - t > options.resolution_window) ++k.resolved_at_first_contact;
    }
  }
  if (monitor != nullptr) {
    k.observed_contacts = monitor->contacts();
    k.contacts_with_history = monitor->with_history();
  }
  return k;
}

}  // namespace omnijourney::analytics
