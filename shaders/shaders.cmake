# Every shader variant the runtime embeds (see cmake/shaders.cmake). Variants that differ in
# shape only use specialization constants; defines are for extensions and types.
qsr_add_shader(rgb_to_planar SOURCE rgb_to_planar.comp)
qsr_add_shader(conv3x3_f32 SOURCE conv3x3_f32.comp)
qsr_add_shader(conv3x3_f32_fast SOURCE conv3x3_f32.comp DEFINES QSR_FP_FAST)
qsr_add_shader(quantize_rlq SOURCE quantize_rlq.comp)
qsr_add_shader(conv3x3_q SOURCE conv3x3_q.comp)
qsr_add_shader(conv3x3_q2 SOURCE conv3x3_q2.comp)
qsr_add_shader(conv3x3_q_dot SOURCE conv3x3_q_dot.comp)
qsr_add_shader(conv3x3_q_tiled SOURCE conv3x3_q_tiled.comp)
qsr_add_shader(peak SOURCE peak.comp)
