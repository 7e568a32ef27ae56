// A self-contained HTML report of journey analytics: KPI table, funnel bars, a Sankey diagram of
// channel paths and attribution bars, all inline SVG (no scripts, fonts or network). The markup is
// well-formed XML after the doctype, so it can be checked and post-processed without a browser.
//
// Example:
//   omnijourney::analytics::Report report;
//   report.title = "Journeys, November";
//   report.kpi_columns.push_back({"all customers", omnijourney::analytics::ComputeKpis(profiles)});
//   report.funnels.push_back(*omnijourney::analytics::Funnel(profiles, journey));
//   report.paths = omnijourney::analytics::ChannelPaths(profiles);
//   report.attributions.push_back(*omnijourney::analytics::Attribute(profiles, journey));
//   std::ofstream("report.html") << omnijourney::analytics::RenderHtmlReport(report);
#ifndef OMNIJOURNEY_REPORT_H_
#define OMNIJOURNEY_REPORT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "omnijourney/analytics.h"

namespace omnijourney::analytics {

struct Report {
  std::string title = "omnijourney report";
  std::vector<std::string> notes;  // Paragraphs under the title (the data, the options used...).
  // KPI table: one column per (heading, KPIs), e.g. "multichannel" and "omnichannel".
  std::vector<std::pair<std::string, Kpis>> kpi_columns;
  std::vector<JourneyFunnel> funnels;
  std::optional<ChannelPathReport> paths;
  std::vector<Attribution> attributions;
};

std::string RenderHtmlReport(const Report& report);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace omnijourney::analytics

#endif  // OMNIJOURNEY_REPORT_H_
