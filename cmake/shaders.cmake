# Compiles shaders/*.comp to SPIR-V at build time and embeds them in the library.
# qsr_add_shader(<stem> SOURCE <file.comp> [DEFINES A=1 B=2]) adds one variant; every variant
# becomes shaders/<stem>.spv.h (a uint32_t array named qsr_spv_<stem>) and one row of the
# generated shader_table.c, indexed by the generated enum qsr_shader_id (QSR_SHADER_<STEM>).
set(QSR_SHADER_STEMS "")
set(QSR_SHADER_HEADERS "")
set(QSR_SHADER_DIR ${CMAKE_CURRENT_SOURCE_DIR}/shaders)
set(QSR_SHADER_OUT ${CMAKE_CURRENT_BINARY_DIR}/shaders)
file(MAKE_DIRECTORY ${QSR_SHADER_OUT})

function(qsr_add_shader stem)
  cmake_parse_arguments(ARG "" "SOURCE" "DEFINES" ${ARGN})
  set(defs "")
  foreach(d ${ARG_DEFINES})
    list(APPEND defs "-D${d}")
  endforeach()
  set(out ${QSR_SHADER_OUT}/${stem}.spv.h)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${GLSLANG_VALIDATOR} -V --target-env vulkan1.1 --quiet -I${QSR_SHADER_DIR} ${defs}
            --vn qsr_spv_${stem} --depfile ${QSR_SHADER_OUT}/${stem}.d -o ${out}
            ${QSR_SHADER_DIR}/${ARG_SOURCE}
    DEPENDS ${QSR_SHADER_DIR}/${ARG_SOURCE}
    DEPFILE ${QSR_SHADER_OUT}/${stem}.d
    COMMENT "glslang ${stem}"
    VERBATIM)
  set(QSR_SHADER_STEMS ${QSR_SHADER_STEMS} ${stem} PARENT_SCOPE)
  set(QSR_SHADER_HEADERS ${QSR_SHADER_HEADERS} ${out} PARENT_SCOPE)
endfunction()

include(${QSR_SHADER_DIR}/shaders.cmake)

set(QSR_SHADER_INCLUDES "")
set(QSR_SHADER_ROWS "")
set(QSR_SHADER_ENUM "")
foreach(stem ${QSR_SHADER_STEMS})
  string(TOUPPER ${stem} up)
  string(APPEND QSR_SHADER_INCLUDES "#include \"${stem}.spv.h\"\n")
  string(APPEND QSR_SHADER_ROWS "    {\"${stem}\", qsr_spv_${stem}, sizeof(qsr_spv_${stem})},\n")
  string(APPEND QSR_SHADER_ENUM "    QSR_SHADER_${up},\n")
endforeach()
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/shader_table.c.in ${QSR_SHADER_OUT}/shader_table.c @ONLY)
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/shader_table.h.in ${QSR_SHADER_OUT}/shader_table.h @ONLY)
set(QSR_SHADER_TABLE ${QSR_SHADER_OUT}/shader_table.c)
set_source_files_properties(${QSR_SHADER_TABLE} PROPERTIES OBJECT_DEPENDS "${QSR_SHADER_HEADERS}")
add_custom_target(qsr_shaders DEPENDS ${QSR_SHADER_HEADERS})
