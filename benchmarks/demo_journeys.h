// The demo's journeys (examples/data/journeys.textproto), as the benchmarks run them. A benchmark
// cannot go on without them: a file that does not parse ends the process with the reason.
#ifndef OMNIJOURNEY_BENCHMARKS_DEMO_JOURNEYS_H_
#define OMNIJOURNEY_BENCHMARKS_DEMO_JOURNEYS_H_

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "omnijourney/journey.h"

namespace omnijourney::benchmarks {

inline std::vector<JourneyDefinition> DemoJourneys() {
  const std::string path = std::string(OMNIJOURNEY_EXAMPLE_DATA_DIR) + "/journeys.textproto";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<std::vector<JourneyDefinition>> journeys = ParseJourneySetText(text.str());
  if (!journeys.ok() || journeys->empty()) {
    std::cerr << path << ": " << (journeys.ok() ? "no journeys" : journeys.status().ToString()) << "\n";
    std::exit(1);
  }
  return *std::move(journeys);
}

}  // namespace omnijourney::benchmarks

#endif  // OMNIJOURNEY_BENCHMARKS_DEMO_JOURNEYS_H_
