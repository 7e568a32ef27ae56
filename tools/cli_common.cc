#include "cli_common.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "omnijourney/event_json.h"

namespace omnijourney::cli {

// Parses `raw` against the options a command accepts; false (with a message) on anything else.
bool ParseArgs(const std::string& command, const std::vector<std::string>& raw,
               const std::vector<std::string>& with_value, const std::vector<std::string>& flags, Args* out,
               std::string_view usage) {
  for (size_t i = 0; i < raw.size(); ++i) {
    const std::string& a = raw[i];
    if (std::find(with_value.begin(), with_value.end(), a) != with_value.end()) {
      if (i + 1 >= raw.size()) {
        std::cerr << command << ": " << a << " needs a value\n" << usage;
        return false;
      }
      out->values.emplace(a, raw[++i]);
    } else if (std::find(flags.begin(), flags.end(), a) != flags.end()) {
      out->flags.push_back(a);
    } else if (a.size() > 1 && a[0] == '-') {
      std::cerr << command << ": unknown option " << a << "\n" << usage;
      return false;
    } else {
      out->positional.push_back(a);
    }
  }
  return true;
}

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

// Events from a file in one of the formats; read errors are reported and counted in *bad.
bool ReadEvents(const std::string& path, const std::string& format, const SegmentOptions& segment,
                ParsedEvents* parsed) {
  std::string input;
  if (!ReadInput(path, &input)) {
    std::cerr << "cannot read " << path << "\n";
    return false;
  }
  if (format == "segment") {
    auto doc = ParseSegmentJson(input, segment);
    if (!doc.ok()) {
      std::cerr << path << ": " << doc.status().message() << "\n";
      return false;
    }
    *parsed = *std::move(doc);
  } else if (format == "segment-lines") {
    *parsed = ParseSegmentJsonLines(input, segment);
  } else if (format == "jsonl") {
    *parsed = ParseEventJsonLines(input);
  } else {
    std::cerr << "unknown format '" << format << "' (jsonl, segment, segment-lines)\n";
    return false;
  }
  return true;
}

// Journey definitions of a file: a JourneySet or one JourneyDefinition in text format, or JSON.
absl::StatusOr<std::vector<JourneyDefinition>> ReadJourneys(const std::string& path) {
  std::string text;
  if (!ReadInput(path, &text)) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  const bool json = path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  if (json) {
    auto one = ParseJourneyJson(text);
    if (!one.ok()) return one.status();
    return std::vector<JourneyDefinition>{*std::move(one)};
  }
  auto set = ParseJourneySetText(text);
  if (set.ok() && !set->empty()) return set;
  auto one = ParseJourneyText(text);
  if (one.ok()) return std::vector<JourneyDefinition>{*std::move(one)};
  // Report the error of the form the file looks like.
  if (text.find("journeys") != std::string::npos && !set.ok()) return set.status();
  if (set.ok()) return absl::InvalidArgumentError("no journeys in the file");
  return one.status();
}

}  // namespace omnijourney::cli
