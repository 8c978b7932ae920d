package org.quantsr.sample;

import android.app.Activity;
import android.graphics.Bitmap;
import android.graphics.BitmapFactory;
import android.os.Bundle;
import android.os.SystemClock;
import android.widget.ImageView;
import android.widget.TextView;

import org.quantsr.Quantsr;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Loads the default model from the APK's assets, upscales the bundled sample.png on a worker
 * thread and shows the input above the output.
 */
public class MainActivity extends Activity {
    private final ExecutorService worker = Executors.newSingleThreadExecutor();

    @Override
    protected void onCreate(Bundle savedInstanceState) {
        super.onCreate(savedInstanceState);
        setContentView(R.layout.activity_main);
        final TextView status = findViewById(R.id.status);
        final ImageView inputView = findViewById(R.id.input);
        final ImageView outputView = findViewById(R.id.output);

        worker.execute(() -> {
            String text;
            Bitmap input = null, output = null;
            try (InputStream in = getAssets().open("sample.png")) {
                input = BitmapFactory.decodeStream(in);
                long start = SystemClock.elapsedRealtime();
                // Creating the upscaler compiles its pipelines; an app keeps it for many images.
                try (Quantsr quantsr = new Quantsr(getAssets(), Quantsr.DEFAULT_MODEL,
                        getCacheDir().getAbsolutePath())) {
                    long ready = SystemClock.elapsedRealtime();
                    output = quantsr.upscale(input, 0);
                    long done = SystemClock.elapsedRealtime();
                    text = String.format("%dx%d -> %dx%d: set-up %d ms, upscale %d ms",
                            input.getWidth(), input.getHeight(), output.getWidth(),
                            output.getHeight(), ready - start, done - ready);
                }
            } catch (IOException | RuntimeException e) {
                text = "failed: " + e.getMessage();
            }
            final String message = text;
            final Bitmap shownInput = input, shownOutput = output;
            runOnUiThread(() -> {
                status.setText(message);
                if (shownInput != null) inputView.setImageBitmap(shownInput);
                if (shownOutput != null) outputView.setImageBitmap(shownOutput);
            });
        });
    }

    @Override
    protected void onDestroy() {
        worker.shutdownNow();
        super.onDestroy();
    }
}
