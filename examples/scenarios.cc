// Scenarios 1-5 of SCENARIOS.md, printed as an operator and a journey designer would see them.
//
//   omnijourney_scenarios [1-5]...     (default: all five)
//
// Each scenario's events, time steps and operator lookups are in scenarios.h; the tests run the
// same scripts.
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "omnijourney/analytics.h"
#include "omnijourney/journey.h"
#include "scenarios.h"

namespace {

using namespace omnijourney;  // NOLINT: example brevity.
using examples::Scenario;
using examples::Step;

std::string Indent(const std::string& text, const std::string& prefix = "    ") {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    absl::StrAppend(&out, prefix, text.substr(start, end - start), "\n");
    start = end + 1;
  }
  return out;
}

void PrintActions(Engine& engine) {
  std::vector<std::string> delivered;
  for (const JourneyAction& a : engine.TakeActions()) {
    delivered.push_back(a.id);
    std::cout << absl::StrFormat("  >> action for the host: %s (journey %s, %s -> %s", a.name, a.journey, a.from_state,
                                 a.to_state);
    if (!a.channel.empty()) std::cout << ", channel " << a.channel;
    for (const auto& [k, v] : a.parameters) std::cout << ", " << k << "=" << v;
    std::cout << ")\n";
  }
  // Delivered: acknowledged, so they are never handed out again (also after a restart).
  (void)engine.AckActions(delivered);
}

absl::Status Run(const Scenario& s) {
  std::cout << "\n=== Scenario " << s.number << ": " << s.title << "\n";
  auto engine = examples::OpenFor(s, true);
  if (!engine.ok()) return engine.status();
  Engine& e = **engine;
  absl::Status st = examples::RunScript(e, s.steps, [&](const Step& step, const IngestResult* r) {
    switch (step.kind) {
      case Step::Kind::kEvent:
        std::cout << "  " << DescribeEvent(step.event);
        if (r != nullptr && !r->merged.empty()) std::cout << "   [profiles merged: " << r->merged.size() << "]";
        std::cout << "\n";
        break;
      case Step::Kind::kAdvance:
        std::cout << "  ... " << step.label << "\n";
        break;
      case Step::Kind::kLook: {
        std::cout << "\n  " << step.label << " (" << step.lookup.type << " " << step.lookup.value << "):\n";
        auto ctx = e.Context(step.lookup);
        std::cout << (ctx.ok() ? Indent(RenderContext(*ctx)) : Indent(std::string(ctx.status().message()))) << "\n";
        break;
      }
    }
    PrintActions(e);
  });
  if (!st.ok()) return st;

  // What each scenario is about, beyond the operator screens.
  if (s.number == 1) {
    std::cout << "  Without stitching (the multichannel baseline) the same call shows:\n";
    auto baseline = examples::OpenFor(s, false);
    if (!baseline.ok()) return baseline.status();
    const Step* look = nullptr;
    st = examples::RunScript(**baseline, s.steps, [&](const Step& step, const IngestResult*) {
      if (step.kind == Step::Kind::kLook) look = &step;
    });
    if (!st.ok()) return st;
    auto ctx = (*baseline)->Context(look->lookup);
    std::cout << (ctx.ok() ? Indent(RenderContext(*ctx)) : Indent(std::string(ctx.status().message())))
              << "  The operator sees only the call: the customer explains everything again.\n";
  }
  if (s.number == 2) {
    auto profiles = analytics::CollectProfiles(e);
    if (!profiles.ok()) return profiles.status();
    analytics::KpiOptions k;
    k.as_of = examples::At(30 * examples::kDay);  // Judged three weeks later.
    const analytics::Kpis kpis = analytics::ComputeKpis(*profiles, k);
    std::cout << absl::StrFormat(
        "  Contacts: %d (a conversation counts once); repeat contacts within 24 h: %d; within 7 d: %d.\n"
        "  Resolved at first contact: %s (%d of %d first contacts).\n",
        kpis.contacts, kpis.repeat_short, kpis.repeat_long,
        kpis.resolved_at_first_contact == kpis.first_contacts ? "yes" : "no", kpis.resolved_at_first_contact,
        kpis.first_contacts);
  }
  if (s.number >= 2) {
    // The journeys each profile went through, with the events that moved them.
    auto ctx = e.Context(s.steps.back().lookup);
    if (!ctx.ok()) return ctx.status();
    auto explained = e.Explain(ctx->profile);
    if (!explained.ok()) return explained.status();
    for (const JourneyTrace& t : explained->journeys) {
      std::cout << "  Journey " << t.journey << " v" << t.version << ": " << t.state << (t.ended ? " (ended)" : "") << "\n";
      for (const auto& step : t.steps) {
        std::cout << "    " << FormatRfc3339(step.time) << "  " << (step.from.empty() ? "(entry)" : step.from) << " -> "
                  << step.to << "  by " << step.cause << "\n";
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Scenario> all = examples::AllScenarios();
  std::vector<int> chosen;
  for (int i = 1; i < argc; ++i) {
    int n = 0;
    if (!absl::SimpleAtoi(argv[i], &n) || n < 1 || n > static_cast<int>(all.size())) {
      std::cerr << "usage: omnijourney_scenarios [1-5]...\n";
      return 2;
    }
    chosen.push_back(n);
  }
  if (chosen.empty()) {
    for (const Scenario& s : all) chosen.push_back(s.number);
  }
  for (int n : chosen) {
    if (absl::Status st = Run(all[static_cast<size_t>(n - 1)]); !st.ok()) {
      std::cerr << "scenario " << n << ": " << st << "\n";
      return 1;
    }
  }
  return 0;
}
