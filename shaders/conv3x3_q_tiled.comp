#version 450
#extension GL_GOOGLE_include_directive : require
// conv3x3_q_tiled: conv3x3_q for GPUs with fast shared memory (discrete and mobile). A
// workgroup of TX x TY invocations, one pixel and 8 output channels each, stages each code
// word's (TX + 2) x (TY + 2) neighbourhood and the group's 72 weight words of that word in
// shared memory, so a global word is read once per workgroup instead of 9 times (codes) or
// TX * TY times (weights). The arithmetic is conv3x3_q's (qpairs.glsl), so are the weight
// layout and the epilogue. QSR_KERNEL=tiled forces it (on lavapipe shared memory is slow).
#include "common.glsl"
#include "qpack.glsl"
#include "fetch.glsl"
FETCH_BUFFER(0, src);     // codes [cin/8][h][w]
FETCH_BUFFER(1, weights); // [cout/8][cin][9] words of 8 nibbles
#include "qconv_epilogue.glsl"
#include "qpairs.glsl"

// The workgroup's shape: the pipeline's local size (specialization constants 100 and 101,
// chosen from the device's limits: runtime/ops/conv3x3_q.c, CONV_Q_TILE_*), which also sizes
// the shared tiles. The weights are staged by the first 72 invocations, or in several rounds
// when the workgroup is smaller.
const int TX = int(gl_WorkGroupSize.x), TY = int(gl_WorkGroupSize.y);
const int TILE_W = TX + 2, TILE_WORDS = (TX + 2) * (TY + 2);
shared uint code_tile[TILE_WORDS];
shared uint weight_tile[QPACK_CPW * 9];

uint load_word(int cw, int ix, int iy, int plane) {
    bool inside = ix >= 0 && iy >= 0 && ix < pc.in_w && iy < pc.in_h;
    int i = cw * plane + clamp(iy, 0, pc.in_h - 1) * pc.in_w + clamp(ix, 0, pc.in_w - 1);
    return inside ? FETCH(src, i) : 0u;
}

// Stages code word cw of the tile (with its 1-pixel halo) and the group's weights of its
// channels; every invocation takes a share.
void stage(int cw, int group, int plane, int lid) {
    int bx = int(gl_WorkGroupID.x) * TX - 1, by = int(gl_WorkGroupID.y) * TY - 1;
    for (int i = lid; i < TILE_WORDS; i += TX * TY)
        code_tile[i] = load_word(cw, bx + i % TILE_W, by + i / TILE_W, plane);
    for (int i = lid; i < QPACK_CPW * 9; i += TX * TY) {
        int c = cw * QPACK_CPW + i / 9;
        weight_tile[i] =
            c < pc.cin ? FETCH(weights, pc.w_off + (group * pc.cin + c) * 9 + i % 9) : 0u;
    }
}

void main() {
    int lx = int(gl_LocalInvocationID.x), ly = int(gl_LocalInvocationID.y), lid = ly * TX + lx;
    int x = int(gl_WorkGroupID.x) * TX + lx, y = int(gl_WorkGroupID.y) * TY + ly;
    int group = int(gl_WorkGroupID.z);
    int plane = pc.in_w * pc.in_h;
    int words = (pc.cin + QPACK_CPW - 1) / QPACK_CPW;
    bool sgn = SIGNED_A != 0;
    ivec4 lo = ivec4(0), hi = ivec4(0);
    for (int cw = 0; cw < words; cw++) {
        barrier(); // the previous word's tiles are read
        stage(cw, group, plane, lid);
        barrier();
        uint nb[9];
        [[unroll]] for (int t = 0; t < 9; t++) nb[t] = code_tile[(ly + t / 3) * TILE_W + lx + t % 3];
        ivec4 s = ivec4(0);
        int cend = min(QPACK_CPW, pc.cin - cw * QPACK_CPW);
        [[unroll]] for (int j = 0; j < QPACK_CPW; j++) {
            if (j >= cend) break;
            [[unroll]] for (int t = 0; t < 9; t++)
                s += qpack_get(nb[t], j, CONT, sgn) * unpack_pairs(weight_tile[j * 9 + t]);
        }
        flush(s, lo, hi);
    }
    int oc0 = group * OCB;
    store_pixel(x, y, oc0, lo, hi, load_consts(oc0));
}
