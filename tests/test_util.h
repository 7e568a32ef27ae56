// Helpers shared by the tests.
#ifndef OMNIJOURNEY_TESTS_TEST_UTIL_H_
#define OMNIJOURNEY_TESTS_TEST_UTIL_H_

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace omnijourney::testing {

// Contents of tests/data/<relative_path>; fails the test when it cannot be read.
inline std::string ReadTestData(const std::string& relative_path) {
  const std::string path = std::string(OMNIJOURNEY_TEST_DATA_DIR) + "/" + relative_path;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace omnijourney::testing

#endif  // OMNIJOURNEY_TESTS_TEST_UTIL_H_
