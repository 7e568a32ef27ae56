// Journey analytics: see include/omnijourney/analytics.h and src/analytics/accumulators.h.
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
#include "analytics/accumulators.h"
#include "common/stable_hash.h"
#include "common/status_macros.h"
#include "timeline/contact_facts.h"

namespace omnijourney::analytics {
namespace {

using ::omnijourney::internal::IsInboundContact;

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

}  // namespace

namespace detail {

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

std::vector<v1::Channel> Collapse(const std::vector<Touch>& touches) {
  std::vector<v1::Channel> out;
  for (const Touch& t : touches) {
    if (out.empty() || out.back() != t.channel) out.push_back(t.channel);
  }
  return out;
}

std::vector<ContactFact> ContactsOf(const ProfileSnapshot& p, const KpiOptions& options, absl::Time as_of) {
  std::vector<ContactFact> out;
  absl::flat_hash_set<std::string_view> conversations;
  for (size_t i = 0; i < p.timeline.size(); ++i) {
    const TimelineEntry& e = p.timeline[i];
    if (!IsInboundContact(e)) continue;
    if (!e.conversation_id.empty() && !conversations.insert(e.conversation_id).second) continue;
    ContactFact c;
    c.entry = i;
    c.time = e.time;
    c.channel = e.channel;
    out.push_back(c);
  }
  std::stable_sort(out.begin(), out.end(), [](const ContactFact& a, const ContactFact& b) { return a.time < b.time; });
  for (size_t i = 0; i < out.size(); ++i) {
    ContactFact& c = out[i];
    const std::optional<absl::Duration> gap_before =
        i > 0 ? std::optional<absl::Duration>(c.time - out[i - 1].time) : std::nullopt;
    c.repeat_short = gap_before && *gap_before <= options.repeat_short;
    c.repeat_long = gap_before && *gap_before <= options.repeat_long;
    c.first = !gap_before || *gap_before > options.resolution_window;
    c.judged = c.first && as_of - c.time >= options.resolution_window;
    c.resolved = c.judged && (i + 1 == out.size() || out[i + 1].time - c.time > options.resolution_window);
  }
  return out;
}

bool AddExample(std::vector<ProfileRef>& examples, size_t limit, const ProfileSnapshot& p) {
  if (examples.size() >= limit) return false;
  for (const ProfileRef& r : examples) {
    if (r.profile == p.profile && r.tenant == p.tenant) return false;
  }
  examples.push_back({p.tenant, p.profile});
  return true;
}

FunnelAccumulator::FunnelAccumulator(const JourneyDefinition& journey, absl::Time as_of, const FunnelOptions& options)
    : as_of_(as_of), options_(options) {
  funnel_.journey = journey.name();
  for (const v1::State& st : journey.states()) {
    state_index_[st.name()] = funnel_.states.size();
    StateStats s;
    s.state = st.name();
    s.kind = st.kind();
    funnel_.states.push_back(std::move(s));
  }
  visits_.resize(funnel_.states.size());
}

void FunnelAccumulator::Add(const ProfileSnapshot& p) {
  for (const JourneyTrace& t : p.journeys) {
    if (t.journey != funnel_.journey) continue;
    if (t.started < options_.from || t.started >= options_.to) continue;
    ++funnel_.entered;
    std::set<size_t> reached;
    std::optional<absl::Time> goal_at;
    std::optional<size_t> last_state;
    for (size_t i = 0; i < t.steps.size(); ++i) {
      const JourneyTrace::Step& s = t.steps[i];
      auto& [count, times] = transitions_[{s.from, s.to, s.transition}];
      ++count;
      if (i > 0 && !s.from.empty()) times.Add(s.time - t.steps[i - 1].time);
      auto it = state_index_.find(s.to);
      last_state = it == state_index_.end() ? std::nullopt : std::optional<size_t>(it->second);
      if (!last_state) continue;  // A restart ("") or a state of another version.
      reached.insert(*last_state);
      if (i + 1 < t.steps.size()) visits_[*last_state].Add(t.steps[i + 1].time - s.time);
      if (!goal_at && IsGoal(*last_state)) goal_at = s.time;
    }
    for (size_t r : reached) {
      ++funnel_.states[r].reached;
      referenced_ = AddExample(funnel_.states[r].examples, options_.examples, p) || referenced_;
    }
    const bool running = !t.ended;
    if (running && last_state) ++funnel_.states[*last_state].current;
    if (goal_at) {
      ++funnel_.converted;
      to_goal_.Add(*goal_at - t.started);
      continue;
    }
    if (t.ended) {
      ++funnel_.exited;
    } else {
      const absl::Time last = t.steps.empty() ? t.started : t.steps.back().time;
      const bool dropped = as_of_ - last > options_.drop_after;
      ++(dropped ? funnel_.dropped : funnel_.active);
      if (!dropped) continue;
    }
    if (last_state) ++funnel_.states[*last_state].ended_here;
  }
}

JourneyFunnel FunnelAccumulator::Finish() {
  for (size_t i = 0; i < funnel_.states.size(); ++i) funnel_.states[i].time_in_state = visits_[i].Stats();
  funnel_.time_to_goal = to_goal_.Stats();
  for (const auto& [key, value] : transitions_) {
    funnel_.transitions.push_back(
        {std::get<0>(key), std::get<1>(key), std::get<2>(key), value.first, value.second.Stats()});
  }
  std::stable_sort(funnel_.transitions.begin(), funnel_.transitions.end(),
                   [](const TransitionCount& a, const TransitionCount& b) { return a.count > b.count; });
  return std::move(funnel_);
}

void FunnelAccumulator::CollectExamples(std::set<ProfileRef>* used) const {
  for (const StateStats& s : funnel_.states) used->insert(s.examples.begin(), s.examples.end());
}

void PathAccumulator::KeepExamplesOfLeading(size_t keep, std::set<ProfileRef>* used) {
  std::vector<PathCount*> order;
  order.reserve(paths_.size());
  for (auto& [key, n] : paths_) order.push_back(&n);
  // Exactly `keep` paths lead: the most common, ties by the order of the paths.
  if (order.size() > keep) {
    std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                     [](const PathCount* a, const PathCount* b) {
                       return a->profiles != b->profiles ? a->profiles > b->profiles : std::less<const PathCount*>()(a, b);
                     });
    for (size_t i = keep; i < order.size(); ++i) order[i]->examples.clear();
    order.resize(keep);
  }
  for (const PathCount* n : order) used->insert(n->examples.begin(), n->examples.end());
}

void PathAccumulator::Add(const ProfileSnapshot& p) {
  std::vector<Touch> touches = TouchesOf(p, options_.touches);
  std::erase_if(touches, [&](const Touch& t) { return t.time < options_.from || t.time >= options_.to; });
  if (touches.empty()) return;
  ChannelPathReport& r = report_;
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
  const bool truncated = path.size() > options_.max_length;
  if (truncated) path.resize(options_.max_length);
  ++r.first_touches[path.front()];
  for (size_t i = 0; i < path.size(); ++i) {
    // A truncated path goes on past its last kept step: no drop-off there.
    if (i + 1 == path.size() && truncated) break;
    ++flows_[{i, path[i], i + 1 < path.size() ? path[i + 1] : v1::CHANNEL_UNSPECIFIED}];
  }
  PathCount& count = paths_[{std::move(path), truncated}];
  ++count.profiles;
  referenced_ = AddExample(count.examples, options_.examples, p) || referenced_;
}

ChannelPathReport PathAccumulator::Finish() {
  ChannelPathReport r = std::move(report_);
  r.distinct_paths = static_cast<int64_t>(paths_.size());
  std::vector<ChannelPath> all;
  all.reserve(paths_.size());
  for (auto& [key, n] : paths_) {
    all.push_back({key.first, key.second, n.profiles, Kpis::Share(n.profiles, r.profiles), std::move(n.examples)});
  }
  std::sort(all.begin(), all.end(), [](const ChannelPath& a, const ChannelPath& b) {
    if (a.profiles != b.profiles) return a.profiles > b.profiles;
    return a.ToString() < b.ToString();
  });
  if (all.size() > options_.top) all.resize(options_.top);
  r.top = std::move(all);
  for (const auto& [key, n] : flows_) r.flows.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), n});
  return r;
}

AttributionAccumulator::AttributionAccumulator(const JourneyDefinition& journey, const AttributionOptions& options)
    : options_(options) {
  result_.journey = journey.name();
  for (const v1::State& st : journey.states()) {
    if (st.kind() == v1::State::STATE_KIND_GOAL) goals_.insert(st.name());
  }
  for (Model m : kModels) result_.credit[m];
}

void AttributionAccumulator::Add(const ProfileSnapshot& p) {
  std::vector<absl::Time> conversions;
  for (const JourneyTrace& t : p.journeys) {
    if (t.journey != result_.journey) continue;
    for (const JourneyTrace::Step& s : t.steps) {
      if (goals_.contains(s.to)) {
        if (s.time < options_.to) conversions.push_back(s.time);
        break;
      }
    }
  }
  std::sort(conversions.begin(), conversions.end());
  std::vector<Touch> touches = TouchesOf(p, options_.touches);
  std::erase_if(touches, [&](const Touch& t) { return t.time >= options_.to; });
  absl::Time prev = absl::InfinitePast();
  std::vector<Touch> path;
  for (absl::Time c : conversions) {
    // A conversion before the period is not credited, but its touches are spent all the same.
    if (c >= options_.from) {
      ++result_.conversions;
      path.clear();
      for (const Touch& t : touches) {
        if (t.time > prev && t.time <= c && t.time >= c - options_.lookback) path.push_back(t);
      }
      AddPath(path, c, true);
    }
    prev = c;
  }
  path.clear();
  for (const Touch& t : touches) {
    if (t.time > prev) path.push_back(t);
  }
  if (path.empty() || path.back().time < options_.from) return;
  const absl::Time from = path.back().time - options_.lookback;
  path.erase(std::remove_if(path.begin(), path.end(), [&](const Touch& t) { return t.time < from; }), path.end());
  AddPath(path, absl::InfinitePast(), false);
}

void AttributionAccumulator::AddPath(const std::vector<Touch>& touches, absl::Time conversion, bool converted) {
  if (touches.empty()) return;
  for (const Touch& t : touches) seen_[t.channel] = true;
  const std::vector<v1::Channel> collapsed = Collapse(touches);
  ++start_[collapsed.front()];
  ++starts_;
  for (size_t i = 0; i + 1 < collapsed.size(); ++i) {
    ++counts_[collapsed[i]][collapsed[i + 1]];
    ++out_[collapsed[i]];
  }
  ++(converted ? conv_ : null_)[collapsed.back()];
  ++out_[collapsed.back()];
  if (!converted) {
    ++result_.null_paths;
    return;
  }
  ++result_.converting_paths;
  auto& credit = result_.credit;
  const size_t n = touches.size();
  credit[Model::kFirstTouch][touches.front().channel] += 1;
  credit[Model::kLastTouch][touches.back().channel] += 1;
  const double half_life = absl::ToDoubleSeconds(options_.half_life);
  std::vector<double> decay(n);
  double decay_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    credit[Model::kLinear][touches[i].channel] += 1.0 / static_cast<double>(n);
    const double age = absl::ToDoubleSeconds(conversion - touches[i].time);
    decay[i] = half_life > 0 ? std::exp(-std::log(2.0) * age / half_life) : (i + 1 == n ? 1.0 : 0.0);
    decay_sum += decay[i];
  }
  for (size_t i = 0; i < n; ++i) {
    credit[Model::kTimeDecay][touches[i].channel] += decay_sum > 0 ? decay[i] / decay_sum : 1.0 / static_cast<double>(n);
  }
  auto& position = credit[Model::kPositionBased];
  if (n == 1) {
    position[touches[0].channel] += 1;
  } else if (n == 2) {
    const double total = options_.position_first + options_.position_last;
    position[touches[0].channel] += total > 0 ? options_.position_first / total : 0.5;
    position[touches[1].channel] += total > 0 ? options_.position_last / total : 0.5;
  } else {
    position[touches.front().channel] += options_.position_first;
    position[touches.back().channel] += options_.position_last;
    const double middle = (1.0 - options_.position_first - options_.position_last) / static_cast<double>(n - 2);
    for (size_t i = 1; i + 1 < n; ++i) position[touches[i].channel] += middle;
  }
}

Attribution AttributionAccumulator::Finish() {
  Attribution a = std::move(result_);
  for (size_t c = 0; c < kChannels; ++c) {
    if (seen_[c]) a.channels.push_back(static_cast<v1::Channel>(c));
  }
  const size_t n = a.channels.size();
  // Probability that a path from the start converts; `removed` (an index into a.channels) leads to
  // null instead.
  const auto probability = [&](std::optional<size_t> removed) {
    if (n == 0 || starts_ == 0) return 0.0;
    std::vector<double> m(n * n, 0.0);
    std::vector<double> b(n, 0.0);
    for (size_t i = 0; i < n; ++i) {
      m[i * n + i] = 1;
      if (removed && *removed == i) continue;  // x_i = 0.
      const size_t ci = a.channels[i];
      const double out = static_cast<double>(out_[ci]);
      if (out == 0) continue;
      for (size_t j = 0; j < n; ++j) {
        const int64_t k = counts_[ci][a.channels[j]];
        if (k != 0) m[i * n + j] -= static_cast<double>(k) / out;
      }
      b[i] = static_cast<double>(conv_[ci]) / out;
    }
    const std::vector<double> x = Solve(std::move(m), std::move(b), n);
    double p = 0;
    for (size_t j = 0; j < n; ++j) {
      p += static_cast<double>(start_[a.channels[j]]) / static_cast<double>(starts_) * x[j];
    }
    return p;
  };
  a.conversion_probability = probability(std::nullopt);
  double total_effect = 0;
  for (size_t i = 0; i < n; ++i) {
    const double without = probability(i);
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

}  // namespace detail

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
  DurationQuantiles q;
  for (absl::Duration d : durations) q.Add(d);
  return q.Stats();
}

absl::StatusOr<JourneyFunnel> Funnel(const Profiles& profiles, const JourneyDefinition& journey,
                                     const FunnelOptions& options) {
  if (absl::Status s = ValidateJourney(journey); !s.ok()) return s;
  detail::FunnelAccumulator acc(
      journey, options.as_of == absl::InfinitePast() ? LatestTime(profiles) : options.as_of, options);
  for (const ProfileSnapshot& p : profiles) acc.Add(p);
  return acc.Finish();
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
  for (v1::Channel c : channels) absl::StrAppend(&out, out.empty() ? "" : " > ", ::omnijourney::internal::ToAbsl(ChannelName(c)));
  if (truncated) absl::StrAppend(&out, " > ...");
  return out;
}

ChannelPathReport ChannelPaths(const Profiles& profiles, const PathOptions& options) {
  detail::PathAccumulator acc(options);
  for (const ProfileSnapshot& p : profiles) acc.Add(p);
  return acc.Finish();
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
  detail::AttributionAccumulator acc(journey, options);
  for (const ProfileSnapshot& p : profiles) acc.Add(p);
  return acc.Finish();
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
  seen_[Key(event.tenant(), event.source(), event.event_id())] = history;
  return history;
}

uint64_t ContactMonitor::Key(std::string_view tenant, std::string_view source, std::string_view event_id) {
  uint64_t h = ::omnijourney::internal::FnvBytes(::omnijourney::internal::kFnvOffset, tenant);
  h = ::omnijourney::internal::FnvBytes(h ^ 0xff, source);
  return ::omnijourney::internal::StableMix(::omnijourney::internal::FnvBytes(h ^ 0xfe, event_id));
}

std::optional<bool> ContactMonitor::Lookup(std::string_view tenant, std::string_view source,
                                           std::string_view event_id) const {
  auto it = seen_.find(Key(tenant, source, event_id));
  if (it == seen_.end()) return std::nullopt;
  return it->second;
}

Kpis ComputeKpis(const Profiles& profiles, const KpiOptions& options, const ContactMonitor* monitor) {
  Kpis k;
  const absl::Time as_of = options.as_of == absl::InfinitePast() ? LatestTime(profiles) : options.as_of;
  for (const ProfileSnapshot& p : profiles) {
    ++k.profiles;
    for (const detail::ContactFact& c : detail::ContactsOf(p, options, as_of)) {
      ++k.contacts;
      k.repeat_short += c.repeat_short;
      k.repeat_long += c.repeat_long;
      k.first_contacts += c.judged;
      k.resolved_at_first_contact += c.resolved;
    }
  }
  if (monitor != nullptr) {
    k.observed_contacts = monitor->contacts();
    k.contacts_with_history = monitor->with_history();
  }
  return k;
}

}  // namespace omnijourney::analytics
