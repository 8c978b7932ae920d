package org.quantsr;

import android.content.res.AssetManager;
import android.graphics.Bitmap;

/**
 * A quantsr upscaler: a Vulkan context, a model from the APK's assets and its upscaler
 * (android/jni/quantsr_jni.c). Creating one compiles the model's pipelines (fast after the
 * first start, from the pipeline cache in {@code cacheDir}); keep it for many images.
 *
 * <p>Thread safety: every method is synchronized, so an instance may be shared, but calls run
 * one at a time; {@link #upscale} blocks until the GPU is done, so call it off the UI thread.
 * Two instances run independently (each has its own Vulkan device and queue).
 */
public final class Quantsr implements AutoCloseable {
    static {
        System.loadLibrary("quantsr_jni");
    }

    /** The bundled default model (x4, 4-bit weights and activations). */
    public static final String DEFAULT_MODEL = "quantsr_c_x4_w4a4.qsr";

    private long handle;
    private final int scale;

    /**
     * @param assets     the app's assets (Context.getAssets())
     * @param modelAsset the model's path inside the assets, e.g. {@link #DEFAULT_MODEL}
     * @param cacheDir   folder for the compiled-pipeline cache (Context.getCacheDir() path), or
     *                   null for none
     * @throws QuantsrException no Vulkan 1.1 device, a damaged model, out of memory, ...
     */
    public Quantsr(AssetManager assets, String modelAsset, String cacheDir) {
        handle = nativeCreate(assets, modelAsset, cacheDir);
        scale = nativeScale(handle);
    }

    /** The model's upscaling factor (2, 3 or 4). */
    public int scale() {
        return scale;
    }

    /**
     * Upscales an ARGB_8888 bitmap by {@link #scale()} into a new ARGB_8888 bitmap. Alpha is
     * kept (resized bicubically).
     *
     * @param depth residual blocks to run: 0 = all (best quality); a model's lower depth
     *              levels (see {@code quantsr info}) trade quality for speed
     */
    public synchronized Bitmap upscale(Bitmap input, int depth) {
        if (handle == 0) throw new IllegalStateException("Quantsr is closed");
        if (input.getConfig() != Bitmap.Config.ARGB_8888)
            input = input.copy(Bitmap.Config.ARGB_8888, false);
        Bitmap output = Bitmap.createBitmap(input.getWidth() * scale, input.getHeight() * scale,
                Bitmap.Config.ARGB_8888);
        output.setHasAlpha(input.hasAlpha());
        nativeUpscale(handle, input, input.isPremultiplied(), output, output.isPremultiplied(),
                depth);
        return output;
    }

    /** Frees the upscaler, the model and the Vulkan context. */
    @Override
    public synchronized void close() {
        if (handle != 0) {
            nativeDestroy(handle);
            handle = 0;
        }
    }

    private static native long nativeCreate(AssetManager assets, String modelAsset,
            String cacheDir);
    private static native int nativeScale(long handle);
    private static native void nativeUpscale(long handle, Bitmap src, boolean srcPremultiplied,
            Bitmap dst, boolean dstPremultiplied, int depth);
    private static native void nativeDestroy(long handle);
}
