// qpairs.glsl - the pair-word arithmetic of conv3x3_q.comp and conv3x3_q_tiled.comp: a weight
// word of 8 nibbles becomes 4 pair words w[2p] + 65536 * w[2p + 1], so one multiply by an
// activation code adds two output channels' products in 16-bit fields, flushed into 32-bit
// sums after every activation word (8 channels * 9 taps * |15 * 8| = 8640 < 32768).

// The pair words of one weight word: lane p = code[2p] + 65536 * code[2p + 1].
ivec4 unpack_pairs(uint word) {
    ivec4 w = ivec4(int(word));
    return ((w << ivec4(28, 20, 12, 4)) >> 28) + (((w << ivec4(24, 16, 8, 0)) >> 28) << 16);
}

// Flushes 16-bit field sums into the 32-bit accumulators of one pixel (lo: channels 2p,
// hi: channels 2p + 1).
void flush(ivec4 acc16, inout ivec4 lo, inout ivec4 hi) {
    ivec4 l = (acc16 << 16) >> 16;
    lo += l;
    hi += (acc16 - l) >> 16;
}
