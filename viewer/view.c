/* view.c - zoom, pan and divider arithmetic. */
#include "view.h"

#include <math.h>

static double fit_zoom(const viewer_view *v) {
    if (v->img_w <= 0 || v->img_h <= 0 || v->win_w <= 0 || v->win_h <= 0) return 1.0;
    double z = fmin((double)v->win_w / v->img_w, (double)v->win_h / v->img_h);
    return fmin(z, VIEWER_MAX_ZOOM);
}

/* Zooming out below the fitted size (or 1:1 for small images) only adds empty border. */
static double min_zoom(const viewer_view *v) {
    return fmin(fit_zoom(v), 1.0);
}

/* One axis: centre the image when it is smaller than the window, else keep the window
 * covered. Offsets are whole pixels so 1:1 zoom maps pixels exactly. */
static double clamp_axis(double off, double win, double extent) {
    if (extent <= win) return floor((win - extent) / 2);
    if (off > 0) off = 0;
    if (off < win - extent) off = win - extent;
    return floor(off + 0.5);
}

static void clamp(viewer_view *v) {
    v->off_x = clamp_axis(v->off_x, v->win_w, v->img_w * v->zoom);
    v->off_y = clamp_axis(v->off_y, v->win_h, v->img_h * v->zoom);
}

void viewer_view_init(viewer_view *v, int win_w, int win_h, double split) {
    v->win_w = win_w;
    v->win_h = win_h;
    v->img_w = v->img_h = 0;
    v->zoom = 1.0;
    v->off_x = v->off_y = 0;
    v->split = split;
    v->fitted = 1;
}

void viewer_view_fit(viewer_view *v) {
    v->zoom = fit_zoom(v);
    v->fitted = 1;
    clamp(v);
}

void viewer_view_set_window(viewer_view *v, int win_w, int win_h) {
    double cx = (v->win_w / 2.0 - v->off_x) / v->zoom, cy = (v->win_h / 2.0 - v->off_y) / v->zoom;
    v->win_w = win_w;
    v->win_h = win_h;
    if (v->fitted) {
        viewer_view_fit(v);
        return;
    }
    v->off_x = win_w / 2.0 - cx * v->zoom;
    v->off_y = win_h / 2.0 - cy * v->zoom;
    clamp(v);
}

void viewer_view_set_image(viewer_view *v, int img_w, int img_h) {
    int had_image = v->img_w > 0;
    /* The same place of the scene stays centred when the output size changes (another
     * model scale): keep the centre as a fraction of the image. */
    double fx = had_image ? (v->win_w / 2.0 - v->off_x) / (v->zoom * v->img_w) : 0.5;
    double fy = had_image ? (v->win_h / 2.0 - v->off_y) / (v->zoom * v->img_h) : 0.5;
    double ratio = had_image ? (double)img_w / v->img_w : 1.0;
    v->img_w = img_w;
    v->img_h = img_h;
    if (v->fitted) {
        viewer_view_fit(v);
        return;
    }
    if (!had_image) { /* a zoom chosen before the first image (--zoom): centre it */
        v->zoom = fmax(min_zoom(v), fmin(VIEWER_MAX_ZOOM, v->zoom));
        v->off_x = (v->win_w - img_w * v->zoom) / 2;
        v->off_y = (v->win_h - img_h * v->zoom) / 2;
        clamp(v);
        return;
    }
    v->zoom = fmax(min_zoom(v), fmin(VIEWER_MAX_ZOOM, v->zoom / ratio));
    v->off_x = v->win_w / 2.0 - fx * img_w * v->zoom;
    v->off_y = v->win_h / 2.0 - fy * img_h * v->zoom;
    clamp(v);
}

void viewer_view_zoom_at(viewer_view *v, double factor, double x, double y) {
    double ix = (x - v->off_x) / v->zoom, iy = (y - v->off_y) / v->zoom;
    double z = fmax(min_zoom(v), fmin(VIEWER_MAX_ZOOM, v->zoom * factor));
    v->zoom = z;
    v->off_x = x - ix * z;
    v->off_y = y - iy * z;
    v->fitted = 0;
    clamp(v);
}

void viewer_view_set_zoom(viewer_view *v, double zoom) {
    if (v->img_w <= 0) { /* applied when the first image arrives */
        v->zoom = zoom;
        v->fitted = 0;
        return;
    }
    viewer_view_zoom_at(v, zoom / v->zoom, v->win_w / 2.0, v->win_h / 2.0);
}

void viewer_view_pan(viewer_view *v, double dx, double dy) {
    v->off_x += dx;
    v->off_y += dy;
    v->fitted = 0;
    clamp(v);
}

int viewer_view_split_x(const viewer_view *v) {
    return (int)floor(v->split * v->win_w + 0.5);
}

void viewer_view_set_split_x(viewer_view *v, double x) {
    if (v->win_w <= 0) return;
    double s = x / v->win_w;
    v->split = s < 0 ? 0 : s > 1 ? 1 : s;
}

static int clamp_int(double value, int lo, int hi) {
    if (value < lo) return lo;
    if (value > hi) return hi;
    return (int)value;
}

viewer_irect viewer_view_visible(const viewer_view *v, int sx0, int sx1) {
    viewer_irect r;
    r.x0 = clamp_int(floor((sx0 - v->off_x) / v->zoom), 0, v->img_w);
    r.x1 = clamp_int(ceil((sx1 - v->off_x) / v->zoom), 0, v->img_w);
    r.y0 = clamp_int(floor(-v->off_y / v->zoom), 0, v->img_h);
    r.y1 = clamp_int(ceil((v->win_h - v->off_y) / v->zoom), 0, v->img_h);
    return r;
}

double viewer_view_screen_x(const viewer_view *v, double ix) {
    return v->off_x + ix * v->zoom;
}
double viewer_view_screen_y(const viewer_view *v, double iy) {
    return v->off_y + iy * v->zoom;
}
