/* minimal.c - the smallest complete program on the quantsr library: load a model, read an
 * image, open a Vulkan device, upscale, save. It uses nothing but the public header;
 * docs/embedding.md walks through it and shows how to build it against an installed quantsr.
 *
 *     minimal MODEL.qsr INPUT OUTPUT
 *
 * INPUT is PNG, JPEG, BMP or TGA; OUTPUT's extension picks the format (.png, .jpg, .bmp, .tga).
 * The result is byte-identical to `quantsr upscale -i INPUT -o OUTPUT -m MODEL`.
 */
#include <quantsr.h>

#include <stdio.h>

/* Every qsr_ call returns a qsr_status; on failure qsr_last_error() says what went wrong (which
 * file, which field, which size). Prints both with the step that failed; returns exit status 1. */
static int report(const char *step, qsr_status status) {
    fprintf(stderr, "minimal: %s: %s: %s\n", step, qsr_status_name(status), qsr_last_error());
    return 1;
}

static int file_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: minimal MODEL.qsr INPUT OUTPUT\n");
        return 2;
    }
    const char *model_path = argv[1], *input_path = argv[2], *output_path = argv[3];
    /* qsr_image_save_file never leaves a partial file, but it does replace an existing one. */
    if (file_exists(output_path)) {
        fprintf(stderr, "minimal: %s already exists; not replacing it\n", output_path);
        return 1;
    }

    /* Every object starts empty so that one cleanup path frees whatever was made:
     * destroy(NULL) and qsr_image_free of a zeroed image do nothing. */
    qsr_model *model = NULL;
    qsr_context *ctx = NULL;
    qsr_upscaler *upscaler = NULL;
    qsr_image input = {0}, output = {0};
    qsr_status st;
    int code = 0;

    /* The cheap checks of the inputs come before the device is opened. */
    if ((st = qsr_model_load_file(model_path, &model)) != QSR_OK)
        code = report("cannot load the model", st);
    else if ((st = qsr_image_load_file(input_path, 0 /* default pixel limit */, &input)) != QSR_OK)
        code = report("cannot read the input image", st);
    /* NULL: the default device choice (discrete > integrated > virtual > CPU, or $QSR_DEVICE). */
    else if ((st = qsr_context_create(NULL, &ctx)) != QSR_OK)
        code = report("cannot open a Vulkan device", st);
    /* NULL: tile size and memory budget chosen from the device; weights go to the device. */
    else if ((st = qsr_upscaler_create(ctx, model, NULL, &upscaler)) != QSR_OK)
        code = report("cannot prepare the model on the device", st);
    /* Depth 0 runs every block; stats NULL: no timings wanted. */
    else if ((st = qsr_upscaler_run(upscaler, &input, 0, &output, NULL)) != QSR_OK)
        code = report("cannot upscale", st);
    else if ((st = qsr_image_save_file(output_path, &output, 0 /* default JPEG quality */)) !=
             QSR_OK)
        code = report("cannot save the output", st);
    else
        printf("%s (%ux%u) -> %s (%ux%u)\n", input_path, input.width, input.height, output_path,
               output.width, output.height);

    qsr_image_free(&output);
    qsr_image_free(&input);
    qsr_upscaler_destroy(upscaler);
    qsr_context_destroy(ctx);
    qsr_model_destroy(model);
    return code;
}
