// The one-pass analysis: see include/omnijourney/analysis.h.
//
// Per profile: the funnels, paths and attribution accumulators read it; its contacts are found
// once (ContactsOf) and described (agent, team, wait, handle, complaint, journey states at the
// time); each contact and each feedback answer adds to the rows of its day; the root-cause
// counters add the features of each answer and contact. Days are summed into weeks, months and the
// total at the end. What is kept is the rows, the accumulators' counts and the examples.
#include "omnijourney/analysis.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "analytics/accumulators.h"
#include "common/status_macros.h"
#include "timeline/contact_facts.h"

namespace omnijourney::analytics {
namespace {

using detail::ContactFact;
using detail::ContactView;
using detail::FeedbackView;
using ::omnijourney::internal::ToAbsl;

constexpr char kNone[] = "(none)";

bool IsCustomerFacing(v1::Channel c) { return c != v1::CHANNEL_UNSPECIFIED && c != v1::CHANNEL_SERVER; }

bool ContainsIgnoreCase(std::string_view text, std::string_view word) {
  return absl::AsciiStrToLower(ToAbsl(text)).find(absl::AsciiStrToLower(ToAbsl(word))) != std::string::npos;
}

bool ContainsWord(std::string_view text, const std::vector<std::string>& words) {
  for (const std::string& w : words) {
    if (!w.empty() && !text.empty() && ContainsIgnoreCase(text, w)) return true;
  }
  return false;
}

// A journey instance's state at `t`: the last step at or before it; nullopt when the instance had
// not started or had ended before `t`.
std::optional<std::string_view> StateAt(const JourneyTrace& trace, absl::Time t) {
  if (trace.steps.empty() || trace.steps.front().time > t) return std::nullopt;
  const JourneyTrace::Step* last = nullptr;
  for (const JourneyTrace::Step& s : trace.steps) {
    if (s.time > t) break;
    last = &s;
  }
  if (last == nullptr || last->to.empty()) return std::nullopt;
  if (trace.ended && last == &trace.steps.back() && last->time < t) return std::nullopt;
  return std::string_view(last->to);
}

struct DayKey {
  Dimension dimension;
  std::string value;
  absl::CivilDay day;
  bool operator<(const DayKey& o) const {
    return std::tie(dimension, value, day) < std::tie(o.dimension, o.value, o.day);
  }
};

void MergeRow(KpiRow& to, const KpiRow& from) {
  to.contacts += from.contacts;
  to.repeat_short += from.repeat_short;
  to.repeat_long += from.repeat_long;
  to.first_contacts += from.first_contacts;
  to.resolved_first += from.resolved_first;
  to.history_in_profile += from.history_in_profile;
  if (from.observed_contacts >= 0) {
    to.observed_contacts = std::max<int64_t>(to.observed_contacts, 0) + from.observed_contacts;
    to.observed_with_history = std::max<int64_t>(to.observed_with_history, 0) + from.observed_with_history;
  }
  to.complaints += from.complaints;
  to.queued += from.queued;
  to.abandoned += from.abandoned;
  to.answered_within_sla += from.answered_within_sla;
  to.wait.Merge(from.wait);
  to.handle.Merge(from.handle);
  for (const auto& [survey, s] : from.feedback) {
    SurveyStats& t = to.feedback[survey];
    t.responses += s.responses;
    t.good += s.good;
    t.bad += s.bad;
    t.sum += s.sum;
  }
  to.entered += from.entered;
  to.converted += from.converted;
  to.time_to_goal.Merge(from.time_to_goal);
}

class Analyzer {
 public:
  Analyzer(const AnalysisOptions& options, absl::Time as_of, const ContactMonitor* monitor,
           detail::TableSink* sink = nullptr)
      : o_(options), as_of_(as_of), monitor_(monitor), sink_(sink), paths_(options.paths) {
    kpis_ = o_.kpis;
    kpis_.as_of = as_of;
    FunnelOptions f = o_.funnels;
    f.as_of = as_of;
    f.from = o_.from;
    f.to = o_.to;
    f.examples = o_.examples;
    o_.paths.examples = o_.examples;
    o_.paths.from = o_.from;
    o_.paths.to = o_.to;
    o_.attribution.from = o_.from;
    o_.attribution.to = o_.to;
    paths_ = detail::PathAccumulator(o_.paths);
    std::set<std::string> attributed(o_.attribution_journeys.begin(), o_.attribution_journeys.end());
    for (const JourneyDefinition& j : o_.journeys) {
      funnels_.emplace_back(j, as_of, f);
      journey_names_.insert(j.name());
      if (j.reporting().attribution() || attributed.contains(j.name())) attributions_.emplace_back(j, o_.attribution);
    }
    for (const FeedbackScale& s : o_.feedback.scales) scales_[absl::AsciiStrToLower(s.survey)] = s;
  }

  void Add(const ProfileSnapshot& p) {
    ++result_.tenant_profiles[p.tenant];
    if (o_.tenant && p.tenant != *o_.tenant) return;
    ++result_.profiles;
    result_.entries += static_cast<int64_t>(p.timeline.size());
    if (!p.timeline.empty()) {
      result_.first_event = std::min(result_.first_event, p.timeline.front().time);
      result_.last_event = std::max(result_.last_event, p.timeline.back().time);
    }
    referenced_ = false;
    for (auto& f : funnels_) {
      f.Add(p);
      referenced_ = f.TakeReferenced() || referenced_;
    }
    paths_.Add(p);
    referenced_ = paths_.TakeReferenced() || referenced_;
    for (auto& a : attributions_) a.Add(p);
    const std::vector<ContactFact> facts = detail::ContactsOf(p, kpis_, as_of_);
    std::vector<ContactView> contacts = Describe(p, facts);
    for (const ContactView& c : contacts) AddContact(p, c);
    AddComplaintCauses(p, contacts);
    const std::vector<FeedbackView> feedback = AddFeedback(p, contacts);
    if (sink_ != nullptr) sink_->Add(p, contacts, feedback);
    AddJourneys(p);
    if (referenced_) {
      Remember(p);
      if (result_.examples.size() >= next_prune_) PruneDuringPass();
    }
  }

  Analysis Finish() {
    Analysis& r = result_;
    r.as_of = as_of_;
    r.from = o_.from;
    r.to = o_.to;
    r.time_zone = o_.time_zone.name();
    r.tenant = o_.tenant;
    for (auto& f : funnels_) r.funnels.push_back(f.Finish());
    r.paths = paths_.Finish();
    for (auto& a : attributions_) r.attributions.push_back(a.Finish());
    // Days into weeks, months and the total.
    std::map<std::tuple<Period, Dimension, std::string, absl::CivilDay>, KpiRow> rows;
    std::optional<absl::CivilDay> first_day;
    for (const auto& [key, row] : days_) {
      if (!first_day || key.day < *first_day) first_day = key.day;
    }
    if (!first_day) first_day = absl::ToCivilDay(as_of_ == absl::InfinitePast() ? absl::UnixEpoch() : as_of_, o_.time_zone);
    for (const auto& [key, row] : days_) {
      const absl::CivilDay week = key.day - ((static_cast<int>(absl::GetWeekday(key.day)) + 7 -
                                              static_cast<int>(absl::Weekday::monday)) % 7);
      const absl::CivilDay month(absl::CivilMonth(key.day));
      for (const auto& [period, start] : {std::pair{Period::kTotal, *first_day}, std::pair{Period::kDay, key.day},
                                          std::pair{Period::kWeek, week}, std::pair{Period::kMonth, month}}) {
        KpiRow& to = rows[{period, key.dimension, key.value, start}];
        to.period = period;
        to.start = start;
        to.dimension = key.dimension;
        to.value = key.value;
        MergeRow(to, row);
      }
    }
    KpiRow& all = rows[{Period::kTotal, Dimension::kAll, "", *first_day}];
    all.period = Period::kTotal;
    all.start = *first_day;
    if (monitor_ != nullptr) {
      // Rows with contacts but no observed one say 0 observed, not "no monitor".
      for (auto& [key, row] : rows) {
        if (row.dimension != Dimension::kJourney && row.observed_contacts < 0) {
          row.observed_contacts = 0;
          row.observed_with_history = 0;
        }
      }
    }
    for (auto& [key, row] : rows) r.rows.push_back(std::move(row));
    const KpiRow* total = r.Row(Period::kTotal, Dimension::kAll);
    r.kpis.profiles = r.profiles;
    r.kpis.contacts = total->contacts;
    r.kpis.repeat_short = total->repeat_short;
    r.kpis.repeat_long = total->repeat_long;
    r.kpis.first_contacts = total->first_contacts;
    r.kpis.resolved_at_first_contact = total->resolved_first;
    r.kpis.observed_contacts = total->observed_contacts;
    r.kpis.contacts_with_history = total->observed_with_history;
    for (auto& [key, cause] : causes_) {
      if (cause.cases < o_.min_support) continue;
      const auto& base = bases_[cause.outcome];
      cause.base_cases = base.first;
      cause.base_outcomes = base.second;
      r.root_causes.push_back(std::move(cause));
    }
    std::stable_sort(r.root_causes.begin(), r.root_causes.end(), [](const RootCause& a, const RootCause& b) {
      if (a.outcome != b.outcome) return a.outcome < b.outcome;
      return a.lift() > b.lift();
    });
    PruneExamples();
    return std::move(result_);
  }

 private:
  // Example timelines are kept for at most this many profiles, and twice as many as the last
  // pruning kept (each pruning keeps the leading paths' examples and all the others').
  static constexpr size_t kExamplesBeforePruning = 4096;
  // Paths whose examples survive a pruning during the pass: the leading ones, these times as many
  // as the report lists.
  static constexpr size_t kLeadingPaths = 4;

  // Drops the timelines of examples of the paths that are not leading now (they collect new ones
  // if they come back), so that the pass's memory does not grow with the number of distinct paths.
  void PruneDuringPass() {
    std::set<ProfileRef> used;
    for (const auto& f : funnels_) f.CollectExamples(&used);
    paths_.KeepExamplesOfLeading(kLeadingPaths * o_.paths.top, &used);
    for (const auto& [key, cause] : causes_) used.insert(cause.examples.begin(), cause.examples.end());
    for (auto it = result_.examples.begin(); it != result_.examples.end();) {
      it = used.contains(it->first) ? std::next(it) : result_.examples.erase(it);
    }
    next_prune_ = std::max(kExamplesBeforePruning, 2 * result_.examples.size());
  }

  // Keeps the example profiles the result points at (paths outside the top ones had some too).
  void PruneExamples() {
    Analysis& r = result_;
    std::set<ProfileRef> used;
    for (const JourneyFunnel& f : r.funnels) {
      for (const StateStats& s : f.states) used.insert(s.examples.begin(), s.examples.end());
    }
    for (const ChannelPath& p : r.paths.top) used.insert(p.examples.begin(), p.examples.end());
    for (const RootCause& c : r.root_causes) used.insert(c.examples.begin(), c.examples.end());
    for (auto it = r.examples.begin(); it != r.examples.end();) {
      it = used.contains(it->first) ? std::next(it) : r.examples.erase(it);
    }
  }

  std::vector<ContactView> Describe(const ProfileSnapshot& p, const std::vector<ContactFact>& facts) {
    std::vector<ContactView> out(facts.size());
    std::map<std::string_view, size_t> by_conversation;
    for (size_t i = 0; i < facts.size(); ++i) {
      ContactView& c = out[i];
      c.fact = &facts[i];
      c.entry = &p.timeline[facts[i].entry];
      if (!c.entry->conversation_id.empty()) by_conversation[c.entry->conversation_id] = i;
      c.complaint = ContainsWord(c.entry->name, o_.feedback.complaint_words);
      for (const char* key : {"category", "reason", "topic", "subject"}) {
        c.complaint = c.complaint || ContainsWord(c.entry->Property(key), o_.feedback.complaint_words);
      }
      if (monitor_ != nullptr) c.observed = monitor_->Lookup(p.tenant, c.entry->source, c.entry->event_id);
    }
    const ContactCentreOptions& cc = o_.contact_centre;
    const auto read = [&](ContactView& c, const TimelineEntry& e) {
      if (c.agent.empty() && !e.agent_id.empty()) c.agent = e.agent_id;
      if (std::string_view t = e.Property(cc.team_property); !t.empty()) c.team = std::string(t);
      double v = 0;
      // Finite and not negative: "nan", "inf" or "-5" are no duration.
      if (absl::SimpleAtod(ToAbsl(e.Property(cc.wait_property)), &v) && std::isfinite(v) && v >= 0) c.wait = v;
      if (absl::SimpleAtod(ToAbsl(e.Property(cc.handle_property)), &v) && std::isfinite(v) && v >= 0) c.handle = v;
      if (std::string_view a = e.Property(cc.abandoned_property); !a.empty()) {
        c.abandoned = a == "true" || a == "1" || a == "yes";
      }
    };
    for (size_t i = 0; i < p.timeline.size(); ++i) {
      const TimelineEntry& e = p.timeline[i];
      if (e.conversation_id.empty()) continue;
      auto it = by_conversation.find(e.conversation_id);
      if (it != by_conversation.end()) read(out[it->second], e);
    }
    // Customer-facing channels of the entries before each entry (a bit per channel).
    std::vector<uint32_t> channels_before(p.timeline.size(), 0);
    for (size_t i = 1; i < p.timeline.size(); ++i) {
      const v1::Channel ch = p.timeline[i - 1].channel;
      channels_before[i] = channels_before[i - 1] | (IsCustomerFacing(ch) ? uint32_t{1} << ch : 0);
    }
    for (ContactView& c : out) {
      if (c.entry->conversation_id.empty()) read(c, *c.entry);
      if (auto t = o_.teams.find(c.agent); !c.agent.empty() && t != o_.teams.end()) c.team = t->second;
      if (c.agent.empty()) c.agent = kNone;
      if (c.team.empty()) c.team = kNone;
      c.history = (channels_before[c.fact->entry] & ~(uint32_t{1} << c.fact->channel)) != 0;
      for (const JourneyTrace& t : p.journeys) {
        if (!journey_names_.contains(t.journey)) continue;
        if (auto s = StateAt(t, c.fact->time)) c.states.emplace_back(t.journey, *s);
      }
    }
    for (size_t i = 0; i < out.size(); ++i) {
      ContactView& c = out[i];
      c.contacts_in_window = 1;
      for (size_t j = i; j-- > 0;) {
        if (c.fact->time - out[j].fact->time > kpis_.repeat_long) break;
        ++c.contacts_in_window;
      }
      if (i > 0 && c.fact->time - out[i - 1].fact->time <= kpis_.repeat_long) {
        c.switched = out[i - 1].fact->channel != c.fact->channel;
      }
    }
    return out;
  }

  bool InPeriod(absl::Time t) const { return t >= o_.from && t < o_.to; }

  // The rows a contact (or an answer under it) counts in: all, its channel, team, agent, and the
  // journeys running at the time.
  template <typename Fn>
  void ForRows(absl::Time t, v1::Channel channel, const ContactView* c,
               const std::vector<std::pair<std::string_view, std::string_view>>& states, Fn&& fn) {
    const absl::CivilDay day = absl::ToCivilDay(t, o_.time_zone);
    fn(days_[{Dimension::kAll, "", day}], false);
    if (channel != v1::CHANNEL_UNSPECIFIED) fn(days_[{Dimension::kChannel, std::string(ChannelName(channel)), day}], false);
    if (c != nullptr) {
      fn(days_[{Dimension::kTeam, c->team, day}], false);
      fn(days_[{Dimension::kAgent, c->agent, day}], false);
    }
    std::set<std::string_view> journeys;
    for (const auto& [journey, state] : states) {
      if (journeys.insert(journey).second) fn(days_[{Dimension::kJourney, std::string(journey), day}], true);
    }
  }

  void AddContact(const ProfileSnapshot& p, const ContactView& c) {
    (void)p;
    if (!InPeriod(c.fact->time)) return;
    const ContactFact& f = *c.fact;
    const double sla = absl::ToDoubleSeconds(o_.contact_centre.service_level);
    ForRows(f.time, f.channel, &c, c.states, [&](KpiRow& row, bool journey_row) {
      ++row.contacts;
      row.repeat_short += f.repeat_short;
      row.repeat_long += f.repeat_long;
      row.first_contacts += f.judged;
      row.resolved_first += f.resolved;
      row.history_in_profile += c.history;
      if (c.observed && !journey_row) {
        row.observed_contacts = std::max<int64_t>(row.observed_contacts, 0) + 1;
        row.observed_with_history = std::max<int64_t>(row.observed_with_history, 0) + (*c.observed ? 1 : 0);
      }
      row.complaints += c.complaint;
      if (c.wait || c.abandoned) {
        ++row.queued;
        if (c.abandoned) {
          ++row.abandoned;
        } else if (c.wait) {
          row.wait.Add(absl::Seconds(*c.wait));
          if (*c.wait <= sla) ++row.answered_within_sla;
        }
      }
      if (c.handle) row.handle.Add(absl::Seconds(*c.handle));
    });
  }

  // The features of a contact for the root causes.
  std::vector<std::string> Features(const ContactView& c,
                                    const std::vector<std::pair<std::string_view, std::string_view>>& states) const {
    std::vector<std::string> out;
    out.push_back(absl::StrCat("channel: ", ToAbsl(ChannelName(c.fact->channel))));
    out.push_back(absl::StrCat("team: ", c.team));
    out.push_back(c.contacts_in_window == 1   ? "repeat: first contact in 7 d"
                  : c.contacts_in_window == 2 ? "repeat: 2nd contact in 7 d"
                                              : "repeat: 3rd or later contact in 7 d");
    if (c.switched) out.push_back(*c.switched ? "switch: another channel than the previous contact" : "switch: same channel as the previous contact");
    out.push_back(c.history ? "history: cross-channel history in the profile" : "history: none from another channel");
    if (c.abandoned) out.push_back("wait: abandoned");
    else if (c.wait) out.push_back(*c.wait <= absl::ToDoubleSeconds(o_.contact_centre.service_level) ? "wait: within the service level" : "wait: over the service level");
    for (const auto& [journey, state] : states) out.push_back(absl::StrCat("state: ", ToAbsl(journey), "/", ToAbsl(state)));
    return out;
  }

  // One case of `outcome` with these features; a feature named twice (two instances of a journey
  // in one state) counts once.
  void Count(const std::string& outcome, std::vector<std::string> features, bool happened, const ProfileSnapshot& p) {
    auto& base = bases_[outcome];
    ++base.first;
    base.second += happened;
    std::sort(features.begin(), features.end());
    features.erase(std::unique(features.begin(), features.end()), features.end());
    for (const std::string& f : features) {
      RootCause& cause = causes_[{outcome, f}];
      if (cause.cases == 0) {
        cause.outcome = outcome;
        cause.feature = f;
      }
      ++cause.cases;
      if (!happened) continue;
      ++cause.outcomes;
      referenced_ = detail::AddExample(cause.examples, o_.examples, p) || referenced_;
    }
  }

  // Contacts followed by a complaint within the feedback window (contacts too recent to know are
  // left out; complaints themselves are the outcome, not a case).
  void AddComplaintCauses(const ProfileSnapshot& p, const std::vector<ContactView>& contacts) {
    const absl::Duration window = o_.feedback.contact_window;
    for (size_t i = 0; i < contacts.size(); ++i) {
      const ContactView& c = contacts[i];
      if (c.complaint || !InPeriod(c.fact->time) || as_of_ - c.fact->time < window) continue;
      bool followed = false;
      for (size_t j = i + 1; j < contacts.size() && contacts[j].fact->time - c.fact->time <= window; ++j) {
        followed = followed || contacts[j].complaint;
      }
      Count("complaint", Features(c, c.states), followed, p);
    }
  }

  std::optional<std::pair<std::string, double>> Score(const TimelineEntry& e) const {
    double score = 0;
    bool found = false;
    for (const std::string& key : o_.feedback.score_properties) {
      if (absl::SimpleAtod(ToAbsl(e.Property(key)), &score) && std::isfinite(score)) {
        found = true;
        break;
      }
    }
    if (!found) return std::nullopt;
    std::string survey = absl::AsciiStrToLower(ToAbsl(e.Property(o_.feedback.survey_property)));
    if (survey.empty()) {  // The first scale, in the options' order, whose survey the event's name contains.
      for (const FeedbackScale& scale : o_.feedback.scales) {
        if (ContainsIgnoreCase(e.name, scale.survey)) {
          survey = absl::AsciiStrToLower(scale.survey);
          break;
        }
      }
    }
    if (survey.empty()) survey = o_.feedback.default_survey;
    return std::pair{survey, score};
  }

  std::vector<FeedbackView> AddFeedback(const ProfileSnapshot& p, const std::vector<ContactView>& contacts) {
    std::vector<FeedbackView> out;
    for (const TimelineEntry& e : p.timeline) {
      if (e.kind != v1::EVENT_KIND_FEEDBACK || !InPeriod(e.time)) continue;
      const auto score = Score(e);
      if (!score) {
        ++result_.feedback_without_score;
        continue;
      }
      auto scale = scales_.find(score->first);
      if (scale == scales_.end() || score->second < scale->second.min || score->second > scale->second.max) {
        ++result_.feedback_out_of_scale;
        continue;
      }
      const FeedbackScale& s = scale->second;
      const ContactView* contact = nullptr;
      for (const ContactView& c : contacts) {
        if (!e.conversation_id.empty() && c.entry->conversation_id == e.conversation_id) {
          contact = &c;
          break;
        }
        if (c.fact->time <= e.time && e.time - c.fact->time <= o_.feedback.contact_window) contact = &c;
      }
      std::vector<std::pair<std::string_view, std::string_view>> states;
      for (const JourneyTrace& t : p.journeys) {
        if (!journey_names_.contains(t.journey)) continue;
        if (auto st = StateAt(t, e.time)) states.emplace_back(t.journey, *st);
      }
      const bool good = score->second >= s.good_from;
      const bool bad = score->second <= s.bad_to;
      // Under the contact it follows: that contact's channel, agent, team and journeys.
      ForRows(e.time, contact != nullptr ? contact->fact->channel : e.channel, contact,
              contact != nullptr ? contact->states : states,
              [&](KpiRow& row, bool) {
                SurveyStats& st = row.feedback[score->first];
                ++st.responses;
                st.good += good;
                st.bad += bad;
                st.sum += score->second;
              });
      std::vector<std::string> features;
      if (contact != nullptr) {
        features = Features(*contact, states);
      } else {
        features.push_back("contact: no contact before the answer");
        for (const auto& [journey, state] : states) features.push_back(absl::StrCat("state: ", ToAbsl(journey), "/", ToAbsl(state)));
      }
      Count(absl::StrCat("low ", score->first), features, bad, p);
      out.push_back({&e, score->first, score->second, good, bad, contact});
    }
    return out;
  }

  void AddJourneys(const ProfileSnapshot& p) {
    for (const JourneyTrace& t : p.journeys) {
      auto goals = goals_.find(t.journey);
      if (!journey_names_.contains(t.journey) || !InPeriod(t.started)) continue;
      if (goals == goals_.end()) continue;
      KpiRow& row = days_[{Dimension::kJourney, t.journey, absl::ToCivilDay(t.started, o_.time_zone)}];
      ++row.entered;
      for (const JourneyTrace::Step& s : t.steps) {
        if (goals->second.contains(s.to)) {
          ++row.converted;
          row.time_to_goal.Add(s.time - t.started);
          break;
        }
      }
    }
  }

  void Remember(const ProfileSnapshot& p) {
    ExampleProfile& x = result_.examples[{p.tenant, p.profile}];
    x.ref = {p.tenant, p.profile};
    x.entries = static_cast<int64_t>(p.timeline.size());
    x.lines.clear();
    const size_t first = p.timeline.size() > o_.example_lines ? p.timeline.size() - o_.example_lines : 0;
    for (size_t i = first; i < p.timeline.size(); ++i) {
      const TimelineEntry& e = p.timeline[i];
      std::string line = absl::StrCat(absl::FormatTime("%Y-%m-%d %H:%M", e.time, o_.time_zone), " ",
                                      ToAbsl(ChannelName(e.channel)), " ", ToAbsl(KindName(e.kind)));
      if (e.direction == v1::DIRECTION_INBOUND) absl::StrAppend(&line, " in");
      if (e.direction == v1::DIRECTION_OUTBOUND) absl::StrAppend(&line, " out");
      if (!e.name.empty()) absl::StrAppend(&line, " \"", e.name, "\"");
      if (!e.agent_id.empty()) absl::StrAppend(&line, " agent ", e.agent_id);
      for (const char* key : {"score", "survey", "topic", "status"}) {
        if (std::string_view v = e.Property(key); !v.empty()) absl::StrAppend(&line, " ", key, "=", ToAbsl(v));
      }
      x.lines.push_back(std::move(line));
    }
  }

 public:
  void SetGoals() {
    for (const JourneyDefinition& j : o_.journeys) {
      auto& g = goals_[j.name()];
      for (const v1::State& s : j.states()) {
        if (s.kind() == v1::State::STATE_KIND_GOAL) g.insert(s.name());
      }
    }
  }

 private:
  AnalysisOptions o_;
  KpiOptions kpis_;
  absl::Time as_of_;
  const ContactMonitor* monitor_;
  detail::TableSink* sink_;
  detail::PathAccumulator paths_;
  std::vector<detail::FunnelAccumulator> funnels_;
  std::vector<detail::AttributionAccumulator> attributions_;
  std::set<std::string, std::less<>> journey_names_;
  std::map<std::string, std::set<std::string, std::less<>>> goals_;
  std::map<std::string, FeedbackScale> scales_;
  std::map<DayKey, KpiRow> days_;
  std::map<std::pair<std::string, std::string>, RootCause> causes_;
  std::map<std::string, std::pair<int64_t, int64_t>> bases_;
  Analysis result_;
  bool referenced_ = false;
  size_t next_prune_ = kExamplesBeforePruning;
};

}  // namespace

absl::Status detail::CheckAnalysisOptions(const AnalysisOptions& o) {
  for (const JourneyDefinition& j : o.journeys) {
    if (absl::Status s = ValidateJourney(j); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("journeys: ", j.name(), ": ", s.message()));
    }
  }
  for (const std::string& name : o.attribution_journeys) {
    bool found = false;
    for (const JourneyDefinition& j : o.journeys) found = found || j.name() == name;
    if (!found) return absl::InvalidArgumentError(absl::StrCat("attribution_journeys: '", name, "' is not among journeys"));
  }
  if (o.from >= o.to) return absl::InvalidArgumentError("from: must be before to");
  for (const FeedbackScale& s : o.feedback.scales) {
    if (s.survey.empty()) return absl::InvalidArgumentError("feedback.scales: a scale without a survey name");
    if (!(s.min < s.max) || s.good_from < s.min || s.good_from > s.max || s.bad_to < s.min || s.bad_to >= s.good_from) {
      return absl::InvalidArgumentError(absl::StrCat(
          "feedback.scales: '", s.survey, "' needs min < max and min <= bad_to < good_from <= max"));
    }
  }
  if (o.contact_centre.service_level < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("contact_centre.service_level: must not be negative");
  }
  if (o.min_support < 1) return absl::InvalidArgumentError("min_support: must be at least 1");
  return absl::OkStatus();
}

const char* PeriodName(Period period) {
  switch (period) {
    case Period::kTotal:
      return "total";
    case Period::kDay:
      return "day";
    case Period::kWeek:
      return "week";
    case Period::kMonth:
      return "month";
  }
  return "unknown";
}

const char* DimensionName(Dimension dimension) {
  switch (dimension) {
    case Dimension::kAll:
      return "all";
    case Dimension::kChannel:
      return "channel";
    case Dimension::kTeam:
      return "team";
    case Dimension::kAgent:
      return "agent";
    case Dimension::kJourney:
      return "journey";
  }
  return "unknown";
}

const KpiRow* Analysis::Row(Period period, Dimension dimension, std::string_view value,
                            std::optional<absl::CivilDay> start) const {
  for (const KpiRow& r : rows) {
    if (r.period == period && r.dimension == dimension && r.value == value && (!start || r.start == *start)) return &r;
  }
  return nullptr;
}

namespace {

// The time the analysis is as of: options.as_of, else options.kpis.as_of, else `fallback()` (the
// engine's clock, or the latest event of the profiles).
template <typename Fallback>
absl::Time AsOf(const AnalysisOptions& options, Fallback fallback) {
  if (options.as_of != absl::InfinitePast()) return options.as_of;
  if (options.kpis.as_of != absl::InfinitePast()) return options.kpis.as_of;
  return fallback();
}

}  // namespace

absl::StatusOr<Analysis> Analyze(const Engine& engine, const AnalysisOptions& options, const ContactMonitor* monitor) {
  return detail::AnalyzeInto(engine, options, monitor, nullptr);
}

namespace detail {

absl::StatusOr<Analysis> AnalyzeInto(const Engine& engine, const AnalysisOptions& options,
                                     const ContactMonitor* monitor, TableSink* sink) {
  RETURN_IF_ERROR(detail::CheckAnalysisOptions(options));
  Analyzer a(options, AsOf(options, [&] { return engine.Now(); }), monitor, sink);
  a.SetGoals();
  RETURN_IF_ERROR(engine.ForEachProfile([&](const ProfileSnapshot& p) { a.Add(p); }));
  return a.Finish();
}

}  // namespace detail

absl::StatusOr<Analysis> Analyze(const Profiles& profiles, const AnalysisOptions& options,
                                 const ContactMonitor* monitor) {
  RETURN_IF_ERROR(detail::CheckAnalysisOptions(options));
  Analyzer a(options, AsOf(options, [&] { return LatestTime(profiles); }), monitor);
  a.SetGoals();
  for (const ProfileSnapshot& p : profiles) a.Add(p);
  return a.Finish();
}

}  // namespace omnijourney::analytics
