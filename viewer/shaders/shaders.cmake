# The viewer's own compute shaders (not the library's table): each viewer/shaders/<stem>.comp
# becomes <build>/viewer_shaders/<stem>.spv.h, a uint32_t array named viewer_spv_<stem>.
set(QSR_VIEWER_SHADER_DIR ${CMAKE_CURRENT_SOURCE_DIR}/viewer/shaders)
set(QSR_VIEWER_SHADER_OUT ${CMAKE_CURRENT_BINARY_DIR}/viewer_shaders)
file(MAKE_DIRECTORY ${QSR_VIEWER_SHADER_OUT})
set(QSR_VIEWER_SHADER_HEADERS "")
foreach(stem compose)
  set(out ${QSR_VIEWER_SHADER_OUT}/${stem}.spv.h)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${GLSLANG_VALIDATOR} -V --target-env vulkan1.1 --quiet --vn viewer_spv_${stem} -o ${out}
            ${QSR_VIEWER_SHADER_DIR}/${stem}.comp
    DEPENDS ${QSR_VIEWER_SHADER_DIR}/${stem}.comp
    COMMENT "glslang viewer ${stem}"
    VERBATIM)
  list(APPEND QSR_VIEWER_SHADER_HEADERS ${out})
endforeach()
add_custom_target(quantsr_view_shaders DEPENDS ${QSR_VIEWER_SHADER_HEADERS})
add_dependencies(quantsr-view quantsr_view_shaders)
target_include_directories(quantsr-view PRIVATE ${QSR_VIEWER_SHADER_OUT})
