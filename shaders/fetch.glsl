// fetch.glsl - how the convolutions read activations and weights. By default through uniform
// texel buffers: on lavapipe a texel fetch is a plain vector gather where a storage-buffer load
// is a loop over the lanes with a bounds check each, several times slower. A texel buffer holds
// at most maxTexelBufferElements texels, which may be 65536 on mobile GPUs, so every kernel is
// also built with QSR_STORAGE_FETCH (the *_storage variants in shaders.cmake), reading the same
// bindings as storage buffers; the runtime takes those where a buffer would exceed the limit.
//   FETCH_BUFFER(b, name)   declares binding b of 32-bit words, FETCH(name, i) reads word i;
//   FETCH_BUFFER4(b, name)  declares binding b of 16-byte texels (uvec4), FETCH4(name, i);
//                           FETCH4_COUNT(name) is the number of texels.
//   FETCH_BUFFER_WORDS_OR_TEXELS(b, name)  binding b read as words, FETCH(name, i), or as 16-byte
//                           texels, FETCH4_ALIASED(name, i), whichever view the runtime binds
//                           (texel_mask / texel4_mask); as storage, two aliased blocks.
// Indices must be in range (storage buffers give no zero for reads past the end).
#ifdef QSR_STORAGE_FETCH
#define FETCH_BUFFER(b, name) layout(std430, binding = b) readonly buffer name##_words { uint name[]; }
#define FETCH_BUFFER4(b, name) layout(std430, binding = b) readonly buffer name##_texels { uvec4 name[]; }
#define FETCH(name, i) name[i]
#define FETCH4(name, i) name[i]
#define FETCH4_COUNT(name) name.length()
#define FETCH_BUFFER_WORDS_OR_TEXELS(b, name) \
    FETCH_BUFFER(b, name);                     \
    layout(std430, binding = b) readonly buffer name##_texels4 { uvec4 name##_4[]; }
#define FETCH4_ALIASED(name, i) name##_4[i]
#else
#define FETCH_BUFFER(b, name) layout(binding = b) uniform usamplerBuffer name
#define FETCH_BUFFER4(b, name) layout(binding = b) uniform usamplerBuffer name
#define FETCH(name, i) texelFetch(name, i).x
#define FETCH4(name, i) texelFetch(name, i)
#define FETCH4_COUNT(name) textureSize(name)
#define FETCH_BUFFER_WORDS_OR_TEXELS(b, name) FETCH_BUFFER(b, name)
#define FETCH4_ALIASED(name, i) texelFetch(name, i)
#endif
