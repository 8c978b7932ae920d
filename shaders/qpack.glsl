// qpack.glsl - packed low-bit activation codes: QPACK_CPW codes per 32-bit word, code k of a
// word in bits [k*4, k*4 + 4). Codes of 2 and 3 bits use 4-bit containers too (sign-extended
// when signed): a word then holds exactly the 8 output channels one conv3x3_q invocation
// makes, so the convolution can write its result's codes for the next layer itself.
const int QPACK_CONTAINER = 4;
const int QPACK_CPW = 8;

int qpack_get(uint word, int k, int cont, bool is_signed) {
    return is_signed ? bitfieldExtract(int(word), k * cont, cont)
                     : int(bitfieldExtract(word, k * cont, cont));
}

uint qpack_put(int code, int k, int cont) {
    return (uint(code) & ((1u << cont) - 1u)) << (k * cont);
}

// Where a w x h grid's code word (x, y) of plane p lies: planar, at p w h + y w + x; padded
// (QuantSR-C's body under conv3x3_q and conv3x3_q2, qsr__code_word in ops.h), a plane is h + 2
// rows of code_stride(w) words, pixel (x, y) at (y + 1) stride + x + 1, and the border words
// are 0, the convolution's zero padding. There a row segment from x0 - 1 (x0 a multiple of 4)
// starts on a 16-byte texel and needs no masks (row_fetch.glsl).
int code_stride(int w) {
    return (w + 5) & ~3;
}

int code_index(bool padded, int w, int h, int plane, int x, int y) {
    if (!padded) return (plane * h + y) * w + x;
    int stride = code_stride(w);
    return (plane * (h + 2) + y + 1) * stride + x + 1;
}
