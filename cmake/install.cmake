# cmake --install: the public header, libquantsr.a and libquantsr.so.N, a CMake package
# (find_package(quantsr): quantsr::quantsr is the shared library, quantsr::quantsr_static the
# static one), quantsr.pc for pkg-config, the quantsr and quantsr-view programs and the bundled
# models. docs/embedding.md describes the installed tree; tests/install/consume.sh checks it.
include(CMakePackageConfigHelpers)

set(QSR_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/quantsr)

install(TARGETS quantsr quantsr_shared EXPORT quantsrTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES include/quantsr.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT quantsrTargets NAMESPACE quantsr:: DESTINATION ${QSR_CMAKE_INSTALL_DIR})

configure_package_config_file(cmake/quantsrConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/quantsrConfig.cmake
  INSTALL_DESTINATION ${QSR_CMAKE_INSTALL_DIR}
  PATH_VARS QSR_MODEL_INSTALL_DIR)
# 0.x: a new minor version may change the API, so only the same major.minor is compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/quantsrConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/quantsrConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/quantsrConfigVersion.cmake DESTINATION ${QSR_CMAKE_INSTALL_DIR})

# quantsr.pc finds its prefix from its own folder (${pcfiledir}), so an installed tree works
# wherever it is put (cmake --install --prefix, DESTDIR, a copied folder). An absolute
# CMAKE_INSTALL_<dir> is written as it is.
function(qsr_pc_path out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
set(QSR_PC_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(QSR_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH QSR_PC_UP /${QSR_PC_INSTALL_DIR} /)
  string(REGEX REPLACE "/$" "" QSR_PC_UP "${QSR_PC_UP}")
  set(QSR_PC_PREFIX "\${pcfiledir}/${QSR_PC_UP}")
endif()
qsr_pc_path(QSR_PC_LIBDIR ${CMAKE_INSTALL_LIBDIR})
qsr_pc_path(QSR_PC_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR})
qsr_pc_path(QSR_PC_MODELDIR ${QSR_MODEL_INSTALL_DIR})
# What a static link adds (pkg-config --static): volk and stb are compiled into the library and
# volk loads the Vulkan loader at run time (dlopen), so there is no libvulkan to link.
set(QSR_PC_LIBS_PRIVATE "")
if(QSR_MATH_LIBRARY)
  set(QSR_PC_LIBS_PRIVATE "-l${QSR_MATH_LIBRARY}")
endif()
foreach(lib ${CMAKE_DL_LIBS})
  string(APPEND QSR_PC_LIBS_PRIVATE " -l${lib}")
endforeach()
if(CMAKE_THREAD_LIBS_INIT)
  string(APPEND QSR_PC_LIBS_PRIVATE " ${CMAKE_THREAD_LIBS_INIT}")
endif()
configure_file(cmake/quantsr.pc.in ${CMAKE_CURRENT_BINARY_DIR}/quantsr.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/quantsr.pc DESTINATION ${QSR_PC_INSTALL_DIR})

if(TARGET quantsr-cli)
  install(TARGETS quantsr-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
if(TARGET quantsr-view)
  install(TARGETS quantsr-view RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(DIRECTORY models/ DESTINATION ${QSR_MODEL_INSTALL_DIR}
  FILES_MATCHING PATTERN "*.qsr" PATTERN "README.md" PATTERN "results.csv")
