// Journey analytics over an engine's profiles: funnels, time in state, channel paths and switches,
// attribution of goal conversions to channels, and omnichannel KPIs.
//
// Every function reads a vector of ProfileSnapshot (CollectProfiles(engine), or profiles built by
// hand in tests), so the same numbers can be computed for any grouping of the events: the engine's
// stitched profiles, or the true customers of a synthetic population.
//
// Example:
//   auto profiles = omnijourney::analytics::CollectProfiles(*engine);
//   auto funnel = omnijourney::analytics::Funnel(*profiles, journey_definition);
//   auto credit = omnijourney::analytics::Attribute(*profiles, journey_definition);
//   auto kpis = omnijourney::analytics::ComputeKpis(*profiles, {}, &monitor);
#ifndef OMNIJOURNEY_ANALYTICS_H_
#define OMNIJOURNEY_ANALYTICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "omnijourney/engine.h"
#include "omnijourney/journey.h"

namespace omnijourney::analytics {

using Profiles = std::vector<ProfileSnapshot>;

// A profile an analysis points at (drill-down from a funnel state, a path, a root cause).
struct ProfileRef {
  std::string tenant;
  ProfileId profile = 0;
  auto operator<=>(const ProfileRef&) const = default;
};

// Every profile of the engine (Engine::ForEachProfile), in profile id order.
absl::StatusOr<Profiles> CollectProfiles(const Engine& engine);

// The latest timeline entry time of all profiles (InfinitePast when there is none): the default
// "now" of the analyses.
absl::Time LatestTime(const Profiles& profiles);

// Median and 90th percentile (nearest rank) of a set of durations.
struct DurationStats {
  int64_t count = 0;
  absl::Duration median;
  absl::Duration p90;
};
DurationStats Summarize(std::vector<absl::Duration> durations);

// Quantiles of durations in memory bounded by the spread of the values, not their number: exact
// (nearest rank, microseconds) up to kExact values; beyond that a histogram whose buckets are exact
// below 256 us and 1/128 apart on a log scale above (a quantile is off by at most 0.4%). Negative
// durations count as zero. Two of them merge into the quantiles of both sets.
class DurationQuantiles {
 public:
  static constexpr size_t kExact = 256;
  void Add(absl::Duration d);
  void Merge(const DurationQuantiles& other);
  int64_t count() const { return count_; }
  // The nearest-rank quantile q in (0, 1]; zero when empty.
  absl::Duration Quantile(double q) const;
  DurationStats Stats() const { return {count_, Quantile(0.5), Quantile(0.9)}; }
  // Bytes held (for the memory bound's tests and benchmarks).
  size_t MemoryBytes() const {
    return exact_.capacity() * sizeof(int64_t) + buckets_.capacity() * sizeof(buckets_[0]);
  }

 private:
  void Spill();
  void AddToBucket(int32_t bucket, int64_t n);
  std::vector<int64_t> exact_;  // Microseconds, while count_ <= kExact.
  // (bucket index, values) sorted by index, once spilled.
  std::vector<std::pair<int32_t, int64_t>> buckets_;
  int64_t count_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Funnels

struct FunnelOptions {
  // The time of the analysis; InfinitePast: LatestTime(profiles).
  absl::Time as_of = absl::InfinitePast();
  // A running instance without a step for this long counts as dropped, not active.
  absl::Duration drop_after = absl::Hours(24 * 30);
  // Only instances started in [from, to) count.
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
  size_t examples = 5;  // StateStats::examples kept per state.
};

struct StateStats {
  std::string state;
  v1::State::Kind kind = v1::State::STATE_KIND_NORMAL;
  int64_t reached = 0;         // Instances that entered the state at least once.
  DurationStats time_in_state;  // Completed visits only (entered and left); empty for terminal states.
  int64_t current = 0;          // Running instances in the state now (active and dropped).
  // Instances whose last state this is and that never reached a goal: exited here, or dropped
  // here (running, no step for FunnelOptions::drop_after).
  int64_t ended_here = 0;
  std::vector<ProfileRef> examples;  // The first profiles (in the order read) that reached it.
};

struct TransitionCount {
  std::string from;
  std::string to;
  std::string transition;  // "entry" for the first state, "timeout"-style names as defined, ...
  int64_t count = 0;
  // From entering `from` to taking this transition (empty for entries).
  DurationStats time;
};

struct JourneyFunnel {
  std::string journey;
  int64_t entered = 0;    // Instances (of any version).
  int64_t converted = 0;  // Reached a goal state.
  int64_t exited = 0;     // Ended in an exit state (or restarted by re-entry) without a goal.
  int64_t dropped = 0;    // Running, but no step for FunnelOptions::drop_after.
  int64_t active = 0;     // Running, with a recent step.
  std::vector<StateStats> states;  // In definition order.
  DurationStats time_to_goal;      // From entry to the goal state, converted instances.
  std::vector<TransitionCount> transitions;  // Most frequent first (ties by from, to).
  double conversion_rate() const { return entered == 0 ? 0 : static_cast<double>(converted) / entered; }
};

// The funnel of `journey` (instances of every version are counted; states are matched by name).
// InvalidArgument when the definition is not valid.
absl::StatusOr<JourneyFunnel> Funnel(const Profiles& profiles, const JourneyDefinition& journey,
                                     const FunnelOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Touches, channel paths and switches

// A touch is a timeline entry the customer took part in on a customer-facing channel: channel set
// and not SERVER, direction inbound or unspecified (page views), or outbound when
// TouchOptions::include_outbound. Entries of one conversation after its first count once.
struct TouchOptions {
  bool include_outbound = false;
};
bool IsTouch(const TimelineEntry& entry, const TouchOptions& options = {});

struct PathOptions {
  TouchOptions touches;
  size_t max_length = 6;  // Longer paths keep their first max_length channels and are marked truncated.
  size_t top = 10;        // How many paths ChannelPaths::top lists.
  size_t examples = 5;    // ChannelPath::examples kept per listed path.
  // Only touches in [from, to) make up the paths (and the switches and first touches).
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
};

// Profiles going from one step of their (collapsed, truncated) path to the next: step 0 is the
// first channel; `to` CHANNEL_UNSPECIFIED means the path ends there (drop-off).
struct PathFlow {
  size_t step = 0;
  v1::Channel from = v1::CHANNEL_UNSPECIFIED;
  v1::Channel to = v1::CHANNEL_UNSPECIFIED;
  int64_t profiles = 0;
};

struct ChannelPath {
  std::vector<v1::Channel> channels;  // Consecutive repeats collapsed: web, web, chat -> web > chat.
  bool truncated = false;
  int64_t profiles = 0;
  double share = 0;  // Of the profiles with at least one touch.
  // Profiles on this path, the first read; in a long analysis (Analyze) a path that was not among
  // the leading ones for a while may show later ones instead (its early examples were let go), and
  // a listed path whose count ties with many unlisted ones may show none.
  std::vector<ProfileRef> examples;
  std::string ToString() const;  // "ads > web > chat > store", "... >" appended when truncated.
};

struct ChannelPathReport {
  int64_t profiles = 0;  // With at least one touch.
  int64_t distinct_paths = 0;
  std::vector<ChannelPath> top;  // Most frequent first (ties by path text).
  // Consecutive touches of a profile, from -> to, repeats on the diagonal.
  std::map<std::pair<v1::Channel, v1::Channel>, int64_t> switches;
  int64_t transitions = 0;        // Pairs of consecutive touches.
  int64_t channel_switches = 0;   // Of those, pairs on different channels.
  int64_t multichannel_profiles = 0;  // Profiles with touches on two or more channels.
  // Every step-to-step flow of every path (not only the top ones), by step, from, to.
  std::vector<PathFlow> flows;
  std::map<v1::Channel, int64_t> first_touches;  // Profiles whose path starts on the channel.
};

ChannelPathReport ChannelPaths(const Profiles& profiles, const PathOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Attribution

enum class Model { kFirstTouch, kLastTouch, kLinear, kTimeDecay, kPositionBased, kMarkov };
constexpr std::array<Model, 6> kModels = {Model::kFirstTouch, Model::kLastTouch,    Model::kLinear,
                                          Model::kTimeDecay,  Model::kPositionBased, Model::kMarkov};
const char* ModelName(Model model);  // "first_touch", ..., "markov".

struct AttributionOptions {
  TouchOptions touches;
  // Touches older than this before a conversion are not credited (and touches before the profile's
  // previous conversion of the journey never are).
  absl::Duration lookback = absl::Hours(24 * 30);
  absl::Duration half_life = absl::Hours(24 * 7);  // Time decay: a touch this old weighs half.
  double position_first = 0.4;  // Position based: first and last touch; the rest share the middle.
  double position_last = 0.4;
  // Only conversions in [from, to) are credited (their touches may be older, within lookback), and
  // a sequence that did not convert counts when its last touch before `to` is at or after `from`;
  // touches and conversions from `to` on are not read.
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
};

struct Attribution {
  std::string journey;
  int64_t conversions = 0;      // Goal states reached.
  int64_t converting_paths = 0;  // Conversions with at least one touch in the lookback.
  int64_t null_paths = 0;        // Touch sequences that did not convert (for the Markov model).
  std::vector<v1::Channel> channels;  // Channels with any touch, in enum order.
  // credit[model][channel]: conversions credited; each converting path hands out 1 per model.
  std::map<Model, std::map<v1::Channel, double>> credit;
  // Markov: the conversion probability of the whole graph and each channel's removal effect
  // (1 - probability without the channel / probability).
  double conversion_probability = 0;
  std::map<v1::Channel, double> removal_effect;
};

// Credits the goal conversions of `journey` to channels. A converting path is the profile's touches
// within the lookback before the goal was reached (after its previous conversion); a null path is a
// profile's touches after its last conversion (all of them if it never converted), within the
// lookback before its last touch. Markov: a first-order chain start -> channels -> conversion | null
// over all paths, each channel's removal effect normalised to the conversions.
// InvalidArgument when the definition is not valid. Goal states are matched by name in every version.
absl::StatusOr<Attribution> Attribute(const Profiles& profiles, const JourneyDefinition& journey,
                                      const AttributionOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Omnichannel KPIs

// Watches contacts as they are ingested: after Engine::Ingest of an inbound contact (the first event
// of its conversation), reads the profile's context and records whether the agent sees earlier
// entries from another channel among the context's recent entries. It remembers the answer per
// contact (16 bytes each), so an Analysis can break it down by period, channel, team and agent.
class ContactMonitor {
 public:
  // Returns nullopt when the event is not a new inbound contact (or the ingest failed), else whether
  // earlier cross-channel history was available.
  std::optional<bool> Observe(const Engine& engine, const Event& event, const IngestResult& result);
  int64_t contacts() const { return contacts_; }
  int64_t with_history() const { return with_history_; }
  // What Observe returned for the contact event (tenant, source, event_id); nullopt when it was not
  // observed.
  std::optional<bool> Lookup(std::string_view tenant, std::string_view source, std::string_view event_id) const;

 private:
  static uint64_t Key(std::string_view tenant, std::string_view source, std::string_view event_id);
  int64_t contacts_ = 0;
  int64_t with_history_ = 0;
  absl::flat_hash_map<uint64_t, bool> seen_;
};

struct KpiOptions {
  absl::Duration repeat_short = absl::Hours(24);
  absl::Duration repeat_long = absl::Hours(24 * 7);
  // A contact with no contact in this window before it is a first contact; it was resolved at first
  // contact when no contact follows within this window either.
  // First contacts later than as_of - resolution_window are not judged (too recent to know).
  absl::Duration resolution_window = absl::Hours(24 * 7);
  absl::Time as_of = absl::InfinitePast();  // InfinitePast: LatestTime(profiles).
};

struct Kpis {
  int64_t profiles = 0;
  int64_t contacts = 0;  // Inbound contacts; a conversation counts once.
  // From a ContactMonitor (contacts as they arrived, before later merges); -1 when none was given.
  int64_t observed_contacts = -1;
  int64_t contacts_with_history = -1;
  int64_t repeat_short = 0;  // Contacts with another contact of the profile within repeat_short before.
  int64_t repeat_long = 0;
  int64_t first_contacts = 0;  // Judged first contacts (see KpiOptions::resolution_window).
  int64_t resolved_at_first_contact = 0;

  static double Share(int64_t part, int64_t whole) { return whole <= 0 ? 0 : static_cast<double>(part) / whole; }
  double history_rate() const { return Share(contacts_with_history, observed_contacts); }
  double repeat_short_rate() const { return Share(repeat_short, contacts); }
  double repeat_long_rate() const { return Share(repeat_long, contacts); }
  double first_contact_resolution() const { return Share(resolved_at_first_contact, first_contacts); }
};

Kpis ComputeKpis(const Profiles& profiles, const KpiOptions& options = {},
                 const ContactMonitor* monitor = nullptr);

}  // namespace omnijourney::analytics

#endif  // OMNIJOURNEY_ANALYTICS_H_
