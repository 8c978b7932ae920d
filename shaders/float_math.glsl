// float_math.glsl - exp and erf as explicit float32 formulas, so that a shader computes the
// same bits as the CPU reference (runtime/float_math.c holds the C twins, operation for
// operation): GLSL's exp() is the driver's own approximation and GLSL has no erf, and a last-bit
// difference in either moves a value across an RLQ rounding boundary now and then (one code
// flip, then its spread through the following windows). With IEEE-rounded +, -, *, / (lavapipe,
// and the CPU) the two agree exactly; elsewhere they agree to the driver's rounding of those.
// Every operation is `precise`: no FMA contraction, no reassociation.

// exp: Cody-Waite reduction x = n ln2 + r (ln2 split in a 9-bit head, so n * head is exact),
// Cephes' degree-7 polynomial for e^r on |r| <= ln2 / 2 (about 1 ulp), then an exact scaling by
// 2^n built from its bits. Below -86 the result is 0 (e^-86 < 5e-38, whose scaling would leave
// the normal range, where drivers may flush); above 88 it is e^88 (the callers' arguments are
// <= 0: softmax's s - max, erfc's -z^2 - ...).
float qsr_exp(float x) {
    if (x < -86.0) return 0.0;
    precise float xc = min(x, 88.0);
    precise float n = roundEven(xc * 1.44269504088896341);
    precise float r = xc - n * 0.693359375;
    r = r - n * -2.12194440e-4;
    precise float p = 1.9875691500e-4;
    p = p * r + 1.3981999507e-3;
    p = p * r + 8.3334519073e-3;
    p = p * r + 4.1665795894e-2;
    p = p * r + 1.6666665459e-1;
    p = p * r + 5.0000001201e-1;
    precise float er = p * (r * r) + r + 1.0;
    precise float y = er * intBitsToFloat((int(n) + 127) << 23);
    return y;
}

// erf: the Maclaurin series to x^23 for |x| < 1 (terms past it < 2e-9), else 1 - erfc with
// Numerical Recipes' Chebyshev fit of erfc (fractional error < 1.2e-7). Within 1.8e-7 of the
// exact erf on [-6, 6] (tests/test_reference_t.c measures the C twin against erff).
float qsr_erf(float x) {
    float z = abs(x);
    if (z < 1.0) {
        precise float s = x * x;
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
        precise float y = (x * 1.1283791671) * p;
        return y;
    }
    precise float t = 1.0 / (1.0 + 0.5 * z);
    precise float p = 0.17087277;
    p = -0.82215223 + t * p;
    p = 1.48851587 + t * p;
    p = -1.13520398 + t * p;
    p = 0.27886807 + t * p;
    p = -0.18628806 + t * p;
    p = 0.09678418 + t * p;
    p = 0.37409196 + t * p;
    p = 1.00002368 + t * p;
    precise float arg = -z * z - 1.26551223 + t * p;
    precise float r = 1.0 - t * qsr_exp(arg);
    return x < 0.0 ? -r : r;
}
