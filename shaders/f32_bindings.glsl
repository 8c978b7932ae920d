// f32_bindings.glsl - the bindings of conv3x3_f32.comp and upsample_folded.comp (one set layout
// serves both; ops.h QSR__CONV_F32_BINDINGS). Activations and weights are read as 16-byte texels
// (fetch.glsl); each includer documents its weight layout.
#include "fetch.glsl"
FETCH_BUFFER4(0, src); // activations [cin][h][w], read a row segment at a time
FETCH_BUFFER4(1, weights4);
vec4 weight(int i) { return uintBitsToFloat(FETCH4(weights4, i)); }
layout(std430, binding = 2) readonly buffer Params { float params[]; }; // biases
layout(std430, binding = 3) buffer Dst { float dst[]; };
layout(std430, binding = 4) readonly buffer Skip { float skip[]; };
layout(std430, binding = 5) writeonly buffer DstRgba { uint dst_rgba[]; };
// status[0] != 0 after a run: conv_last (or the folded upsampler) produced a non-finite value
// (the output is unusable).
layout(std430, binding = 6) buffer Status { uint status[]; };
