// First omnijourney example: read events from two channels in two formats, validate them, drop
// re-deliveries by (source, event_id), and print the accepted ones in event-time order.
//
// Usage: omnijourney_demo [DATA_DIR]   (default: the examples/data directory of the source tree)
//
// The web shop sends Segment-spec JSON Lines; the contact centre (chat, telephony) sends
// omnijourney's own JSON Lines. Later examples feed the same events to the Engine.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "omnijourney/engine.h"
#include "omnijourney/event_json.h"
#include "omnijourney/segment.h"
#include "omnijourney/validate.h"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << path << "\n";
    std::exit(1);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : OMNIJOURNEY_EXAMPLE_DATA_DIR;

  omnijourney::SegmentOptions segment;
  segment.source = "segment:web";
  omnijourney::ParsedEvents web =
      omnijourney::ParseSegmentJsonLines(ReadFile(dir + "/web_segment.jsonl"), segment);
  omnijourney::ParsedEvents centre =
      omnijourney::ParseEventJsonLines(ReadFile(dir + "/contact_centre.jsonl"));

  std::vector<omnijourney::Event> all;
  for (auto* parsed : {&web, &centre}) {
    for (const auto& err : parsed->errors) std::cout << "unreadable: " << err.status.message() << "\n";
    for (auto& e : parsed->events) all.push_back(std::move(e));
  }

  if (all.empty()) {
    std::cerr << "no events in " << dir << "\n";
    return 1;
  }
  // The validation clock: the demo data is from November 2026.
  const absl::Time now = omnijourney::FromTimestamp(all.front().occurred_at()) + absl::Hours(24 * 30);
  std::set<std::pair<std::string, std::string>> seen;
  std::vector<omnijourney::Event> accepted;
  for (const auto& e : all) {
    if (absl::Status s = omnijourney::ValidateEvent(e, {}, now); !s.ok()) {
      std::cout << "rejected " << e.source() << "/" << e.event_id() << ": " << s.message() << "\n";
      continue;
    }
    if (!seen.emplace(e.source(), e.event_id()).second) {
      std::cout << "duplicate " << e.source() << "/" << e.event_id() << ": already ingested, skipped\n";
      continue;
    }
    accepted.push_back(e);
  }
  std::stable_sort(accepted.begin(), accepted.end(), [](const auto& a, const auto& b) {
    return omnijourney::FromTimestamp(a.occurred_at()) < omnijourney::FromTimestamp(b.occurred_at());
  });

  std::cout << "\n" << accepted.size() << " events accepted, in event-time order:\n";
  for (const auto& e : accepted) std::cout << "  " << omnijourney::DescribeEvent(e) << "\n";
  std::cout << "\nEach channel saw only its own identifiers (cookie, email, chat handle, phone).\n";

  // The call arrives: what does the operator see? Omnichannel (stitching on) vs multichannel.
  for (bool stitching : {true, false}) {
    omnijourney::EngineOptions options;
    options.time_mode = omnijourney::EngineOptions::TimeMode::kEventTime;  // Replaying November data.
    if (!stitching) {
      for (auto& [type, rule] : options.identity.rules) rule.links = false;
      options.identity.default_rule.links = false;
    }
    auto engine = omnijourney::Engine::Open(options);
    if (!engine.ok()) {
      std::cerr << engine.status() << "\n";
      return 1;
    }
    for (const auto& e : all) {  // Everything, re-deliveries and bad events included: the engine sorts it out.
      (void)(*engine)->Ingest(e);
    }
    std::cout << "\n=== Incoming call from +420 601 123 456, " << (stitching ? "omnichannel" : "multichannel")
              << " (stitching " << (stitching ? "on" : "off") << ") ===\n";
    auto ctx = (*engine)->Context({"", "phone", "+420 601 123 456"});
    if (ctx.ok()) {
      std::cout << omnijourney::RenderContext(*ctx);
    } else {
      std::cout << "no context: " << ctx.status().message() << "\n";
    }
  }
  return 0;
}
