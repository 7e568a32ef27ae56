# Findre2: RE2 (Debian libre2-dev), the linear-time regular expressions of blocked identifier
# patterns (src/identity/rules.h).
#
# Defines the imported target re2::re2 and re2_FOUND.
include(FindPackageHandleStandardArgs)
find_path(re2_INCLUDE_DIR NAMES re2/re2.h)
find_library(re2_LIBRARY NAMES re2)
find_package_handle_standard_args(re2 REQUIRED_VARS re2_LIBRARY re2_INCLUDE_DIR)
if(re2_FOUND AND NOT TARGET re2::re2)
  add_library(re2::re2 UNKNOWN IMPORTED)
  set_target_properties(re2::re2 PROPERTIES
    IMPORTED_LOCATION "${re2_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${re2_INCLUDE_DIR}")
endif()
mark_as_advanced(re2_INCLUDE_DIR re2_LIBRARY)
