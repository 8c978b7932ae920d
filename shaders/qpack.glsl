// qpack.glsl - packed low-bit activation codes: CPW codes per 32-bit word, code k of a word
// in bits [k*CONT, k*CONT + CONT). Codes of b = 3 use 4-bit containers (sign-extended when
// signed), as the .qsr weight packing does (docs/model-format.md).
int qpack_container(int bits) { return bits == 2 ? 2 : 4; }

int qpack_get(uint word, int k, int cont, bool is_signed) {
    return is_signed ? bitfieldExtract(int(word), k * cont, cont)
                     : int(bitfieldExtract(word, k * cont, cont));
}

uint qpack_put(int code, int k, int cont) {
    return (uint(code) & ((1u << cont) - 1u)) << (k * cont);
}
