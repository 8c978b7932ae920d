/* quantsr_jni.c - the JNI side of org.quantsr.Quantsr (android/app/src/main/java/org/quantsr).
 *
 * One native object per Java Quantsr: a context, the model (loaded from the APK's assets
 * through AAssetManager and qsr_model_load_memory, so no file is extracted) and an upscaler.
 * Bitmaps are ARGB_8888, whose bytes in memory are R, G, B, A: quantsr's RGBA layout, so rows
 * are copied, never converted, except for alpha premultiplication (Android bitmaps are
 * premultiplied by default, quantsr works on straight alpha). Every failure is thrown as
 * org.quantsr.QuantsrException with the status name and qsr_last_error().
 *
 * Threading: the Java class serialises its calls (synchronized methods); quantsr's objects
 * may be used from any thread, one at a time, and qsr_last_error() is per thread, so it is
 * read on the thread that failed. */
#include <quantsr.h>

#include <android/asset_manager.h>
#include <android/asset_manager_jni.h>
#include <android/bitmap.h>
#include <jni.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct qsr_jni {
    qsr_context *ctx;
    qsr_model *model;
    qsr_upscaler *up;
    uint32_t scale;
} qsr_jni;

/* Throws org.quantsr.QuantsrException("<status name>: <what>: <qsr_last_error()>"). */
static void throw_status(JNIEnv *env, qsr_status st, const char *what) {
    char text[1280];
    snprintf(text, sizeof text, "%s: %s: %s", qsr_status_name(st), what, qsr_last_error());
    jclass cls = (*env)->FindClass(env, "org/quantsr/QuantsrException");
    if (!cls) return; /* FindClass has thrown NoClassDefFoundError */
    (*env)->ThrowNew(env, cls, text);
    (*env)->DeleteLocalRef(env, cls);
}

static void destroy(qsr_jni *q) {
    if (!q) return;
    /* The upscaler points to the model and uses the context: it goes first. */
    qsr_upscaler_destroy(q->up);
    qsr_model_destroy(q->model);
    qsr_context_destroy(q->ctx);
    free(q);
}

/* Loads an asset into a model: AASSET_MODE_BUFFER maps an uncompressed asset (build.gradle
 * keeps .qsr files uncompressed), and qsr_model_load_memory keeps its own aligned copy, so the
 * asset is closed at once. */
static qsr_status load_asset_model(AAssetManager *assets, const char *name, qsr_model **out) {
    AAsset *asset = AAssetManager_open(assets, name, AASSET_MODE_BUFFER);
    if (!asset) return qsr_set_error(QSR_ERROR_IO, "no asset '%s' in the APK", name);
    const void *data = AAsset_getBuffer(asset);
    off64_t size = AAsset_getLength64(asset);
    qsr_status st;
    if (!data || size <= 0)
        st = qsr_set_error(QSR_ERROR_IO, "cannot read the asset '%s'", name);
    else
        st = qsr_model_load_memory(data, (size_t)size, out);
    AAsset_close(asset);
    return st;
}

JNIEXPORT jlong JNICALL Java_org_quantsr_Quantsr_nativeCreate(JNIEnv *env, jclass cls,
                                                              jobject asset_manager,
                                                              jstring model_asset,
                                                              jstring cache_dir) {
    (void)cls;
    AAssetManager *assets = AAssetManager_fromJava(env, asset_manager);
    if (!assets || !model_asset) {
        throw_status(env, qsr_set_error(QSR_ERROR_INVALID_ARGUMENT, "null argument"), "Quantsr()");
        return 0;
    }
    qsr_jni *q = (qsr_jni *)calloc(1, sizeof *q);
    if (!q) {
        throw_status(env, qsr_set_error(QSR_ERROR_OUT_OF_HOST_MEMORY, "out of memory"),
                     "Quantsr()");
        return 0;
    }
    const char *name = (*env)->GetStringUTFChars(env, model_asset, NULL);
    const char *cache = cache_dir ? (*env)->GetStringUTFChars(env, cache_dir, NULL) : NULL;
    if (!name || (cache_dir && !cache)) { /* OutOfMemoryError is pending */
        if (name) (*env)->ReleaseStringUTFChars(env, model_asset, name);
        free(q);
        return 0;
    }

    const char *step = "loading the model";
    qsr_status st = load_asset_model(assets, name, &q->model);
    qsr_model_info info;
    if (st == QSR_OK) st = qsr_model_get_info(q->model, &info);
    if (st == QSR_OK) {
        q->scale = info.scale;
        /* Android apps have no per-user cache folder the library could find: the app's
         * Context.getCacheDir() keeps the compiled pipelines between starts. */
        qsr_context_desc desc = {.pipeline_cache_dir = cache ? cache : ""};
        step = "creating the Vulkan context";
        st = qsr_context_create(&desc, &q->ctx);
    }
    if (st == QSR_OK) {
        step = "creating the upscaler";
        st = qsr_upscaler_create(q->ctx, q->model, NULL, &q->up);
    }
    char what[256];
    snprintf(what, sizeof what, "%s '%s'", step, name);
    (*env)->ReleaseStringUTFChars(env, model_asset, name);
    if (cache) (*env)->ReleaseStringUTFChars(env, cache_dir, cache);
    if (st != QSR_OK) {
        throw_status(env, st, what); /* reads the error text before destroy runs */
        destroy(q);
        return 0;
    }
    return (jlong)(intptr_t)q;
}

JNIEXPORT jint JNICALL Java_org_quantsr_Quantsr_nativeScale(JNIEnv *env, jclass cls, jlong handle) {
    (void)env, (void)cls;
    const qsr_jni *q = (const qsr_jni *)(intptr_t)handle;
    return q ? (jint)q->scale : 0;
}

JNIEXPORT void JNICALL Java_org_quantsr_Quantsr_nativeDestroy(JNIEnv *env, jclass cls,
                                                              jlong handle) {
    (void)env, (void)cls;
    destroy((qsr_jni *)(intptr_t)handle);
}

/* Straight alpha from premultiplied (rounded), in place. */
static void unpremultiply(uint8_t *p, size_t pixels) {
    for (size_t i = 0; i < pixels; i++, p += 4) {
        unsigned a = p[3];
        if (a == 255) continue;
        for (int c = 0; c < 3; c++) {
            unsigned v = a ? (p[c] * 255u + a / 2) / a : 0;
            p[c] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
}

static void premultiply(uint8_t *p, size_t pixels) {
    for (size_t i = 0; i < pixels; i++, p += 4) {
        unsigned a = p[3];
        if (a == 255) continue;
        for (int c = 0; c < 3; c++)
            p[c] = (uint8_t)((p[c] * a + 127u) / 255u);
    }
}

/* Copies a locked bitmap (rows `stride` bytes apart) into a tight RGBA image, or back. */
static void copy_rows(uint8_t *dst, size_t dst_stride, const uint8_t *src, size_t src_stride,
                      size_t row_bytes, uint32_t rows) {
    for (uint32_t y = 0; y < rows; y++)
        memcpy(dst + y * dst_stride, src + y * src_stride, row_bytes);
}

/* Checks that `bitmap` is RGBA_8888 (Java's ARGB_8888) and returns its info. */
static int bitmap_info(JNIEnv *env, jobject bitmap, const char *which, AndroidBitmapInfo *info) {
    if (!bitmap || AndroidBitmap_getInfo(env, bitmap, info) != ANDROID_BITMAP_RESULT_SUCCESS) {
        throw_status(env, qsr_set_error(QSR_ERROR_INVALID_ARGUMENT, "not a bitmap"), which);
        return 0;
    }
    if (info->format != ANDROID_BITMAP_FORMAT_RGBA_8888) {
        throw_status(env,
                     qsr_set_error(QSR_ERROR_UNSUPPORTED, "format %d, expected ARGB_8888",
                                   (int)info->format),
                     which);
        return 0;
    }
    return 1;
}

/* Upscales `src` into `dst`, which the Java side made scale times larger. Both bitmaps stay
 * locked only while rows are copied, not during the GPU work. */
JNIEXPORT void JNICALL Java_org_quantsr_Quantsr_nativeUpscale(
    JNIEnv *env, jclass cls, jlong handle, jobject src, jboolean src_premultiplied, jobject dst,
    jboolean dst_premultiplied, jint depth) {
    (void)cls;
    qsr_jni *q = (qsr_jni *)(intptr_t)handle;
    if (!q) {
        throw_status(env, qsr_set_error(QSR_ERROR_INVALID_ARGUMENT, "closed"), "upscale");
        return;
    }
    AndroidBitmapInfo in_info, out_info;
    if (!bitmap_info(env, src, "input bitmap", &in_info) ||
        !bitmap_info(env, dst, "output bitmap", &out_info))
        return;
    if (depth < 0 || out_info.width != in_info.width * q->scale ||
        out_info.height != in_info.height * q->scale) {
        throw_status(env,
                     qsr_set_error(QSR_ERROR_INVALID_ARGUMENT,
                                   "%ux%u -> %ux%u at scale %u, depth %d", in_info.width,
                                   in_info.height, out_info.width, out_info.height, q->scale,
                                   (int)depth),
                     "upscale");
        return;
    }

    qsr_image in = {0}, out = {0};
    qsr_status st = qsr_image_create(in_info.width, in_info.height, 4, &in);
    if (st != QSR_OK) {
        throw_status(env, st, "upscale");
        return;
    }
    void *pixels = NULL;
    if (AndroidBitmap_lockPixels(env, src, &pixels) != ANDROID_BITMAP_RESULT_SUCCESS) {
        qsr_image_free(&in);
        throw_status(env, qsr_set_error(QSR_ERROR_INVALID_ARGUMENT, "cannot lock the pixels"),
                     "input bitmap");
        return;
    }
    copy_rows(in.pixels, (size_t)in.width * 4, (const uint8_t *)pixels, in_info.stride,
              (size_t)in.width * 4, in.height);
    AndroidBitmap_unlockPixels(env, src);
    if (src_premultiplied) unpremultiply(in.pixels, (size_t)in.width * in.height);

    st = qsr_upscaler_run(q->up, &in, (uint32_t)depth, &out, NULL);
    qsr_image_free(&in);
    if (st != QSR_OK) {
        throw_status(env, st, "upscale");
        return;
    }
    if (dst_premultiplied) premultiply(out.pixels, (size_t)out.width * out.height);
    if (AndroidBitmap_lockPixels(env, dst, &pixels) != ANDROID_BITMAP_RESULT_SUCCESS) {
        qsr_image_free(&out);
        throw_status(env, qsr_set_error(QSR_ERROR_INVALID_ARGUMENT, "cannot lock the pixels"),
                     "output bitmap");
        return;
    }
    copy_rows((uint8_t *)pixels, out_info.stride, out.pixels, (size_t)out.width * 4,
              (size_t)out.width * 4, out.height);
    AndroidBitmap_unlockPixels(env, dst);
    qsr_image_free(&out);
}
