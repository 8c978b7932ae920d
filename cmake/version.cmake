# The version lives in project(VERSION) and, for C code, in QSR_VERSION_* of include/quantsr.h;
# they must agree, since the package version, the .pc file and the SONAME come from the first.
file(STRINGS ${PROJECT_SOURCE_DIR}/include/quantsr.h QSR_HEADER_VERSION_LINES
  REGEX "^#define QSR_VERSION_(MAJOR|MINOR|PATCH) +[0-9]+")
set(QSR_HEADER_VERSION "")
foreach(part MAJOR MINOR PATCH)
  set(number "")
  foreach(line ${QSR_HEADER_VERSION_LINES})
    if(line MATCHES "^#define QSR_VERSION_${part} +([0-9]+)")
      set(number ${CMAKE_MATCH_1})
    endif()
  endforeach()
  if(number STREQUAL "")
    message(FATAL_ERROR "include/quantsr.h has no QSR_VERSION_${part}")
  endif()
  list(APPEND QSR_HEADER_VERSION ${number})
endforeach()
list(JOIN QSR_HEADER_VERSION "." QSR_HEADER_VERSION)
if(NOT QSR_HEADER_VERSION STREQUAL PROJECT_VERSION)
  message(FATAL_ERROR "include/quantsr.h says version ${QSR_HEADER_VERSION}, "
    "project() in CMakeLists.txt says ${PROJECT_VERSION}: change both")
endif()
