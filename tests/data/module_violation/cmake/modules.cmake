# The real module list, for a tree that breaks it (the module_dependencies check must fail on it).
include("${CMAKE_CURRENT_LIST_DIR}/../../../../cmake/modules.cmake")
