/* demo.c - the procedural scene: everything is drawn straight into 8-bit RGB pixels at low
 * resolution, the way a game renders before an upscaler. */
#include "demo.h"

#include "font.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define PI 3.14159265358979323846

typedef struct canvas {
    qsr_image *img;
} canvas;

static void put(canvas c, int x, int y, const uint8_t rgb[3], float alpha) {
    if (x < 0 || y < 0 || x >= (int)c.img->width || y >= (int)c.img->height) return;
    uint8_t *p = c.img->pixels + ((size_t)y * c.img->width + (size_t)x) * 3;
    for (int k = 0; k < 3; k++)
        p[k] = (uint8_t)(p[k] + (rgb[k] - p[k]) * alpha + 0.5f);
}

/* A scrolling checker tinted by a slow gradient: a moving texture with hard edges. */
static void draw_background(canvas c, double t) {
    double shift = t * 12.0;
    for (uint32_t y = 0; y < c.img->height; y++)
        for (uint32_t x = 0; x < c.img->width; x++) {
            int cell = (((int)floor((x + shift) / 6.0) + (int)floor((y + shift * 0.5) / 6.0)) & 1);
            double g = 0.5 + 0.5 * sin(x * 0.02 + t * 0.3);
            uint8_t *p = c.img->pixels + ((size_t)y * c.img->width + x) * 3;
            p[0] = (uint8_t)(cell ? 60 + 60 * g : 30);
            p[1] = (uint8_t)(cell ? 70 : 40 + 30 * g);
            p[2] = (uint8_t)(cell ? 110 : 70);
        }
}

/* A zone plate: rings whose frequency rises to the Nyquist limit at the rim. */
static void draw_zone_plate(canvas c, int cx, int cy, int radius, double t) {
    for (int y = -radius; y <= radius; y++)
        for (int x = -radius; x <= radius; x++) {
            double r2 = (double)x * x + (double)y * y;
            if (r2 > (double)radius * radius) continue;
            double v = 0.5 + 0.5 * cos(PI * r2 / (2.0 * radius) - t * 2.0);
            uint8_t rgb[3] = {(uint8_t)(255 * v), (uint8_t)(255 * v), (uint8_t)(255 * v)};
            put(c, cx + x, cy + y, rgb, 1.0f);
        }
}

/* A one-pixel line (Bresenham), the hardest case for an upscaler. */
static void draw_line(canvas c, int x0, int y0, int x1, int y1, const uint8_t rgb[3]) {
    int dx = x1 > x0 ? x1 - x0 : x0 - x1, sx = x0 < x1 ? 1 : -1;
    int dy = y1 > y0 ? y0 - y1 : y1 - y0, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        put(c, x0, y0, rgb, 1.0f);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

static void draw_fan(canvas c, int cx, int cy, int length, double t) {
    static const uint8_t colors[3][3] = {{255, 255, 255}, {255, 210, 80}, {120, 220, 255}};
    for (int i = 0; i < 24; i++) {
        double a = t * 0.4 + i * PI / 12.0;
        draw_line(c, cx, cy, cx + (int)lround(length * cos(a)), cy + (int)lround(length * sin(a)),
                  colors[i % 3]);
    }
}

static void fill_rect(canvas c, float x, float y, float w, float h, const uint8_t rgb[3]) {
    for (int py = (int)floorf(y); py < (int)ceilf(y + h); py++)
        for (int px = (int)floorf(x); px < (int)ceilf(x + w); px++)
            put(c, px, py, rgb, 1.0f);
}

/* A text banner scrolling right to left, wrapping around. */
static void draw_banner(canvas c, int y, double t) {
    static const char text[] = "QuantSR: low-bit super-resolution on Vulkan * quantsr-view "
                               "--demo * 4-bit weights, 4-bit activations * ";
    static const uint8_t band[3] = {15, 15, 20}, ink[3] = {250, 250, 250};
    viewer_font_rect rects[2048];
    int width = viewer_font_width(text);
    double x0 = -fmod(t * 20.0, (double)width);
    fill_rect(c, 0, (float)y - 2, (float)c.img->width, 11, band);
    for (double x = x0; x < c.img->width; x += width) {
        int n = viewer_font_rects(text, (float)floor(x), (float)y, 1.0f, rects, 2048);
        for (int i = 0; i < n; i++)
            fill_rect(c, rects[i].x, rects[i].y, rects[i].w, rects[i].h, ink);
    }
}

static void draw_ball(canvas c, double t) {
    double bx = c.img->width * (0.5 + 0.35 * sin(t * 0.9));
    double by = c.img->height * (0.45 + 0.25 * cos(t * 1.3));
    static const uint8_t rgb[3] = {230, 70, 60};
    for (int y = -9; y <= 9; y++)
        for (int x = -9; x <= 9; x++) {
            /* Coverage of the pixel by a radius-8 disc: a soft, antialiased edge. */
            double d = sqrt((double)x * x + (double)y * y) - 8.0;
            float a = (float)(d < -0.5 ? 1.0 : d > 0.5 ? 0.0 : 0.5 - d);
            if (a > 0) put(c, (int)lround(bx) + x, (int)lround(by) + y, rgb, a);
        }
}

qsr_status viewer_demo_render(uint32_t width, uint32_t height, double seconds, qsr_image *out) {
    qsr_image img;
    qsr_status st = qsr_image_create(width, height, 3, &img);
    if (st != QSR_OK) return st;
    canvas c = {&img};
    int h = (int)height, w = (int)width;
    draw_background(c, seconds);
    draw_zone_plate(c, w / 5, h / 3, h / 4, seconds);
    draw_fan(c, w * 3 / 4, h / 3, h / 4, seconds);
    draw_ball(c, seconds);
    draw_banner(c, h - 14, seconds);
    *out = img;
    return QSR_OK;
}
