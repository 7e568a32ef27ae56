// The HTML report, checked without a browser: one self-contained page (ECharts, the renderer and the
// data inline; nothing fetched), text that cannot break out of its element, and the data the page
// draws (ReportJson) holding every section. tests/browser/report_check.mjs checks it in Chromium.
#include "omnijourney/report.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "omnijourney/synth.h"

namespace omnijourney::analytics {
namespace {

using google::protobuf::Value;

size_t Count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

const Value& Field(const Value& v, const std::string& key) {
  static const Value kNull;
  auto it = v.struct_value().fields().find(key);
  return it == v.struct_value().fields().end() ? kNull : it->second;
}

// A report of a synthetic population with both journeys of the demo.
Report MakeReport() {
  std::ifstream in(std::string(OMNIJOURNEY_EXAMPLE_DATA_DIR) + "/journeys.textproto");
  std::stringstream text;
  text << in.rdbuf();
  auto journeys = ParseJourneySetText(text.str());
  EXPECT_TRUE(journeys.ok()) << journeys.status();
  EngineOptions options;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  auto engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok());
  for (const auto& j : *journeys) EXPECT_TRUE((*engine)->AddJourney(j).ok());
  synth::PopulationOptions p;
  p.customers = 600;
  auto events = synth::Generate(p);
  EXPECT_TRUE(events.ok());
  ContactMonitor monitor;
  for (const auto& g : *events) {
    auto r = (*engine)->Ingest(g.event);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) monitor.Observe(**engine, g.event, *r);
  }
  AnalysisOptions ao;
  ao.journeys = *journeys;
  ao.min_support = 5;
  auto analysis = Analyze(**engine, ao, &monitor);
  EXPECT_TRUE(analysis.ok()) << analysis.status();
  Report report;
  report.title = "Q&A <report> \"November\" </script><script>alert(1)</script>";
  report.scope = "tenant <b>acme</b>";
  report.notes = {"notes can say 5 < 6 & 'quote' and </script>"};
  report.generated = absl::FromUnixSeconds(1790000000);
  report.kpi_columns = {{"all", analysis->kpis}};
  report.analysis = *std::move(analysis);
  return report;
}

TEST(Report, IsOneSelfContainedPage) {
  const Report report = MakeReport();
  const std::string html = RenderHtmlReport(report);
  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>\n"));
  EXPECT_TRUE(absl::StrContains(html, "<title>Q&amp;A &lt;report&gt; &quot;November&quot; &lt;/script&gt;"));
  // Three scripts (the data, ECharts, the renderer) and nothing the text could close early.
  EXPECT_EQ(Count(html, "<script"), 3u);
  EXPECT_EQ(Count(html, "</script>"), 3u);
  EXPECT_TRUE(absl::StrContains(html, "<script type=\"application/json\" id=\"report-data\">"));
  EXPECT_TRUE(absl::StrContains(html, "echarts"));
  // Nothing loaded from elsewhere: no script or style sources, no links, no requests.
  EXPECT_FALSE(absl::StrContains(html, "<script src"));
  EXPECT_FALSE(absl::StrContains(html, "<link"));
  EXPECT_FALSE(absl::StrContains(html, "@import"));
  const std::string data = ReportJson(report);
  EXPECT_FALSE(absl::StrContains(data, "http://"));
  EXPECT_FALSE(absl::StrContains(data, "https://"));
}

TEST(Report, DataHoldsEverySection) {
  const Report report = MakeReport();
  const Analysis& a = report.analysis;
  auto parsed = internal::ParseJson(ReportJson(report));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Value& d = *parsed;
  EXPECT_EQ(Field(d, "title").string_value(), report.title);
  EXPECT_EQ(Field(d, "generated").string_value(), "2026-09-21 14:13 UTC");
  EXPECT_FALSE(Field(d, "first_event").string_value().empty());
  EXPECT_EQ(Field(d, "profiles").number_value(), static_cast<double>(a.profiles));
  // Every KPI the page shows has its definition.
  for (const char* key : {"contacts", "history_observed", "history_in_profile", "repeat_24h", "repeat_7d", "fcr",
                          "complaints", "service_level", "abandonment", "wait", "handle", "csat", "nps", "ces",
                          "conversion", "time_to_goal"}) {
    EXPECT_FALSE(Field(Field(d, "definitions"), key).string_value().empty()) << key;
  }
  // Rows: the total agrees with the analysis; days, channels, teams and agents are there.
  std::set<std::string> dimensions, periods;
  double total_contacts = -1;
  for (const Value& r : Field(d, "rows").list_value().values()) {
    dimensions.insert(Field(r, "dimension").string_value());
    periods.insert(Field(r, "period").string_value());
    if (Field(r, "period").string_value() == "total" && Field(r, "dimension").string_value() == "all") {
      total_contacts = Field(r, "contacts").number_value();
    }
  }
  EXPECT_EQ(total_contacts, static_cast<double>(a.kpis.contacts));
  EXPECT_GT(a.kpis.contacts, 0);
  EXPECT_EQ(dimensions, (std::set<std::string>{"all", "channel", "team", "agent", "journey"}));
  EXPECT_EQ(periods, (std::set<std::string>{"total", "day", "week", "month"}));
  // The synthetic contact centre's measures and feedback made it into the rows.
  const KpiRow* all = a.Row(Period::kTotal, Dimension::kAll);
  EXPECT_GT(all->queued, 0);
  EXPECT_GT(all->abandoned, 0);
  EXPECT_GT(all->handle.count(), 0);
  EXPECT_GT(all->feedback.at("csat").responses, 0);
  EXPECT_GT(all->complaints, 0);
  EXPECT_NE(a.Row(Period::kTotal, Dimension::kTeam, "voice-1"), nullptr);
  // Journeys: both funnels with their map; attribution only for purchase (support is not a
  // marketing conversion).
  ASSERT_EQ(Field(d, "funnels").list_value().values_size(), 2);
  for (const Value& f : Field(d, "funnels").list_value().values()) {
    EXPECT_GT(Field(f, "transitions").list_value().values_size(), 2);
    EXPECT_GT(Field(f, "states").list_value().values_size(), 2);
  }
  ASSERT_EQ(Field(d, "attributions").list_value().values_size(), 1);
  EXPECT_EQ(Field(Field(d, "attributions").list_value().values(0), "journey").string_value(), "purchase");
  EXPECT_GT(Field(Field(d, "paths"), "flows").list_value().values_size(), 5);
  EXPECT_GT(Field(d, "root_causes").list_value().values_size(), 3);
  // Every example a drill-down points at has its timeline lines.
  const auto& examples = Field(d, "examples").struct_value().fields();
  size_t referenced = 0;
  for (const Value& f : Field(d, "funnels").list_value().values()) {
    for (const Value& s : Field(f, "states").list_value().values()) {
      for (const Value& id : Field(s, "examples").list_value().values()) {
        ++referenced;
        ASSERT_EQ(examples.count(id.string_value()), 1u) << id.string_value();
        EXPECT_GT(Field(examples.at(id.string_value()), "lines").list_value().values_size(), 0);
      }
    }
  }
  EXPECT_GT(referenced, 5u);
}

TEST(HtmlEscape, EscapesTheFiveCharacters) {
  EXPECT_EQ(HtmlEscape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
}

}  // namespace
}  // namespace omnijourney::analytics
