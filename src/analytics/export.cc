// CSV exports for BI tools: see ExportCsv in include/omnijourney/analysis.h.
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "analytics/accumulators.h"
#include "common/status_macros.h"
#include "omnijourney/analysis.h"

namespace omnijourney::analytics {
namespace {

using ::omnijourney::internal::ToAbsl;

std::string Csv(std::string_view v) {
  if (v.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string When(absl::Time t) { return absl::FormatTime("%Y-%m-%d %H:%M:%E6S", t, absl::UTCTimeZone()); }
std::string Bool(bool b) { return b ? "true" : "false"; }
std::string Number(std::optional<double> v) { return v ? absl::StrCat(*v) : ""; }

// A JSON object of the entry's key properties (strings), for events.csv.
std::string PropertiesJson(const TimelineEntry& e) {
  std::string out = "{";
  for (const auto& [k, v] : e.properties) {
    if (out.size() > 1) out += ",";
    for (const std::string* s : {&k, &v}) {
      out += '"';
      for (unsigned char c : *s) {
        if (c == '"' || c == '\\') {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20) {
          absl::StrAppend(&out, "\\u00", absl::Hex(c, absl::kZeroPad2));
        } else {
          out += static_cast<char>(c);
        }
      }
      out += '"';
      if (s == &k) out += ':';
    }
  }
  return out + "}";
}

class CsvSink final : public detail::TableSink {
 public:
  CsvSink(const AnalysisOptions& options, const std::string& directory) : o_(options), dir_(directory) {}

  absl::Status Open() {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir_, ": ", ec.message()));
    const std::pair<std::ofstream*, const char*> files[] = {
        {&events_, "events.csv"}, {&steps_, "journey_steps.csv"}, {&contacts_, "contacts.csv"}, {&feedback_, "feedback.csv"}};
    for (const auto& [stream, name] : files) {
      const std::string path = (std::filesystem::path(dir_) / name).string();
      stream->open(path, std::ios::out | std::ios::trunc);
      if (!*stream) return absl::InternalError(absl::StrCat("cannot write ", path));
      paths_.push_back(path);
    }
    events_ << "tenant,profile,time,source,event_id,kind,name,channel,direction,provider,agent_id,conversation_id,"
               "value,properties\n";
    steps_ << "tenant,profile,journey,version,instance,step,time,from_state,to_state,transition,cause,goal\n";
    contacts_ << "tenant,profile,time,channel,kind,source,event_id,conversation_id,agent_id,team,complaint,"
                 "wait_seconds,handle_seconds,abandoned,history_in_profile,observed_history,repeat_24h,repeat_7d,"
                 "first_contact,judged,resolved_first,journey_states\n";
    feedback_ << "tenant,profile,time,survey,score,good,bad,channel,conversation_id,contact_time,contact_channel,"
                 "contact_event_id,agent_id,team\n";
    for (const JourneyDefinition& j : o_.journeys) {
      for (const v1::State& s : j.states()) {
        if (s.kind() == v1::State::STATE_KIND_GOAL) goals_.insert({j.name(), s.name()});
      }
    }
    return absl::OkStatus();
  }

  void Add(const ProfileSnapshot& p, const std::vector<detail::ContactView>& contacts,
           const std::vector<detail::FeedbackView>& feedback) override {
    const std::string who = absl::StrCat(Csv(p.tenant), ",", FormatProfileId(p.profile), ",");
    for (const TimelineEntry& e : p.timeline) {
      if (!InPeriod(e.time)) continue;
      ++written_.events;
      events_ << who << When(e.time) << ',' << Csv(e.source) << ',' << Csv(e.event_id) << ',' << KindName(e.kind) << ','
              << Csv(e.name) << ',' << ChannelName(e.channel) << ',' << DirectionText(e.direction) << ','
              << Csv(e.provider) << ',' << Csv(e.agent_id) << ',' << Csv(e.conversation_id) << ',' << Csv(e.value)
              << ',' << Csv(PropertiesJson(e)) << '\n';
    }
    int instance = 0;
    for (const JourneyTrace& t : p.journeys) {
      ++instance;
      if (!InPeriod(t.started)) continue;
      for (size_t i = 0; i < t.steps.size(); ++i) {
        const JourneyTrace::Step& s = t.steps[i];
        ++written_.steps;
        steps_ << who << Csv(t.journey) << ',' << t.version << ',' << instance << ',' << i + 1 << ',' << When(s.time)
               << ',' << Csv(s.from) << ',' << Csv(s.to) << ',' << Csv(s.transition) << ',' << Csv(s.cause) << ','
               << Bool(goals_.contains({t.journey, s.to})) << '\n';
      }
    }
    for (const detail::ContactView& c : contacts) {
      if (!InPeriod(c.fact->time)) continue;
      ++written_.contacts;
      std::vector<std::string> states;
      for (const auto& [journey, state] : c.states) states.push_back(absl::StrCat(ToAbsl(journey), "/", ToAbsl(state)));
      const TimelineEntry& e = *c.entry;
      contacts_ << who << When(c.fact->time) << ',' << ChannelName(c.fact->channel) << ',' << KindName(e.kind) << ','
                << Csv(e.source) << ',' << Csv(e.event_id) << ',' << Csv(e.conversation_id) << ',' << Csv(c.agent)
                << ',' << Csv(c.team) << ',' << Bool(c.complaint) << ',' << Number(c.wait) << ',' << Number(c.handle)
                << ',' << Bool(c.abandoned) << ',' << Bool(c.history) << ','
                << (c.observed ? Bool(*c.observed) : std::string()) << ',' << Bool(c.fact->repeat_short) << ','
                << Bool(c.fact->repeat_long) << ',' << Bool(c.fact->first) << ',' << Bool(c.fact->judged) << ','
                << Bool(c.fact->resolved) << ',' << Csv(absl::StrJoin(states, ";")) << '\n';
    }
    for (const detail::FeedbackView& f : feedback) {
      ++written_.feedback;
      const detail::ContactView* c = f.contact;
      feedback_ << who << When(f.entry->time) << ',' << Csv(f.survey) << ',' << f.score << ',' << Bool(f.good) << ','
                << Bool(f.bad) << ',' << ChannelName(f.entry->channel) << ',' << Csv(f.entry->conversation_id) << ','
                << (c ? When(c->fact->time) : "") << ',' << (c ? ChannelName(c->fact->channel) : "") << ','
                << (c ? Csv(c->entry->event_id) : "") << ',' << (c ? Csv(c->agent) : "") << ','
                << (c ? Csv(c->team) : "") << '\n';
    }
  }

  absl::Status Close(ExportedTables* out) {
    for (std::ofstream* s : {&events_, &steps_, &contacts_, &feedback_}) s->close();
    const std::ofstream* streams[] = {&events_, &steps_, &contacts_, &feedback_};
    for (size_t i = 0; i < paths_.size(); ++i) {
      if (streams[i]->fail()) return absl::InternalError(absl::StrCat("cannot write ", paths_[i], " (disk full?)"));
    }
    written_.files = paths_;
    if (out != nullptr) *out = written_;
    return absl::OkStatus();
  }

 private:
  bool InPeriod(absl::Time t) const { return t >= o_.from && t < o_.to; }
  static std::string_view DirectionText(v1::Direction d) {
    switch (d) {
      case v1::DIRECTION_INBOUND:
        return "inbound";
      case v1::DIRECTION_OUTBOUND:
        return "outbound";
      case v1::DIRECTION_INTERNAL:
        return "internal";
      default:
        return "";
    }
  }

  AnalysisOptions o_;
  std::string dir_;
  std::vector<std::string> paths_;
  std::ofstream events_, steps_, contacts_, feedback_;
  std::set<std::pair<std::string, std::string>> goals_;
  ExportedTables written_;
};

}  // namespace

absl::StatusOr<Analysis> ExportCsv(const Engine& engine, const AnalysisOptions& options, const std::string& directory,
                                   ExportedTables* written, const ContactMonitor* monitor) {
  RETURN_IF_ERROR(detail::CheckAnalysisOptions(options));
  CsvSink sink(options, directory);
  RETURN_IF_ERROR(sink.Open());
  absl::StatusOr<Analysis> analysis = detail::AnalyzeInto(engine, options, monitor, &sink);
  RETURN_IF_ERROR(sink.Close(written));
  return analysis;
}

}  // namespace omnijourney::analytics
