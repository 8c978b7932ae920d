// gelu.glsl - GELU as PyTorch computes it, x * 0.5 * (1 + erf(x / sqrt 2)), with the erf of
// float_math.glsl (the CPU reference, runtime/reference_t.c, uses its C twin, so the two agree
// bit for bit where the device rounds +, -, *, / as IEEE does).
#include "float_math.glsl"

float qsr_gelu(float x) {
    precise float half_x = x * 0.5;
    precise float one_plus = 1.0 + qsr_erf(x * 0.70710678118654752440);
    precise float y = half_x * one_plus;
    return y;
}
