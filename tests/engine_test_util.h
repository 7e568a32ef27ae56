// Building events for end-to-end engine tests: the examples' event builder.
#ifndef OMNIJOURNEY_TESTS_ENGINE_TEST_UTIL_H_
#define OMNIJOURNEY_TESTS_ENGINE_TEST_UTIL_H_

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "event_builder.h"
#include "gtest/gtest.h"
#include "omnijourney/engine.h"
#include "omnijourney/journey.h"

namespace omnijourney::testing {

using examples::At;
using examples::Ev;

// An empty directory for a store, unique to this test process.
inline std::string FreshDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/omnijourney_" + name + "_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

// Options of an engine on a RocksDB store in `dir`, in event time.
inline EngineOptions Durable(const std::string& dir) {
  EngineOptions options;
  options.storage.path = dir;
  options.time_mode = EngineOptions::TimeMode::kEventTime;
  return options;
}

// Engine::Open, failing the test (and returning null) when it does not open.
inline std::unique_ptr<Engine> Open(const EngineOptions& options) {
  auto e = Engine::Open(options);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? *std::move(e) : nullptr;
}

// A store reservation: reminded after 24 hours ("remind", on `remind_channel`; empty: none named),
// expired 24 hours later ("release"), unless picked up.
inline JourneyDefinition Reservation(std::string_view remind_channel = "") {
  return *JourneyBuilder("reservation", 1)
              .Entry(OnEvent().Names({"Reservation Created"}))
              .State("reserved")
              .On("picked_up", OnEvent().Names({"Reservation Picked Up"}))
              .After("reminded", absl::Hours(24), {MakeAction("remind", remind_channel)})
              .State("reminded")
              .On("picked_up", OnEvent().Names({"Reservation Picked Up"}))
              .After("expired", absl::Hours(24), {MakeAction("release")})
              .Goal("picked_up")
              .Exit("expired")
              .Build();
}

}  // namespace omnijourney::testing

#endif  // OMNIJOURNEY_TESTS_ENGINE_TEST_UTIL_H_
