// A self-contained HTML report of an Analysis, for a CX team: a header with the period covered, the
// scope and the generation time; KPI cards with their definitions; time series by day, week or
// month; per-channel, per-team, per-agent and per-journey tables; for each journey the states
// reached and the journey map; channel paths as a Sankey with step headings, "other" and drop-off;
// cross-channel switches apart from staying on a channel; attribution for the journeys whose goals
// are marketing conversions; feedback root causes; drill-down from a state, a path or a root cause
// to example profiles; CSV export of every table. Charts are drawn by Apache ECharts, vendored and
// embedded in the file with the data: viewing it needs no network.
//
// Example:
//   omnijourney::analytics::Report report;
//   report.title = "Customer journeys, November";
//   report.scope = "tenant acme";
//   report.generated = absl::Now();
//   report.analysis = *omnijourney::analytics::Analyze(*engine, options, &monitor);
//   std::ofstream("report.html") << omnijourney::analytics::RenderHtmlReport(report);
#ifndef OMNIJOURNEY_REPORT_H_
#define OMNIJOURNEY_REPORT_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "omnijourney/analysis.h"

namespace omnijourney::analytics {

struct Report {
  std::string title = "omnijourney report";
  std::string scope;  // Who the data covers: "tenant acme", "all tenants: acme, globex".
  absl::Time generated = absl::UnixEpoch();  // When the report was written (shown in the header).
  std::vector<std::string> notes;  // Paragraphs under the header (the data, the options used...).
  // An optional comparison table: one column per (heading, KPIs), e.g. "multichannel" and
  // "omnichannel", or "engine" and "true customers".
  std::vector<std::pair<std::string, Kpis>> kpi_columns;
  Analysis analysis;
};

std::string RenderHtmlReport(const Report& report);

// The data the page draws, as JSON (the same object the HTML embeds): for tests and other front
// ends. docs/analytics.md describes its fields.
std::string ReportJson(const Report& report);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace omnijourney::analytics

#endif  // OMNIJOURNEY_REPORT_H_
