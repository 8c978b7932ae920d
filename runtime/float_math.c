/* float_math.c - exp and erf as explicit float32 formulas (float_math.h); keep each line equal
 * to its counterpart in shaders/float_math.glsl, which documents the formulas. Compiled without
 * FMA contraction (C11 mode, the pragma for clang), every operation rounded separately. */
#include "float_math.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* 2^n for -126 <= n <= 127, from its bits: multiplying by it is exact. */
static float pow2i(int n) {
    uint32_t bits = (uint32_t)(n + 127) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

float qsr__exp(float x) {
    if (x < -86.0f) return 0.0f;
    float xc = x < 88.0f ? x : 88.0f;
    float n = rintf(xc * 1.44269504088896341f);
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float er = p * (r * r) + r + 1.0f;
    return er * pow2i((int)n);
}

float qsr__erf(float x) {
    float z = fabsf(x);
    if (z < 1.0f) {
        float s = x * x;
        float p = -1.089222104e-09f;
        p = 1.312253296e-08f + s * p;
        p = -1.450385222e-07f + s * p;
        p = 1.458916900e-06f + s * p;
        p = -1.322751323e-05f + s * p;
        p = 1.068376068e-04f + s * p;
        p = -7.575757576e-04f + s * p;
        p = 4.629629630e-03f + s * p;
        p = -2.380952381e-02f + s * p;
        p = 1.000000000e-01f + s * p;
        p = -3.333333333e-01f + s * p;
        p = 1.0f + s * p;
        return (x * 1.1283791671f) * p;
    }
    float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = -0.82215223f + t * p;
    p = 1.48851587f + t * p;
    p = -1.13520398f + t * p;
    p = 0.27886807f + t * p;
    p = -0.18628806f + t * p;
    p = 0.09678418f + t * p;
    p = 0.37409196f + t * p;
    p = 1.00002368f + t * p;
    float arg = -z * z - 1.26551223f + t * p;
    float r = 1.0f - t * qsr__exp(arg);
    return x < 0.0f ? -r : r;
}
