// row_fetch.glsl - FETCH_ROW(src, start, last_texel, N, w): w[0 .. N-1] = the 32-bit words
// start .. start + N - 1 (start >= -4) of a linear buffer, read as 16-byte texels (src declared
// with FETCH_BUFFER4 of fetch.glsl; last_texel = FETCH4_COUNT(src) - 1). On lavapipe a
// fetch is a gather of the same cost at any width, so (N + 6) / 4 wide fetches replace N narrow
// ones; the row's start inside the first texel (0..3) picks the words by selects, never by a
// dynamic index (lavapipe turns those into per-lane memory traffic). Every fetch is
// unconditional at a clamped index: words outside the buffer come back as some word of it, and
// the caller masks what lies outside its image (zero padding).
#define FETCH_ROW(src_, start_, last_, n_, out_)                                                  \
    {                                                                                            \
        int t0_ = ((start_) + 4) / 4 - 1, s_ = (start_) - 4 * t0_;                                \
        uint f_[4 * (((n_) + 6) / 4)];                                                            \
        [[unroll]] for (int k_ = 0; k_ < ((n_) + 6) / 4; k_++) {                                  \
            uvec4 t_ = FETCH4(src_, clamp(t0_ + k_, 0, last_));                             \
            f_[4 * k_] = t_.x;                                                                   \
            f_[4 * k_ + 1] = t_.y;                                                               \
            f_[4 * k_ + 2] = t_.z;                                                               \
            f_[4 * k_ + 3] = t_.w;                                                               \
        }                                                                                        \
        [[unroll]] for (int i_ = 0; i_ < (n_); i_++)                                              \
            out_[i_] = s_ == 0 ? f_[i_] : s_ == 1 ? f_[i_ + 1] : s_ == 2 ? f_[i_ + 2] : f_[i_ + 3]; \
    }

// LOAD_PLANE_ROW(src_, plane_, iy_, x_, last_, n_, out_): out_[i] = the word at (x_ + i, iy_)
// of plane plane_ of the pc.in_w x pc.in_h planes in src_, 0 outside the image; x_ >= -4.
#define LOAD_PLANE_ROW(src_, plane_, iy_, x_, last_, n_, out_)                                    \
    {                                                                                            \
        int st_ = (plane_) * pc.in_w * pc.in_h + clamp(iy_, 0, pc.in_h - 1) * pc.in_w + (x_);   \
        uint r_[n_];                                                                             \
        FETCH_ROW(src_, st_, last_, n_, r_)                                                      \
        bool in_ = (iy_) >= 0 && (iy_) < pc.in_h;                                                \
        [[unroll]] for (int i_ = 0; i_ < (n_); i_++) {                                           \
            int ix_ = (x_) + i_;                                                                 \
            out_[i_] = in_ && ix_ >= 0 && ix_ < pc.in_w ? r_[i_] : 0u;                           \
        }                                                                                        \
    }

// LOAD_PADDED_CODE_ROW(src_, plane_, iy_, x_, last_, n_, out_): LOAD_PLANE_ROW for padded code
// planes (qpack.glsl's code_index), x_ + 1 a multiple of 4: the segment starts on a texel, so
// (n_ + 3) / 4 fetches bring it with no selects, and the border words are the zeros outside
// the image (a segment that runs past the border feeds only pixels past the image; the last
// texel is clamped for those, as are the rows below the image's of invocations past it).
#define LOAD_PADDED_CODE_ROW(src_, plane_, iy_, x_, last_, n_, out_)                             \
    {                                                                                            \
        int t0_ = code_index(true, pc.in_w, pc.in_h, plane_, x_, iy_) / 4;                       \
        [[unroll]] for (int k_ = 0; k_ < ((n_) + 3) / 4; k_++) {                                  \
            uvec4 t_ = FETCH4(src_, min(t0_ + k_, last_));                                       \
            [[unroll]] for (int c_ = 0; c_ < 4; c_++)                                            \
                if (4 * k_ + c_ < (n_)) out_[4 * k_ + c_] = t_[c_];                              \
        }                                                                                        \
    }

// LOAD_CODE_ROW: LOAD_PADDED_CODE_ROW or LOAD_PLANE_ROW, as the includer's CODES_PADDED says.
#define LOAD_CODE_ROW(src_, plane_, iy_, x_, last_, n_, out_)                                    \
    {                                                                                            \
        if (CODES_PADDED != 0)                                                                   \
            LOAD_PADDED_CODE_ROW(src_, plane_, iy_, x_, last_, n_, out_)                         \
        else                                                                                     \
            LOAD_PLANE_ROW(src_, plane_, iy_, x_, last_, n_, out_)                               \
    }

// LOAD_C4_ROW(src_, quad_, iy_, x_, last_, n_, out_): out_[i] = the 16-byte texel of channels
// 4 quad_ .. 4 quad_ + 3 at (x_ + i, iy_) of c4 data ([quads][pc.in_h][pc.in_w][4], ops.h),
// 0 outside the image: one fetch per pixel brings four channels.
#define LOAD_C4_ROW(src_, quad_, iy_, x_, last_, n_, out_)                                       \
    {                                                                                            \
        int st_ = (quad_) * pc.in_w * pc.in_h + clamp(iy_, 0, pc.in_h - 1) * pc.in_w + (x_);     \
        bool in_ = (iy_) >= 0 && (iy_) < pc.in_h;                                                \
        [[unroll]] for (int i_ = 0; i_ < (n_); i_++) {                                           \
            int ix_ = (x_) + i_;                                                                 \
            uvec4 t_ = FETCH4(src_, clamp(st_ + i_, 0, last_));                                  \
            out_[i_] = in_ && ix_ >= 0 && ix_ < pc.in_w ? t_ : uvec4(0);                         \
        }                                                                                        \
    }
