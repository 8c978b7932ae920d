// gelu.glsl - GELU as PyTorch computes it, x * 0.5 * (1 + erf(x / sqrt 2)); GLSL has no erf.
// erf: the Maclaurin series to x^23 for |x| < 1 (terms past it < 2e-9), else 1 - erfc with
// Numerical Recipes' Chebyshev fit of erfc (fractional error < 1.2e-7). In float32 on the CPU
// the two stay within 1.8e-7 of the exact erf on [-6, 6] and GELU within 2.1e-7 |x| of glibc's
// erff form (tests/test_gpu_t_ops.c checks the shader against the reference).
float qsr_erf(float x) {
    float z = abs(x);
    if (z < 1.0) {
        float s = x * x;
        precise float p = -1.089222104e-09;
        p = 1.312253296e-08 + s * p;
        p = -1.450385222e-07 + s * p;
        p = 1.458916900e-06 + s * p;
        p = -1.322751323e-05 + s * p;
        p = 1.068376068e-04 + s * p;
        p = -7.575757576e-04 + s * p;
        p = 4.629629630e-03 + s * p;
        p = -2.380952381e-02 + s * p;
        p = 1.000000000e-01 + s * p;
        p = -3.333333333e-01 + s * p;
        p = 1.0 + s * p;
        return (x * 1.1283791671) * p;
    }
    float t = 1.0 / (1.0 + 0.5 * z);
    precise float p = 0.17087277;
    p = -0.82215223 + t * p;
    p = 1.48851587 + t * p;
    p = -1.13520398 + t * p;
    p = 0.27886807 + t * p;
    p = -0.18628806 + t * p;
    p = 0.09678418 + t * p;
    p = 0.37409196 + t * p;
    p = 1.00002368 + t * p;
    precise float r = 1.0 - t * exp(-z * z - 1.26551223 + t * p);
    return x < 0.0 ? -r : r;
}

float qsr_gelu(float x) {
    precise float half_x = x * 0.5;
    precise float one_plus = 1.0 + qsr_erf(x * 0.70710678118654752440);
    precise float y = half_x * one_plus;
    return y;
}
