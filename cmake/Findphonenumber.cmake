# Findphonenumber: Google's libphonenumber (Debian libphonenumber-dev ships no CMake config).
#
# Defines the imported target phonenumber::phonenumber and phonenumber_FOUND.
include(FindPackageHandleStandardArgs)
find_path(phonenumber_INCLUDE_DIR NAMES phonenumbers/phonenumberutil.h)
find_library(phonenumber_LIBRARY NAMES phonenumber)
find_package_handle_standard_args(phonenumber
  REQUIRED_VARS phonenumber_LIBRARY phonenumber_INCLUDE_DIR)
if(phonenumber_FOUND AND NOT TARGET phonenumber::phonenumber)
  add_library(phonenumber::phonenumber UNKNOWN IMPORTED)
  set_target_properties(phonenumber::phonenumber PROPERTIES
    IMPORTED_LOCATION "${phonenumber_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${phonenumber_INCLUDE_DIR}")
endif()
mark_as_advanced(phonenumber_INCLUDE_DIR phonenumber_LIBRARY)
