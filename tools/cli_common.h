// What the omnijourney tool's commands share: their options and reading events and journeys.
#ifndef OMNIJOURNEY_TOOLS_CLI_COMMON_H_
#define OMNIJOURNEY_TOOLS_CLI_COMMON_H_

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "omnijourney/journey.h"
#include "omnijourney/parsed_events.h"
#include "omnijourney/segment.h"

namespace omnijourney::cli {

// Command-line options: "--name value" pairs, "--flag"s and positional arguments.
struct Args {
  std::multimap<std::string, std::string> values;
  std::vector<std::string> flags;
  std::vector<std::string> positional;

  bool Has(const std::string& flag) const {
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
  }
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  std::vector<std::string> All(const std::string& name) const {
    std::vector<std::string> out;
    for (auto [it, end] = values.equal_range(name); it != end; ++it) out.push_back(it->second);
    return out;
  }
};

// Parses `raw` against the options a command accepts; false (with a message and `usage`) on
// anything else.
bool ParseArgs(const std::string& command, const std::vector<std::string>& raw,
               const std::vector<std::string>& with_value, const std::vector<std::string>& flags, Args* out,
               std::string_view usage);
// The bytes of a file, or of stdin for "-"; false when it cannot be read.
bool ReadInput(const std::string& path, std::string* out);
// Events from a file in one of the formats (jsonl, segment, segment-lines); false (with a
// message) when it cannot be read at all.
bool ReadEvents(const std::string& path, const std::string& format, const SegmentOptions& segment,
                ParsedEvents* parsed);
// Journey definitions of a file: a JourneySet or one JourneyDefinition in text format, or JSON.
absl::StatusOr<std::vector<JourneyDefinition>> ReadJourneys(const std::string& path);

// The commands of a NATS JetStream cluster (cluster, worker, publish, context --cluster): the
// exit status, or -1 when `command` is not one of them.
int ClusterCommand(const std::string& command, const std::vector<std::string>& args, std::string_view usage);
// The server commands (serve, key): the exit status, or -1 when `command` is not one of them.
int ServerCommand(const std::string& command, const std::vector<std::string>& args, std::string_view usage);

}  // namespace omnijourney::cli

#endif  // OMNIJOURNEY_TOOLS_CLI_COMMON_H_
