// store.glsl - how the quantized kernels write their code words. By default through a storage
// texel buffer: on lavapipe an imageStore of one word is a loop over the lanes with a masked
// store each, where a storage-buffer store also looks up the buffer and checks its bounds per
// lane (the quantized ops of the paper-size networks: 46 -> 51 % of the device limit at 2 bits,
// 55 -> 59 % at 4, docs/benchmarks.md). 16-byte texels gain nothing that way (lavapipe stores
// each of their 4 components in a loop of its own; c4 h through one counted no fewer
// instructions than a storage buffer's uvec4 store). The QSR_STORAGE_FETCH variants (fetch.glsl) write the
// same binding as a storage buffer.
//   STORE_BUFFER(b, name)   declares binding b of 32-bit words, STORE(name, i, v) writes word i
//                           (in range).
#ifdef QSR_STORAGE_FETCH
#define STORE_BUFFER(b, name) layout(std430, binding = b) writeonly buffer name##_words { uint name[]; }
#define STORE(name, i, v) name[i] = (v)
#else
#define STORE_BUFFER(b, name) layout(binding = b, r32ui) writeonly uniform uimageBuffer name
#define STORE(name, i, v) imageStore(name, i, uvec4(v))
#endif
