// The whole analysis a CX team runs the business on, in one streaming pass over the profiles:
// omnichannel KPIs per day, week and month and per channel, team, agent and journey; contact-centre
// measures (wait, abandonment, service level, handle time); feedback (CSAT, NPS, CES) attributed to
// the contact it follows; root causes of low scores and complaints (lift against the base rate);
// funnels with the journey map; channel paths with their step-to-step flows; attribution for the
// journeys whose goals are marketing conversions. Memory is bounded by the size of the result (the
// rows, the distinct paths, the examples), not by the number of profiles or events.
//
// docs/analytics.md defines every measure and the event fields it reads.
//
// Example:
//   omnijourney::analytics::AnalysisOptions options;
//   options.journeys = journeys;                       // Their funnels and maps.
//   options.teams = {{"agent-7", "billing"}};          // Or the events' "team" property.
//   auto analysis = omnijourney::analytics::Analyze(*engine, options, &monitor);
//   for (const auto& row : analysis->rows) { ... }     // KPIs by period and dimension.
#ifndef OMNIJOURNEY_ANALYSIS_H_
#define OMNIJOURNEY_ANALYSIS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "omnijourney/analytics.h"
#include "omnijourney/engine.h"

namespace omnijourney::analytics {

// A survey's score scale. Scores outside [min, max] are not counted (Analysis::feedback_out_of_scale).
// good: score >= good_from (CSAT "satisfied", NPS promoters); bad: score <= bad_to (NPS detractors).
struct FeedbackScale {
  std::string survey;  // "csat", "nps", "ces": lowercase.
  double min = 1;
  double max = 5;
  double good_from = 4;
  double bad_to = 2;
};

struct FeedbackOptions {
  // CSAT 1-5 (4-5 satisfied, 1-2 dissatisfied); NPS 0-10 (9-10 promoters, 0-6 detractors); CES 1-7,
  // "the company made it easy" (5-7 easy, 1-3 hard).
  std::vector<FeedbackScale> scales = {{"csat", 1, 5, 4, 2}, {"nps", 0, 10, 9, 6}, {"ces", 1, 7, 5, 3}};
  // A FEEDBACK event's survey: this property's value (lowercased), else the first scale (in the
  // order of `scales`) whose name the event name contains (case-insensitive), else default_survey.
  std::string survey_property = "survey";
  std::string default_survey = "csat";
  // The score: the first of these properties that holds a number.
  std::vector<std::string> score_properties = {"score", "rating"};
  // A feedback answer follows the contact of its conversation, else the profile's latest contact
  // within this window before it (else no contact: it counts for its own channel).
  absl::Duration contact_window = absl::Hours(24 * 7);
  // A complaint is an inbound contact whose name, or "category", "reason", "topic" or "subject"
  // property, contains one of these words (case-insensitive).
  std::vector<std::string> complaint_words = {"complaint"};
};

// Contact-centre measures, read from the events of a contact's conversation (the last value wins).
// The properties must be among TimelineOptions::key_properties (the defaults are).
struct ContactCentreOptions {
  std::string wait_property = "wait_seconds";      // Queue time before an agent answered.
  std::string handle_property = "handle_seconds";  // Talk or work time plus wrap-up.
  std::string abandoned_property = "abandoned";    // "true": the customer left before an answer.
  std::string team_property = "team";              // The team, when AnalysisOptions::teams has none.
  absl::Duration service_level = absl::Seconds(20);  // Answered within this: the SLA share.
};

struct AnalysisOptions {
  // The time of the analysis (funnels' drop-off, first-contact resolution's judging window).
  // InfinitePast: Engine::Now() for an engine, the latest entry for profiles.
  absl::Time as_of = absl::InfinitePast();
  // The period covered: contacts, feedback and journey instances that started in [from, to) count
  // (earlier contacts still make later ones repeats); paths are made of the touches in it, and
  // attribution credits the conversions in it (PathOptions, AttributionOptions).
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
  absl::TimeZone time_zone = absl::UTCTimeZone();  // Days, ISO weeks (from Monday) and months.
  std::optional<std::string> tenant;  // Only this tenant's profiles; all when unset.
  std::vector<JourneyDefinition> journeys;  // Funnels, maps, attribution, journey rows.
  // Journeys whose goals are credited to channels: those whose definition sets
  // reporting.attribution, and these names.
  std::vector<std::string> attribution_journeys;
  std::map<std::string, std::string> teams;  // agent_id -> team.
  KpiOptions kpis;  // as_of is taken from here only when AnalysisOptions::as_of is unset.
  FunnelOptions funnels;  // as_of, from and to are taken from these options.
  PathOptions paths;  // examples, from and to are taken from these options.
  AttributionOptions attribution;  // from and to are taken from these options.
  FeedbackOptions feedback;
  ContactCentreOptions contact_centre;
  // Root causes: features seen on fewer responses or contacts than this are not listed.
  int64_t min_support = 20;
  size_t examples = 5;  // Example profiles kept per drill-down item (and their timelines).
  size_t example_lines = 8;  // Timeline lines kept per example profile.
};

enum class Period { kTotal, kDay, kWeek, kMonth };
const char* PeriodName(Period period);  // "total", "day", "week", "month".
enum class Dimension { kAll, kChannel, kTeam, kAgent, kJourney };
const char* DimensionName(Dimension dimension);  // "all", "channel", "team", "agent", "journey".

struct SurveyStats {
  int64_t responses = 0;
  int64_t good = 0;
  int64_t bad = 0;
  double sum = 0;
  double mean() const { return responses == 0 ? 0 : sum / static_cast<double>(responses); }
  double good_share() const { return Kpis::Share(good, responses); }  // CSAT: share satisfied.
  // NPS: (promoters - detractors) / responses * 100.
  double net() const { return responses == 0 ? 0 : 100.0 * static_cast<double>(good - bad) / static_cast<double>(responses); }
};

// The KPIs of one period and one dimension value. Contact measures count contacts that started in
// the period; journey measures count instances that started in it (journey rows only); feedback
// counts answers given in it, under the contact they follow.
struct KpiRow {
  Period period = Period::kTotal;
  absl::CivilDay start;  // First day of the period (the analysis' first day for kTotal).
  Dimension dimension = Dimension::kAll;
  std::string value;  // Channel name, team, agent or journey; "" for kAll.

  int64_t contacts = 0;
  int64_t repeat_short = 0;  // KpiOptions::repeat_short (24 h).
  int64_t repeat_long = 0;   // KpiOptions::repeat_long (7 d).
  int64_t first_contacts = 0;  // Judged first contacts.
  int64_t resolved_first = 0;
  // Contacts with an earlier entry from another customer-facing channel in the profile, as the
  // profile is stitched when analysed (hindsight: later merges count).
  int64_t history_in_profile = 0;
  // From a ContactMonitor, as the contacts arrived (not for journey rows); -1: no monitor.
  int64_t observed_contacts = -1;
  int64_t observed_with_history = -1;
  int64_t complaints = 0;
  // Contact centre: contacts with a wait or abandoned flag; answered = those not abandoned.
  int64_t queued = 0;
  int64_t abandoned = 0;
  int64_t answered_within_sla = 0;  // Answered with a wait <= service_level.
  DurationQuantiles wait;    // Answered contacts with a wait.
  DurationQuantiles handle;  // Contacts with a handle time.
  std::map<std::string, SurveyStats> feedback;  // By survey.
  // Journey rows.
  int64_t entered = 0;
  int64_t converted = 0;
  DurationQuantiles time_to_goal;

  double repeat_short_rate() const { return Kpis::Share(repeat_short, contacts); }
  double repeat_long_rate() const { return Kpis::Share(repeat_long, contacts); }
  double first_contact_resolution() const { return Kpis::Share(resolved_first, first_contacts); }
  double history_rate() const { return Kpis::Share(history_in_profile, contacts); }
  double observed_history_rate() const { return Kpis::Share(observed_with_history, observed_contacts); }
  double abandonment_rate() const { return Kpis::Share(abandoned, queued); }
  double service_level() const { return Kpis::Share(answered_within_sla, queued - abandoned); }
  double conversion_rate() const { return Kpis::Share(converted, entered); }
};

// A feature that may precede an outcome, and how often it does, against the base rate.
struct RootCause {
  std::string outcome;  // "low score" (of feedback answers) or "complaint" (within the window after a contact).
  std::string feature;  // "channel: voice", "state: support/waiting", "repeat: 3rd+ contact in 7 d"...
  int64_t cases = 0;      // Answers or contacts with the feature.
  int64_t outcomes = 0;   // Of those, with the outcome.
  int64_t base_cases = 0;
  int64_t base_outcomes = 0;
  double rate() const { return Kpis::Share(outcomes, cases); }
  double base_rate() const { return Kpis::Share(base_outcomes, base_cases); }
  double lift() const { return base_rate() == 0 ? 0 : rate() / base_rate(); }
  std::vector<ProfileRef> examples;  // Profiles with the feature and the outcome.
};

// A profile drill-down items point at: a few timeline lines.
struct ExampleProfile {
  ProfileRef ref;
  int64_t entries = 0;  // Retained timeline entries.
  std::vector<std::string> lines;  // "2026-09-03 14:02 voice call inbound Support Request", oldest first.
};

struct Analysis {
  absl::Time as_of;
  absl::Time from, to;          // As asked.
  absl::Time first_event = absl::InfiniteFuture();  // Entries of the profiles read.
  absl::Time last_event = absl::InfinitePast();
  std::string time_zone;
  std::optional<std::string> tenant;
  int64_t profiles = 0;
  int64_t entries = 0;
  std::map<std::string, int64_t> tenant_profiles;  // Every profile read, by tenant (before the tenant filter).
  Kpis kpis;  // The totals (KpiRow total/all, in the older shape).
  std::vector<KpiRow> rows;  // By period (total first, then days, weeks, months), dimension, value, start.
  std::vector<JourneyFunnel> funnels;  // One per journey of the options, in their order.
  ChannelPathReport paths;
  std::vector<Attribution> attributions;  // For the attribution journeys, in the options' order.
  std::vector<RootCause> root_causes;  // By outcome, then lift (highest first).
  int64_t feedback_without_score = 0;  // FEEDBACK events with no numeric score.
  int64_t feedback_out_of_scale = 0;   // Scores outside their scale, or of an unknown survey.
  std::map<ProfileRef, ExampleProfile> examples;  // Every profile referenced above.

  // The row, or nullptr.
  const KpiRow* Row(Period period, Dimension dimension, std::string_view value = "",
                    std::optional<absl::CivilDay> start = std::nullopt) const;
};

// One pass over `engine`'s profiles (Engine::ForEachProfile). `monitor`, when given, adds the
// history observed at contact. InvalidArgument for an invalid journey or option (naming it).
absl::StatusOr<Analysis> Analyze(const Engine& engine, const AnalysisOptions& options,
                                 const ContactMonitor* monitor = nullptr);
// The same over profiles in memory (tests, other groupings).
absl::StatusOr<Analysis> Analyze(const Profiles& profiles, const AnalysisOptions& options,
                                 const ContactMonitor* monitor = nullptr);

// Tables for BI tools, as CSV (RFC 4180, a header line, UTC times "2026-09-01 12:34:56.000000",
// true/false, empty for unknown), one file per table in `directory` (created if missing; the four
// files replaced): events.csv (every retained timeline entry), journey_steps.csv, contacts.csv and
// feedback.csv, with the contacts and answers described as Analyze counts them (docs/analytics.md
// lists the columns). The same one pass as Analyze, whose result it returns; the options' tenant and
// period apply. A file that cannot be written is an error naming it.
struct ExportedTables {
  std::vector<std::string> files;  // The paths written.
  int64_t events = 0;
  int64_t steps = 0;
  int64_t contacts = 0;
  int64_t feedback = 0;
};
absl::StatusOr<Analysis> ExportCsv(const Engine& engine, const AnalysisOptions& options, const std::string& directory,
                                   ExportedTables* written = nullptr, const ContactMonitor* monitor = nullptr);

}  // namespace omnijourney::analytics

#endif  // OMNIJOURNEY_ANALYSIS_H_
