// The omnijourney command-line tool.
//
//   omnijourney convert [--format segment|segment-lines|jsonl] [--source NAME] [--tenant T] FILE|-
//       Reads events (a Segment JSON document, Segment JSON Lines, or omnijourney JSON Lines),
//       validates them and writes omnijourney JSON Lines to stdout. Every bad record is reported on
//       stderr with its line and field; the exit status is 1 when any record was bad.
//   omnijourney version
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "omnijourney/event_json.h"
#include "omnijourney/segment.h"
#include "omnijourney/validate.h"
#include "omnijourney/version.h"

namespace {

constexpr char kUsage[] =
    "usage: omnijourney convert [--format segment|segment-lines|jsonl] [--source NAME] "
    "[--tenant TENANT] FILE|-\n"
    "       omnijourney version\n";

bool ReadInput(const std::string& path, std::string* out) {
  std::stringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    ss << in.rdbuf();
  }
  *out = ss.str();
  return true;
}

int Convert(const std::vector<std::string>& args) {
  std::string format = "jsonl";
  std::string path;
  omnijourney::SegmentOptions segment;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--format" || a == "--source" || a == "--tenant") && i + 1 < args.size()) {
      const std::string& v = args[++i];
      if (a == "--format") format = v;
      if (a == "--source") segment.source = v;
      if (a == "--tenant") segment.tenant = v;
    } else if (!a.empty() && a[0] == '-' && a != "-") {
      std::cerr << "convert: unknown or incomplete option " << a << "\n" << kUsage;
      return 2;
    } else if (path.empty()) {
      path = a;
    } else {
      std::cerr << "convert: more than one input file\n" << kUsage;
      return 2;
    }
  }
  if (path.empty()) {
    std::cerr << "convert: no input file\n" << kUsage;
    return 2;
  }
  std::string input;
  if (!ReadInput(path, &input)) {
    std::cerr << "convert: cannot read " << path << "\n";
    return 1;
  }
  omnijourney::ParsedEvents parsed;
  if (format == "segment") {
    auto doc = omnijourney::ParseSegmentJson(input, segment);
    if (!doc.ok()) {
      std::cerr << path << ": " << doc.status().message() << "\n";
      return 1;
    }
    parsed = *std::move(doc);
  } else if (format == "segment-lines") {
    parsed = omnijourney::ParseSegmentJsonLines(input, segment);
  } else if (format == "jsonl") {
    parsed = omnijourney::ParseEventJsonLines(input);
  } else {
    std::cerr << "convert: unknown format '" << format << "'\n" << kUsage;
    return 2;
  }
  int bad = static_cast<int>(parsed.errors.size());
  for (const auto& err : parsed.errors) std::cerr << path << ": " << err.status.message() << "\n";
  const absl::Time now = absl::Now();
  for (const auto& event : parsed.events) {
    if (absl::Status s = omnijourney::ValidateEvent(event, {}, now); !s.ok()) {
      std::cerr << path << ": event " << event.source() << "/" << event.event_id() << ": "
                << s.message() << "\n";
      ++bad;
      continue;
    }
    std::cout << omnijourney::EventToJson(event) << "\n";
  }
  return bad == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "convert") return Convert(args);
  if (command == "version") {
    std::cout << "omnijourney " << OMNIJOURNEY_VERSION_STRING << "\n";
    return 0;
  }
  std::cerr << "unknown command '" << command << "'\n" << kUsage;
  return 2;
}
