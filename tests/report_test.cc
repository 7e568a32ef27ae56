// The HTML report, checked without a browser: well-formed markup (a small XML checker), the charts
// present with their data, nothing fetched from the network, text escaped.
#include "omnijourney/report.h"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "omnijourney/synth.h"

namespace omnijourney::analytics {
namespace {

// Well-formedness after the doctype: balanced tags, quoted attributes, entities that exist.
// Returns "" when well-formed, else what is wrong and where.
std::string CheckXml(const std::string& doc) {
  size_t i = 0;
  if (doc.rfind("<!DOCTYPE html>", 0) == 0) i = std::string("<!DOCTYPE html>").size();
  std::vector<std::string> open;
  const auto entity = [&](size_t at) -> bool {  // doc[at] == '&'
    const size_t end = doc.find(';', at);
    if (end == std::string::npos || end - at > 10) return false;
    const std::string name = doc.substr(at + 1, end - at - 1);
    if (name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos") return true;
    if (name.size() > 1 && name[0] == '#') {
      for (size_t k = 1; k < name.size(); ++k) {
        if (!std::isdigit(static_cast<unsigned char>(name[k]))) return false;
      }
      return true;
    }
    return false;
  };
  const auto is_name = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ':' || c == '_'; };
  while (i < doc.size()) {
    const char c = doc[i];
    if (c == '&') {
      if (!entity(i)) return absl::StrCat("bad entity at ", i);
      ++i;
      continue;
    }
    if (c == '>') return absl::StrCat("stray > at ", i);
    if (c != '<') {
      ++i;
      continue;
    }
    if (doc.compare(i, 2, "</") == 0) {
      size_t j = i + 2;
      while (j < doc.size() && is_name(doc[j])) ++j;
      const std::string name = doc.substr(i + 2, j - i - 2);
      if (j >= doc.size() || doc[j] != '>') return absl::StrCat("bad closing tag at ", i);
      if (open.empty() || open.back() != name) {
        return absl::StrCat("</", name, "> at ", i, " closes <", open.empty() ? "" : open.back(), ">");
      }
      open.pop_back();
      i = j + 1;
      continue;
    }
    size_t j = i + 1;
    while (j < doc.size() && is_name(doc[j])) ++j;
    const std::string name = doc.substr(i + 1, j - i - 1);
    if (name.empty()) return absl::StrCat("bad tag at ", i);
    // Attributes.
    while (true) {
      while (j < doc.size() && std::isspace(static_cast<unsigned char>(doc[j]))) ++j;
      if (j >= doc.size()) return "unterminated tag";
      if (doc[j] == '>') {
        open.push_back(name);
        ++j;
        break;
      }
      if (doc.compare(j, 2, "/>") == 0) {
        j += 2;
        break;
      }
      const size_t a = j;
      while (j < doc.size() && is_name(doc[j])) ++j;
      if (j == a || j + 1 >= doc.size() || doc[j] != '=' || doc[j + 1] != '"') {
        return absl::StrCat("bad attribute in <", name, "> at ", a);
      }
      j += 2;
      while (j < doc.size() && doc[j] != '"') {
        if (doc[j] == '<') return absl::StrCat("< in an attribute at ", j);
        if (doc[j] == '&' && !entity(j)) return absl::StrCat("bad entity in an attribute at ", j);
        ++j;
      }
      ++j;
    }
    i = j;
  }
  if (!open.empty()) return absl::StrCat("<", open.back(), "> not closed");
  return "";
}

size_t Count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

TEST(CheckXml, CatchesMalformedMarkup) {
  EXPECT_EQ(CheckXml("<!DOCTYPE html>\n<p>a &amp; b<br/></p>"), "");
  EXPECT_NE(CheckXml("<p><b></p></b>"), "");
  EXPECT_NE(CheckXml("<p>a & b</p>"), "");
  EXPECT_NE(CheckXml("<p class=x>a</p>"), "");
  EXPECT_NE(CheckXml("<p>"), "");
}

// A report of a synthetic population with both journeys of the demo.
TEST(Report, IsWellFormedSelfContainedAndHasTheCharts) {
  std::ifstream in(std::string(OMNIJOURNEY_EXAMPLE_DATA_DIR) + "/journeys.textproto");
  std::stringstream text;
  text << in.rdbuf();
  auto journeys = ParseJourneySetText(text.str());
  ASSERT_TRUE(journeys.ok()) << journeys.status();
  EngineOptions options;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  auto engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok());
  for (const auto& j : *journeys) ASSERT_TRUE((*engine)->AddJourney(j).ok());
  synth::PopulationOptions p;
  p.customers = 400;
  auto events = synth::Generate(p);
  ASSERT_TRUE(events.ok());
  ContactMonitor monitor;
  for (const auto& g : *events) {
    auto r = (*engine)->Ingest(g.event);
    ASSERT_TRUE(r.ok()) << r.status();
    monitor.Observe(**engine, g.event, *r);
  }
  auto profiles = CollectProfiles(**engine);
  ASSERT_TRUE(profiles.ok());

  Report report;
  report.title = "Q&A <report> \"November\"";
  report.notes = {"notes can say 5 < 6 & 'quote'"};
  report.kpi_columns = {{"all", ComputeKpis(*profiles, {}, &monitor)}};
  for (const auto& j : *journeys) {
    report.funnels.push_back(*Funnel(*profiles, j));
    report.attributions.push_back(*Attribute(*profiles, j));
  }
  report.paths = ChannelPaths(*profiles);
  const std::string html = RenderHtmlReport(report);

  EXPECT_EQ(CheckXml(html), "");
  EXPECT_TRUE(absl::StrContains(html, "<title>Q&amp;A &lt;report&gt; &quot;November&quot;</title>"));
  EXPECT_TRUE(absl::StrContains(html, "5 &lt; 6 &amp; &#39;quote&#39;"));
  // The charts, with one bar per state and a link per flow.
  EXPECT_TRUE(absl::StrContains(html, "<svg class=\"funnel\" id=\"funnel-purchase\""));
  EXPECT_TRUE(absl::StrContains(html, "<svg class=\"funnel\" id=\"funnel-support\""));
  EXPECT_TRUE(absl::StrContains(html, "<svg class=\"sankey\" id=\"sankey\""));
  EXPECT_TRUE(absl::StrContains(html, "<svg class=\"attribution\" id=\"attribution-purchase\""));
  const size_t sankey = html.find("id=\"sankey\"");
  const std::string sankey_svg = html.substr(sankey, html.find("</svg>", sankey) - sankey);
  EXPECT_GT(Count(sankey_svg, "<path "), 2u);
  EXPECT_GT(Count(sankey_svg, "<rect "), 3u);
  EXPECT_TRUE(absl::StrContains(html, absl::StrCat("ordered: ", report.funnels[0].converted, "</title>")));
  EXPECT_GT(report.funnels[0].converted, 0);
  EXPECT_TRUE(absl::StrContains(html, "markov"));
  // Viewable offline: no scripts, no external resources (the SVG namespace is only a name).
  EXPECT_FALSE(absl::StrContains(html, "<script"));
  EXPECT_EQ(Count(html, "http"), Count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
}

}  // namespace
}  // namespace omnijourney::analytics
