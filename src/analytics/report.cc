// The HTML report: see include/omnijourney/report.h.
//
// The page is a shell: the data as one JSON object (built as a google.protobuf.Struct and printed
// by protobuf's JSON printer), Apache ECharts and our renderer (src/analytics/report_assets/), all
// inline. The KPI definitions live here, next to the data, so the page shows the same words as
// docs/analytics.md.
#include "omnijourney/report.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "common/status_macros.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "omnijourney/version.h"

namespace omnijourney::analytics {
namespace assets {
extern const std::string_view echarts_js;
extern const std::string_view report_js;
extern const std::string_view report_css;
}  // namespace assets

namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;
using internal::ToAbsl;

Value Num(double v) {
  Value x;
  x.set_number_value(v);
  return x;
}
Value Str(std::string_view v) {
  Value x;
  x.set_string_value(std::string(v));
  return x;
}

class Obj {
 public:
  Obj& Set(std::string_view key, Value v) {
    (*s_.mutable_fields())[std::string(key)] = std::move(v);
    return *this;
  }
  Obj& Set(std::string_view key, double v) { return Set(key, Num(v)); }
  Obj& Set(std::string_view key, int64_t v) { return Set(key, Num(static_cast<double>(v))); }
  Obj& Set(std::string_view key, int v) { return Set(key, Num(v)); }
  Obj& Set(std::string_view key, std::string_view v) { return Set(key, Str(v)); }
  Obj& Set(std::string_view key, const char* v) { return Set(key, Str(v)); }
  Obj& Set(std::string_view key, const std::string& v) { return Set(key, Str(v)); }
  Obj& Set(std::string_view key, Obj v) { return Set(key, v.value()); }
  Value value() const {
    Value v;
    *v.mutable_struct_value() = s_;
    return v;
  }

 private:
  Struct s_;
};

class List {
 public:
  List& Add(Value v) {
    *l_.add_values() = std::move(v);
    return *this;
  }
  List& Add(const Obj& o) { return Add(o.value()); }
  Value value() const {
    Value v;
    *v.mutable_list_value() = l_;
    return v;
  }

 private:
  ListValue l_;
};

std::string TimeText(absl::Time t, absl::TimeZone zone) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M", t, zone);
}

std::string DayText(absl::CivilDay d) { return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day()); }

std::string RefText(const ProfileRef& r) {
  return r.tenant.empty() ? FormatProfileId(r.profile) : absl::StrCat(r.tenant, "/", FormatProfileId(r.profile));
}

Value Refs(const std::vector<ProfileRef>& refs) {
  List l;
  for (const ProfileRef& r : refs) l.Add(Str(RefText(r)));
  return l.value();
}

Obj Stats(const DurationStats& d) {
  return Obj().Set("count", d.count).Set("p50", absl::ToDoubleSeconds(d.median)).Set("p90", absl::ToDoubleSeconds(d.p90));
}

// The KPIs the page shows, with the definitions beside them.
Value Definitions() {
  const std::pair<const char*, const char*> kDefs[] = {
      {"contacts", "Inbound messages, calls, tickets, visits and conversations; a conversation counts once, at its first event."},
      {"history_observed", "Share of contacts where the agent's context, read when the contact arrived, held an earlier entry from another channel (measured at ingest; later merges do not count)."},
      {"history_in_profile", "Share of contacts with an earlier entry from another customer-facing channel in the profile as stitched now (hindsight: later merges count)."},
      {"repeat_24h", "Share of contacts with another contact of the same customer in the 24 hours before."},
      {"repeat_7d", "Share of contacts with another contact of the same customer in the 7 days before."},
      {"fcr", "First-contact resolution: of first contacts (none in the 7 days before, at least 7 days before the analysis time), the share with no contact in the 7 days after."},
      {"complaints", "Contacts whose name or category, reason, topic or subject says complaint."},
      {"service_level", "Share of answered contacts (voice, chat: with a wait, not abandoned) answered within the service level."},
      {"abandonment", "Share of queued contacts the customer abandoned before an answer."},
      {"wait", "Median wait of answered contacts (wait_seconds)."},
      {"handle", "Median handle time (handle_seconds: talk or work plus wrap-up)."},
      {"csat", "CSAT: share of answers 4-5 on the 1-5 scale (satisfied)."},
      {"nps", "NPS: % promoters (9-10) minus % detractors (0-6) on the 0-10 scale."},
      {"ces", "CES: mean answer on the 1-7 scale \"the company made it easy\" (higher is easier)."},
      {"conversion", "Journey conversion: instances started in the period that reached a goal state."},
      {"time_to_goal", "Median time from a journey instance's start to its first goal state."},
  };
  Obj o;
  for (const auto& [key, text] : kDefs) o.Set(key, text);
  return o.value();
}

Obj RowJson(const KpiRow& r) {
  Obj o;
  o.Set("period", PeriodName(r.period)).Set("start", DayText(r.start)).Set("dimension", DimensionName(r.dimension));
  o.Set("value", r.value).Set("contacts", r.contacts).Set("repeat_24h", r.repeat_short).Set("repeat_7d", r.repeat_long);
  o.Set("first_contacts", r.first_contacts).Set("resolved_first", r.resolved_first);
  o.Set("history_in_profile", r.history_in_profile).Set("observed", r.observed_contacts);
  o.Set("observed_with_history", r.observed_with_history).Set("complaints", r.complaints);
  o.Set("queued", r.queued).Set("abandoned", r.abandoned).Set("within_sla", r.answered_within_sla);
  o.Set("wait", Stats(r.wait.Stats())).Set("handle", Stats(r.handle.Stats()));
  Obj feedback;
  for (const auto& [survey, s] : r.feedback) {
    feedback.Set(survey, Obj().Set("responses", s.responses).Set("good", s.good).Set("bad", s.bad).Set("mean", s.mean()));
  }
  o.Set("feedback", feedback);
  o.Set("entered", r.entered).Set("converted", r.converted).Set("time_to_goal", Stats(r.time_to_goal.Stats()));
  return o;
}

Obj FunnelJson(const JourneyFunnel& f) {
  Obj o;
  o.Set("journey", f.journey).Set("entered", f.entered).Set("converted", f.converted).Set("exited", f.exited);
  o.Set("dropped", f.dropped).Set("active", f.active).Set("time_to_goal", Stats(f.time_to_goal));
  List states;
  for (const StateStats& s : f.states) {
    const char* kind = s.kind == v1::State::STATE_KIND_GOAL ? "goal" : s.kind == v1::State::STATE_KIND_EXIT ? "exit" : "normal";
    states.Add(Obj().Set("state", s.state).Set("kind", kind).Set("reached", s.reached).Set("current", s.current)
                   .Set("ended_here", s.ended_here).Set("time_in_state", Stats(s.time_in_state))
                   .Set("examples", Refs(s.examples)));
  }
  o.Set("states", states.value());
  List transitions;
  for (const TransitionCount& t : f.transitions) {
    transitions.Add(Obj().Set("from", t.from).Set("to", t.to).Set("transition", t.transition).Set("count", t.count)
                        .Set("time", Stats(t.time)));
  }
  o.Set("transitions", transitions.value());
  return o;
}

Obj PathsJson(const ChannelPathReport& p) {
  Obj o;
  o.Set("profiles", p.profiles).Set("distinct", p.distinct_paths).Set("multichannel", p.multichannel_profiles);
  o.Set("transitions", p.transitions).Set("channel_switches", p.channel_switches);
  List top;
  for (const ChannelPath& c : p.top) {
    top.Add(Obj().Set("path", c.ToString()).Set("profiles", c.profiles).Set("share", c.share).Set("examples", Refs(c.examples)));
  }
  o.Set("top", top.value());
  List flows;
  for (const PathFlow& f : p.flows) {
    flows.Add(Obj().Set("step", static_cast<int64_t>(f.step)).Set("from", ChannelName(f.from))
                  .Set("to", f.to == v1::CHANNEL_UNSPECIFIED ? std::string_view("") : ChannelName(f.to)).Set("profiles", f.profiles));
  }
  o.Set("flows", flows.value());
  List switches;
  for (const auto& [key, n] : p.switches) {
    switches.Add(Obj().Set("from", ChannelName(key.first)).Set("to", ChannelName(key.second)).Set("count", n));
  }
  o.Set("switches", switches.value());
  return o;
}

Obj AttributionJson(const Attribution& a) {
  Obj o;
  o.Set("journey", a.journey).Set("conversions", a.conversions).Set("converting_paths", a.converting_paths);
  o.Set("null_paths", a.null_paths).Set("conversion_probability", a.conversion_probability);
  List channels;
  for (v1::Channel c : a.channels) channels.Add(Str(ChannelName(c)));
  o.Set("channels", channels.value());
  Obj credit;
  for (const auto& [model, by_channel] : a.credit) {
    Obj m;
    for (const auto& [c, v] : by_channel) m.Set(ChannelName(c), v);
    credit.Set(ModelName(model), m);
  }
  o.Set("credit", credit);
  Obj removal;
  for (const auto& [c, v] : a.removal_effect) removal.Set(ChannelName(c), v);
  o.Set("removal_effect", removal);
  return o;
}

Obj KpisJson(const std::string& heading, const Kpis& k) {
  return Obj().Set("heading", heading).Set("profiles", k.profiles).Set("contacts", k.contacts)
      .Set("observed", k.observed_contacts).Set("observed_with_history", k.contacts_with_history)
      .Set("repeat_24h", k.repeat_short).Set("repeat_7d", k.repeat_long).Set("first_contacts", k.first_contacts)
      .Set("resolved_first", k.resolved_at_first_contact);
}

Struct Data(const Report& r) {
  const Analysis& a = r.analysis;
  const absl::TimeZone zone = [&] {
    absl::TimeZone z;
    return absl::LoadTimeZone(a.time_zone, &z) ? z : absl::UTCTimeZone();
  }();
  Obj o;
  o.Set("title", r.title).Set("scope", r.scope).Set("generated", TimeText(r.generated, absl::UTCTimeZone()) + " UTC");
  o.Set("version", OMNIJOURNEY_VERSION_STRING).Set("time_zone", a.time_zone);
  o.Set("as_of", TimeText(a.as_of, zone)).Set("from", TimeText(a.from, zone)).Set("to", TimeText(a.to, zone));
  o.Set("first_event", TimeText(a.first_event, zone)).Set("last_event", TimeText(a.last_event, zone));
  o.Set("profiles", a.profiles).Set("entries", a.entries);
  o.Set("feedback_without_score", a.feedback_without_score).Set("feedback_out_of_scale", a.feedback_out_of_scale);
  List notes;
  for (const std::string& n : r.notes) notes.Add(Str(n));
  o.Set("notes", notes.value());
  o.Set("definitions", Definitions());
  List columns;
  for (const auto& [heading, k] : r.kpi_columns) columns.Add(KpisJson(heading, k));
  o.Set("kpi_columns", columns.value());
  List rows;
  for (const KpiRow& row : a.rows) {
    // The page shows agents over the whole period and teams by week and month: their daily rows
    // would only make the file larger.
    if (row.dimension == Dimension::kAgent && row.period != Period::kTotal) continue;
    if (row.dimension == Dimension::kTeam && row.period == Period::kDay) continue;
    rows.Add(RowJson(row));
  }
  o.Set("rows", rows.value());
  List funnels;
  for (const JourneyFunnel& f : a.funnels) funnels.Add(FunnelJson(f));
  o.Set("funnels", funnels.value());
  o.Set("paths", PathsJson(a.paths));
  List attributions;
  for (const Attribution& x : a.attributions) attributions.Add(AttributionJson(x));
  o.Set("attributions", attributions.value());
  List causes;
  for (const RootCause& c : a.root_causes) {
    causes.Add(Obj().Set("outcome", c.outcome).Set("feature", c.feature).Set("cases", c.cases).Set("outcomes", c.outcomes)
                   .Set("base_cases", c.base_cases).Set("base_outcomes", c.base_outcomes).Set("rate", c.rate())
                   .Set("base_rate", c.base_rate()).Set("lift", c.lift()).Set("examples", Refs(c.examples)));
  }
  o.Set("root_causes", causes.value());
  Obj examples;
  for (const auto& [ref, x] : a.examples) {
    List lines;
    for (const std::string& l : x.lines) lines.Add(Str(l));
    examples.Set(RefText(ref), Obj().Set("entries", x.entries).Set("lines", lines.value()));
  }
  o.Set("examples", examples);
  return o.value().struct_value();
}

}  // namespace

std::string ReportJson(const Report& report) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(Data(report), &json, options).ok()) return "{}";
  return json;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string RenderHtmlReport(const Report& r) {
  // Inside <script>, "</" could end the element: JSON strings carry it as "<\/" (protobuf's printer
  // already writes "<" as \u003c; this keeps it so whatever the printer does).
  const std::string json = absl::StrReplaceAll(ReportJson(r), {{"</", "<\\/"}});
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>";
  absl::StrAppend(&out, HtmlEscape(r.title), "</title>\n<style>\n", ToAbsl(assets::report_css), "</style>\n</head>\n<body>\n",
                  "<noscript>This report draws its charts with JavaScript (embedded, no network needed).</noscript>\n",
                  "<div id=\"report\"></div>\n<script type=\"application/json\" id=\"report-data\">", json,
                  "</script>\n<script>\n", ToAbsl(assets::echarts_js), "\n</script>\n<script>\n",
                  ToAbsl(assets::report_js), "\n</script>\n</body>\n</html>\n");
  return out;
}

}  // namespace omnijourney::analytics
