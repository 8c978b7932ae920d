// common.glsl - the workgroup size and the push-constant block every quantsr shader shares.
// The C mirror is struct qsr__op_push in runtime/ops/ops.h; keep the two in the same order.
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 100, local_size_y_id = 101, local_size_z = 1) in;

layout(push_constant) uniform Push {
    int in_w, in_h;     // source tensor size (pixels)
    int out_w, out_h;   // computed region size (pixels of the op's output grid)
    int org_x, org_y;   // output pixel (0,0) is centred on source pixel (org_x, org_y)
    int cin, cout;      // channels in and out
    int w_off;          // first element of this layer in the weight buffer
    int bias_off;       // first bias in the parameter buffer
    int scale_off;      // first per-channel scale (quantized conv) or shift (quantizer)
    int dst_w, dst_h;   // destination buffer size when it differs from the region (RGB out)
    int dst_x, dst_y;   // where the region lands in the destination
    int aux_off;        // a second parameter offset: the next quantizer's shifts (conv3x3_q)
    float in_scale;     // pending product of skipped blocks' shortcuts, applied to the source
                        // (conv3x3_q: to its result before the next quantizer)
    float shortcut;     // this block's learned shortcut (residual epilogue)
    float step;         // activation step a (quantizer; conv3x3_q: the next quantizer's)
    float img_range;    // model input multiplier (255)
    float mean_r, mean_g, mean_b;
    float dst_scale;    // pending shortcut product applied to the destination (residual)
} pc;

float rgb_mean(int c) { return c == 0 ? pc.mean_r : (c == 1 ? pc.mean_g : pc.mean_b); }
