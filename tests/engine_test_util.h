// Building events for end-to-end engine tests: the examples' event builder.
#ifndef OMNIJOURNEY_TESTS_ENGINE_TEST_UTIL_H_
#define OMNIJOURNEY_TESTS_ENGINE_TEST_UTIL_H_

#include "event_builder.h"
#include "omnijourney/engine.h"

namespace omnijourney::testing {

using examples::At;
using examples::Ev;

}  // namespace omnijourney::testing

#endif  // OMNIJOURNEY_TESTS_ENGINE_TEST_UTIL_H_
