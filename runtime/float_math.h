/* float_math.h - exp and erf as explicit float32 formulas, the C twins of
 * shaders/float_math.glsl, operation for operation: the CPU reference uses them where the
 * shaders do, so that both compute the same bits wherever the device rounds +, -, *, / as IEEE
 * does (the C library's expf/erff and a driver's exp() each round their own way, and a last-bit
 * difference moves a value across an RLQ rounding boundary now and then). Accuracy: qsr__exp
 * about 1 ulp on [-86, 88] (0 below -86), qsr__erf within 1.8e-7 of the exact erf
 * (tests/test_reference_t.c measures both against the C library). */
#ifndef QSR_FLOAT_MATH_H
#define QSR_FLOAT_MATH_H

float qsr__exp(float x);
float qsr__erf(float x);

#endif
