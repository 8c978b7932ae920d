# Every shader variant the runtime embeds (see cmake/shaders.cmake). Variants that differ in
# shape only use specialization constants; defines are for extensions, types and descriptor
# types. Each kernel that reads through texel buffers has a *_storage twin built with
# QSR_STORAGE_FETCH (shaders/fetch.glsl), taken where a buffer exceeds maxTexelBufferElements.
qsr_add_shader(rgb_to_planar SOURCE rgb_to_planar.comp)
qsr_add_shader(conv3x3_f32 SOURCE conv3x3_f32.comp)
qsr_add_shader(conv3x3_f32_fast SOURCE conv3x3_f32.comp DEFINES QSR_FP_FAST)
qsr_add_shader(upsample_folded SOURCE upsample_folded.comp)
qsr_add_shader(quantize_rlq SOURCE quantize_rlq.comp)
qsr_add_shader(conv3x3_q SOURCE conv3x3_q.comp)
qsr_add_shader(conv3x3_q2 SOURCE conv3x3_q2.comp)
qsr_add_shader(conv3x3_q_dot SOURCE conv3x3_q_dot.comp)
qsr_add_shader(conv3x3_q_tiled SOURCE conv3x3_q_tiled.comp)
qsr_add_shader(peak SOURCE peak.comp)
qsr_add_shader(conv3x3_f32_storage SOURCE conv3x3_f32.comp DEFINES QSR_STORAGE_FETCH)
qsr_add_shader(conv3x3_f32_fast_storage SOURCE conv3x3_f32.comp DEFINES QSR_FP_FAST QSR_STORAGE_FETCH)
qsr_add_shader(conv3x3_q_storage SOURCE conv3x3_q.comp DEFINES QSR_STORAGE_FETCH)
qsr_add_shader(conv3x3_q2_storage SOURCE conv3x3_q2.comp DEFINES QSR_STORAGE_FETCH)
qsr_add_shader(conv3x3_q_dot_storage SOURCE conv3x3_q_dot.comp DEFINES QSR_STORAGE_FETCH)
qsr_add_shader(conv3x3_q_tiled_storage SOURCE conv3x3_q_tiled.comp DEFINES QSR_STORAGE_FETCH)
qsr_add_shader(quantize_rlq_storage SOURCE quantize_rlq.comp DEFINES QSR_STORAGE_FETCH)
qsr_add_shader(upsample_folded_storage SOURCE upsample_folded.comp DEFINES QSR_STORAGE_FETCH)
# QuantSR-T (arch 2): the token ops (tests/test_gpu_t_ops.c).
qsr_add_shader(linear_q SOURCE linear_q.comp)
qsr_add_shader(layernorm_q SOURCE layernorm_q.comp)
qsr_add_shader(window_attention SOURCE window_attention.comp)
qsr_add_shader(linear_q_storage SOURCE linear_q.comp DEFINES QSR_STORAGE_FETCH)
qsr_add_shader(layernorm_q_storage SOURCE layernorm_q.comp DEFINES QSR_STORAGE_FETCH)
qsr_add_shader(window_attention_storage SOURCE window_attention.comp DEFINES QSR_STORAGE_FETCH)
