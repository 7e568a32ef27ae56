// One-pass builders behind the analyses of include/omnijourney/analytics.h: each reads profiles one
// at a time (Add) and keeps only what its result needs, so an analysis over Engine::ForEachProfile
// holds one profile at a time, not all of them.
#ifndef OMNIJOURNEY_SRC_ANALYTICS_ACCUMULATORS_H_
#define OMNIJOURNEY_SRC_ANALYTICS_ACCUMULATORS_H_

#include <array>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "omnijourney/analysis.h"
#include "omnijourney/analytics.h"

namespace omnijourney::analytics::detail {

struct Touch {
  absl::Time time;
  v1::Channel channel;
};

// The profile's touches, oldest first (a conversation counts at its first touch).
std::vector<Touch> TouchesOf(const ProfileSnapshot& p, const TouchOptions& options);
// Consecutive repeats collapsed.
std::vector<v1::Channel> Collapse(const std::vector<Touch>& touches);

// Inbound contacts of a profile (a conversation counts once, at its first event), oldest first, with
// what the KPIs read of them.
struct ContactFact {
  size_t entry = 0;  // Index of the contact's first entry in the timeline.
  absl::Time time;
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  bool repeat_short = false;
  bool repeat_long = false;
  bool first = false;     // No contact within resolution_window before it.
  bool judged = false;    // A first contact at least resolution_window before as_of.
  bool resolved = false;  // Judged and no contact within resolution_window after it.
};
std::vector<ContactFact> ContactsOf(const ProfileSnapshot& p, const KpiOptions& options, absl::Time as_of);

// What the analysis reads of one contact.
struct ContactView {
  const ContactFact* fact = nullptr;
  const TimelineEntry* entry = nullptr;
  std::string agent, team;
  std::optional<double> wait, handle;
  bool abandoned = false;
  bool complaint = false;
  bool history = false;
  std::optional<bool> observed;
  int contacts_in_window = 0;     // This one and those within repeat_long before it.
  std::optional<bool> switched;   // Channel differs from the previous contact within repeat_long.
  std::vector<std::pair<std::string_view, std::string_view>> states;  // (journey, state) at the time.
};

// A feedback answer and the contact it follows (nullptr: none).
struct FeedbackView {
  const TimelineEntry* entry = nullptr;
  std::string survey;
  double score = 0;
  bool good = false;
  bool bad = false;
  const ContactView* contact = nullptr;
};

// Receives every profile the analysis reads, with its contacts and answers as the analysis saw
// them (the CSV exports).
class TableSink {
 public:
  virtual ~TableSink() = default;
  virtual void Add(const ProfileSnapshot& p, const std::vector<ContactView>& contacts,
                   const std::vector<FeedbackView>& feedback) = 0;
};

// InvalidArgument naming the first bad option.
absl::Status CheckAnalysisOptions(const AnalysisOptions& options);
// Analyze, with every profile also handed to `sink` (when not null).
absl::StatusOr<Analysis> AnalyzeInto(const Engine& engine, const AnalysisOptions& options,
                                     const ContactMonitor* monitor, TableSink* sink);

// Up to `limit` distinct profiles, in the order offered; true when `p` was added.
bool AddExample(std::vector<ProfileRef>& examples, size_t limit, const ProfileSnapshot& p);

class FunnelAccumulator {
 public:
  // `journey` must be valid (ValidateJourney).
  FunnelAccumulator(const JourneyDefinition& journey, absl::Time as_of, const FunnelOptions& options);
  void Add(const ProfileSnapshot& p);
  JourneyFunnel Finish();
  // Whether the profiles added since the last call became an example.
  bool TakeReferenced() { return std::exchange(referenced_, false); }
  // Adds the examples held so far to `used`.
  void CollectExamples(std::set<ProfileRef>* used) const;

 private:
  bool referenced_ = false;
  bool IsGoal(size_t state) const { return funnel_.states[state].kind == v1::State::STATE_KIND_GOAL; }

  JourneyFunnel funnel_;
  absl::Time as_of_;
  FunnelOptions options_;
  std::map<std::string, size_t, std::less<>> state_index_;
  std::vector<DurationQuantiles> visits_;
  DurationQuantiles to_goal_;
  std::map<std::tuple<std::string, std::string, std::string>, std::pair<int64_t, DurationQuantiles>> transitions_;
};

class PathAccumulator {
 public:
  explicit PathAccumulator(const PathOptions& options) : options_(options) {}
  void Add(const ProfileSnapshot& p);
  ChannelPathReport Finish();
  bool TakeReferenced() { return std::exchange(referenced_, false); }
  // Forgets the examples of the paths with fewer profiles than the `keep`-th most common one (a
  // path collects examples anew from the next profiles on it) and adds the examples still held to
  // `used`: the pass keeps the timelines of a bounded number of profiles however many paths there are.
  void KeepExamplesOfLeading(size_t keep, std::set<ProfileRef>* used);

 private:
  bool referenced_ = false;
  PathOptions options_;
  ChannelPathReport report_;
  struct PathCount {
    int64_t profiles = 0;
    std::vector<ProfileRef> examples;
  };
  std::map<std::pair<std::vector<v1::Channel>, bool>, PathCount> paths_;
  std::map<std::tuple<size_t, v1::Channel, v1::Channel>, int64_t> flows_;
};

class AttributionAccumulator {
 public:
  AttributionAccumulator(const JourneyDefinition& journey, const AttributionOptions& options);
  void Add(const ProfileSnapshot& p);
  Attribution Finish();

 private:
  static constexpr size_t kChannels = v1::Channel_ARRAYSIZE;
  void AddPath(const std::vector<Touch>& touches, absl::Time conversion, bool converted);

  AttributionOptions options_;
  Attribution result_;
  absl::flat_hash_set<std::string> goals_;
  std::array<bool, kChannels> seen_{};
  // The Markov chain's counts: start -> channel, channel -> channel, channel -> conversion | null.
  std::array<int64_t, kChannels> start_{}, conv_{}, null_{}, out_{};
  std::array<std::array<int64_t, kChannels>, kChannels> counts_{};
  int64_t starts_ = 0;
};

}  // namespace omnijourney::analytics::detail

#endif  // OMNIJOURNEY_SRC_ANALYTICS_ACCUMULATORS_H_
