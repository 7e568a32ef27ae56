// The HTML report: see include/omnijourney/report.h.
#include "omnijourney/report.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "omnijourney/version.h"

namespace omnijourney::analytics {
namespace {

using internal::ToAbsl;

// One colour per channel (by enum value), readable on white.
const char* ChannelColor(v1::Channel c) {
  static constexpr const char* kColors[] = {"#9e9e9e", "#1f77b4", "#17becf", "#ff7f0e", "#d62728", "#2ca02c",
                                            "#bcbd22", "#25d366", "#7360f2", "#229ed9", "#3b5998", "#e377c2",
                                            "#8c564b", "#7f7f7f", "#f4b400", "#555555", "#aaaaaa"};
  const auto i = static_cast<size_t>(c);
  return i < std::size(kColors) ? kColors[i] : "#999999";
}

const char* ModelColor(Model m) {
  switch (m) {
    case Model::kFirstTouch:
      return "#4e79a7";
    case Model::kLastTouch:
      return "#f28e2b";
    case Model::kLinear:
      return "#59a14f";
    case Model::kTimeDecay:
      return "#b07aa1";
    case Model::kPositionBased:
      return "#edc948";
    case Model::kMarkov:
      return "#e15759";
  }
  return "#999999";
}

std::string Channel(v1::Channel c) { return std::string(ChannelName(c)); }

std::string Percent(double share) { return absl::StrFormat("%.1f%%", share * 100); }

std::string Dur(const DurationStats& d) {
  if (d.count == 0) return "-";
  const auto fmt = [](absl::Duration x) {
    const double h = absl::ToDoubleHours(x);
    if (h >= 48) return absl::StrFormat("%.1f d", h / 24);
    if (h >= 1) return absl::StrFormat("%.1f h", h);
    return absl::StrFormat("%.0f min", absl::ToDoubleMinutes(x));
  };
  return absl::StrCat(fmt(d.median), " / ", fmt(d.p90));
}

void KpiTable(const Report& r, std::string& out) {
  if (r.kpi_columns.empty()) return;
  absl::StrAppend(&out, "<h2>Omnichannel KPIs</h2>\n<table class=\"kpi\">\n<tr><th></th>");
  for (const auto& [heading, k] : r.kpi_columns) absl::StrAppend(&out, "<th>", HtmlEscape(heading), "</th>");
  absl::StrAppend(&out, "</tr>\n");
  const auto row = [&](const char* label, auto cell) {
    absl::StrAppend(&out, "<tr><td>", label, "</td>");
    for (const auto& [heading, k] : r.kpi_columns) absl::StrAppend(&out, "<td>", cell(k), "</td>");
    absl::StrAppend(&out, "</tr>\n");
  };
  row("profiles", [](const Kpis& k) { return absl::StrCat(k.profiles); });
  row("contacts (a conversation counts once)", [](const Kpis& k) { return absl::StrCat(k.contacts); });
  row("contacts with earlier history from another channel", [](const Kpis& k) {
    return k.observed_contacts < 0 ? std::string("-") : Percent(k.history_rate());
  });
  row("repeat contacts within 24 h", [](const Kpis& k) { return Percent(k.repeat_short_rate()); });
  row("repeat contacts within 7 d", [](const Kpis& k) { return Percent(k.repeat_long_rate()); });
  row("first-contact resolution", [](const Kpis& k) {
    return absl::StrCat(Percent(k.first_contact_resolution()), " <small>of ", k.first_contacts, "</small>");
  });
  absl::StrAppend(&out, "</table>\n");
}

void FunnelChart(const JourneyFunnel& f, std::string& out) {
  absl::StrAppend(&out, "<h3>Journey <code>", HtmlEscape(f.journey), "</code></h3>\n<p>", f.entered,
                  " entered, ", f.converted, " converted (", Percent(f.conversion_rate()), "), ", f.exited,
                  " exited, ", f.dropped, " dropped, ", f.active, " active. Time to goal (median / p90): ",
                  Dur(f.time_to_goal), ".</p>\n");
  const int bar_h = 22, gap = 6, label_w = 170, chart_w = 520;
  const int height = static_cast<int>(f.states.size()) * (bar_h + gap) + 10;
  absl::StrAppendFormat(&out,
                        "<svg class=\"funnel\" id=\"funnel-%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                        "height=\"%d\" role=\"img\">\n",
                        HtmlEscape(f.journey), label_w + chart_w + 120, height);
  const double max = static_cast<double>(std::max<int64_t>(f.entered, 1));
  int y = 5;
  for (const StateStats& s : f.states) {
    const double w = static_cast<double>(s.reached) / max * chart_w;
    const char* color = s.kind == v1::State::STATE_KIND_GOAL   ? "#2ca02c"
                        : s.kind == v1::State::STATE_KIND_EXIT ? "#d62728"
                                                               : "#1f77b4";
    absl::StrAppendFormat(&out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", label_w - 8,
                          y + bar_h - 6, HtmlEscape(s.state));
    absl::StrAppendFormat(&out, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%s: %d</title></rect>\n",
                          label_w, y, std::max(w, 1.0), bar_h, color, HtmlEscape(s.state), s.reached);
    absl::StrAppendFormat(&out, "<text x=\"%.1f\" y=\"%d\">%d (%s)</text>\n", label_w + std::max(w, 1.0) + 6,
                          y + bar_h - 6, s.reached, Percent(static_cast<double>(s.reached) / max));
    y += bar_h + gap;
  }
  absl::StrAppend(&out, "</svg>\n<table><tr><th>state</th><th>reached</th><th>time in state (median / p90)</th></tr>\n");
  for (const StateStats& s : f.states) {
    absl::StrAppend(&out, "<tr><td>", HtmlEscape(s.state), "</td><td>", s.reached, "</td><td>", Dur(s.time_in_state),
                    "</td></tr>\n");
  }
  absl::StrAppend(&out, "</table>\n");
}

void Sankey(const ChannelPathReport& p, std::string& out) {
  size_t columns = 0;
  for (const ChannelPath& path : p.top) columns = std::max(columns, path.channels.size());
  if (columns == 0) return;
  // Node values per column and link values between consecutive columns.
  std::vector<std::map<v1::Channel, int64_t>> nodes(columns);
  std::vector<std::map<std::pair<v1::Channel, v1::Channel>, int64_t>> links(columns);
  for (const ChannelPath& path : p.top) {
    for (size_t k = 0; k < path.channels.size(); ++k) {
      nodes[k][path.channels[k]] += path.profiles;
      if (k + 1 < path.channels.size()) links[k][{path.channels[k], path.channels[k + 1]}] += path.profiles;
    }
  }
  const double width = 900, height = 420, node_w = 14, pad = 10, left = 10, right = 110;
  double max_total = 0;
  size_t max_nodes = 1;
  for (const auto& col : nodes) {
    double total = 0;
    for (const auto& [c, v] : col) total += static_cast<double>(v);
    max_total = std::max(max_total, total);
    max_nodes = std::max(max_nodes, col.size());
  }
  const double scale = (height - pad * static_cast<double>(max_nodes + 1)) / std::max(max_total, 1.0);
  const double step = columns > 1 ? (width - left - right - node_w) / static_cast<double>(columns - 1) : 0;
  struct Box {
    double x, y, h, out_used = 0, in_used = 0;
  };
  std::vector<std::map<v1::Channel, Box>> boxes(columns);
  for (size_t k = 0; k < columns; ++k) {
    double y = pad;
    for (const auto& [c, v] : nodes[k]) {
      const double h = std::max(static_cast<double>(v) * scale, 1.0);
      boxes[k][c] = {left + step * static_cast<double>(k), y, h};
      y += h + pad;
    }
  }
  absl::StrAppendFormat(&out,
                        "<svg class=\"sankey\" id=\"sankey\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                        "height=\"%.0f\" role=\"img\">\n",
                        width, height);
  for (size_t k = 0; k + 1 < columns; ++k) {
    for (const auto& [ab, v] : links[k]) {
      Box& a = boxes[k][ab.first];
      Box& b = boxes[k + 1][ab.second];
      const double w = std::max(static_cast<double>(v) * scale, 0.5);
      const double y0 = a.y + a.out_used + w / 2, y1 = b.y + b.in_used + w / 2;
      a.out_used += w;
      b.in_used += w;
      const double x0 = a.x + node_w, x1 = b.x, xm = (x0 + x1) / 2;
      absl::StrAppendFormat(&out,
                            "<path d=\"M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"none\" stroke=\"%s\" "
                            "stroke-opacity=\"0.35\" stroke-width=\"%.1f\"><title>%s &#8594; %s: %d</title></path>\n",
                            x0, y0, xm, y0, xm, y1, x1, y1, ChannelColor(ab.first), w, Channel(ab.first),
                            Channel(ab.second), v);
    }
  }
  for (size_t k = 0; k < columns; ++k) {
    for (const auto& [c, b] : boxes[k]) {
      absl::StrAppendFormat(&out,
                            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" fill=\"%s\"><title>step %d: "
                            "%s, %d</title></rect>\n",
                            b.x, b.y, node_w, b.h, ChannelColor(c), k + 1, Channel(c), nodes[k][c]);
      absl::StrAppendFormat(&out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%s %d</text>\n", b.x + node_w + 3,
                            b.y + std::min(b.h, 12.0), Channel(c), nodes[k][c]);
    }
  }
  absl::StrAppend(&out, "</svg>\n");
}

void Paths(const ChannelPathReport& p, std::string& out) {
  absl::StrAppend(&out, "<h2>Channel paths</h2>\n<p>", p.profiles, " profiles with touches, ", p.distinct_paths,
                  " distinct paths, ", p.multichannel_profiles, " profiles (",
                  Percent(Kpis::Share(p.multichannel_profiles, p.profiles)), ") on two or more channels; ",
                  p.channel_switches, " of ", p.transitions, " consecutive touches switch channel. The Sankey "
                  "diagram shows the top paths, step by step.</p>\n");
  Sankey(p, out);
  absl::StrAppend(&out, "<table><tr><th>path</th><th>profiles</th><th>share</th></tr>\n");
  for (const ChannelPath& path : p.top) {
    absl::StrAppend(&out, "<tr><td>", HtmlEscape(path.ToString()), "</td><td>", path.profiles, "</td><td>",
                    Percent(path.share), "</td></tr>\n");
  }
  absl::StrAppend(&out, "</table>\n<h3>Channel switches (from row to column)</h3>\n");
  std::set<v1::Channel> channels;
  int64_t max = 1;
  for (const auto& [ab, v] : p.switches) {
    channels.insert(ab.first);
    channels.insert(ab.second);
    max = std::max(max, v);
  }
  absl::StrAppend(&out, "<table class=\"matrix\"><tr><th></th>");
  for (v1::Channel c : channels) absl::StrAppend(&out, "<th>", Channel(c), "</th>");
  absl::StrAppend(&out, "</tr>\n");
  for (v1::Channel a : channels) {
    absl::StrAppend(&out, "<tr><th>", Channel(a), "</th>");
    for (v1::Channel b : channels) {
      auto it = p.switches.find({a, b});
      const int64_t v = it == p.switches.end() ? 0 : it->second;
      absl::StrAppendFormat(&out, "<td style=\"background: rgba(31,119,180,%.2f)\">%d</td>",
                            0.05 + 0.6 * static_cast<double>(v) / static_cast<double>(max), v);
    }
    absl::StrAppend(&out, "</tr>\n");
  }
  absl::StrAppend(&out, "</table>\n");
}

void AttributionChart(const Attribution& a, std::string& out) {
  absl::StrAppend(&out, "<h3>Attribution of <code>", HtmlEscape(a.journey), "</code> conversions</h3>\n<p>",
                  a.conversions, " conversions, ", a.converting_paths, " with touches in the lookback, ",
                  a.null_paths, " paths without conversion. Markov chain conversion probability ",
                  absl::StrFormat("%.3f", a.conversion_probability), ".</p>\n");
  if (a.channels.empty()) return;
  double max = 0;
  for (const auto& [m, credits] : a.credit) {
    for (const auto& [c, v] : credits) max = std::max(max, v);
  }
  max = std::max(max, 1e-9);
  const int bar = 9, group_gap = 10, label_w = 90, chart_w = 520;
  const int group_h = static_cast<int>(kModels.size()) * bar + group_gap;
  const int height = static_cast<int>(a.channels.size()) * group_h + 30;
  absl::StrAppendFormat(&out,
                        "<svg class=\"attribution\" id=\"attribution-%s\" xmlns=\"http://www.w3.org/2000/svg\" "
                        "width=\"%d\" height=\"%d\" role=\"img\">\n",
                        HtmlEscape(a.journey), std::max(label_w + chart_w + 80, label_w + 112 * 6), height);
  int x = label_w;
  for (Model m : kModels) {  // Legend.
    absl::StrAppendFormat(&out, "<rect x=\"%d\" y=\"4\" width=\"10\" height=\"10\" fill=\"%s\"/>\n", x, ModelColor(m));
    absl::StrAppendFormat(&out, "<text x=\"%d\" y=\"13\" font-size=\"11\">%s</text>\n", x + 13, ModelName(m));
    x += 112;
  }
  int y = 24;
  for (v1::Channel c : a.channels) {
    absl::StrAppendFormat(&out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", label_w - 8,
                          y + group_h / 2, Channel(c));
    for (Model m : kModels) {
      const auto& credits = a.credit.at(m);
      auto it = credits.find(c);
      const double v = it == credits.end() ? 0 : it->second;
      absl::StrAppendFormat(&out,
                            "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%s, %s: "
                            "%.2f</title></rect>\n",
                            label_w, y, v / max * chart_w, bar - 1, ModelColor(m), Channel(c), ModelName(m), v);
      y += bar;
    }
    y += group_gap;
  }
  absl::StrAppend(&out, "</svg>\n<table><tr><th>channel</th>");
  for (Model m : kModels) absl::StrAppend(&out, "<th>", ModelName(m), "</th>");
  absl::StrAppend(&out, "<th>removal effect</th></tr>\n");
  for (v1::Channel c : a.channels) {
    absl::StrAppend(&out, "<tr><td>", Channel(c), "</td>");
    for (Model m : kModels) {
      const auto& credits = a.credit.at(m);
      auto it = credits.find(c);
      absl::StrAppendFormat(&out, "<td>%.1f</td>", it == credits.end() ? 0.0 : it->second);
    }
    auto e = a.removal_effect.find(c);
    absl::StrAppend(&out, "<td>", Percent(e == a.removal_effect.end() ? 0 : e->second), "</td></tr>\n");
  }
  absl::StrAppend(&out, "</table>\n");
}

}  // namespace

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
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>";
  absl::StrAppend(&out, HtmlEscape(r.title),
                  "</title>\n<style>\nbody { font-family: sans-serif; margin: 2em; color: #222; max-width: 1000px; }\n"
                  "table { border-collapse: collapse; margin: 0.5em 0 1.5em; }\n"
                  "td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }\n"
                  "td:first-child, th:first-child { text-align: left; }\n"
                  "svg text { font-size: 12px; fill: #222; }\n"
                  "</style>\n</head>\n<body>\n<h1>",
                  HtmlEscape(r.title), "</h1>\n");
  for (const std::string& note : r.notes) absl::StrAppend(&out, "<p>", HtmlEscape(note), "</p>\n");
  KpiTable(r, out);
  if (!r.funnels.empty()) {
    absl::StrAppend(&out, "<h2>Journey funnels</h2>\n");
    for (const JourneyFunnel& f : r.funnels) FunnelChart(f, out);
  }
  if (r.paths) Paths(*r.paths, out);
  if (!r.attributions.empty()) {
    absl::StrAppend(&out, "<h2>Attribution</h2>\n");
    for (const Attribution& a : r.attributions) AttributionChart(a, out);
  }
  absl::StrAppend(&out, "<p><small>Generated by omnijourney ", OMNIJOURNEY_VERSION_STRING,
                  ".</small></p>\n</body>\n</html>\n");
  return out;
}

}  // namespace omnijourney::analytics
