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
