/* font.c - wraps stb_easy_font (Debian libstb-dev). */
#include "font.h"

#include <string.h>

/* The header's own code trips -Wmissing-braces and leaves a helper unused. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-braces"
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <stb_easy_font.h>
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif

#define MAX_CHARS 256

/* stb_easy_font indexes its tables by (c - 32), so anything outside ' '..'~' is replaced; a
 * newline would start a second line, which callers lay out themselves. */
static void sanitize(const char *text, char out[MAX_CHARS + 1]) {
    size_t n = 0;
    for (; text[n] && n < MAX_CHARS; n++) {
        unsigned char c = (unsigned char)text[n];
        out[n] = c >= 32 && c < 127 ? (char)c : '?';
    }
    out[n] = '\0';
}

typedef struct font_vertex {
    float x, y, z;
    unsigned char color[4];
} font_vertex;

int viewer_font_rects(const char *text, float x, float y, float scale, viewer_font_rect *rects,
                      int cap) {
    /* Up to 16 quads a character; static because it is large (the viewer draws text on its
     * main thread only). */
    static font_vertex vertices[MAX_CHARS * 16 * 4];
    char clean[MAX_CHARS + 1];
    sanitize(text, clean);
    int quads = stb_easy_font_print(0, 0, clean, NULL, vertices, (int)sizeof vertices);
    int n = 0;
    for (int q = 0; q < quads && n < cap; q++) {
        const font_vertex *v = vertices + 4 * q;
        float x0 = v[0].x, y0 = v[0].y, x1 = v[0].x, y1 = v[0].y;
        for (int k = 1; k < 4; k++) {
            x0 = v[k].x < x0 ? v[k].x : x0;
            x1 = v[k].x > x1 ? v[k].x : x1;
            y0 = v[k].y < y0 ? v[k].y : y0;
            y1 = v[k].y > y1 ? v[k].y : y1;
        }
        rects[n].x = x + x0 * scale;
        rects[n].y = y + y0 * scale;
        rects[n].w = (x1 - x0) * scale;
        rects[n].h = (y1 - y0) * scale;
        n++;
    }
    return n;
}

int viewer_font_width(const char *text) {
    char clean[MAX_CHARS + 1];
    sanitize(text, clean);
    return stb_easy_font_width(clean);
}
