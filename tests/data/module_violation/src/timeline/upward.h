// A lower module including a higher one: the module_dependencies check must refuse this tree.
#include "engine/engine_state.h"
