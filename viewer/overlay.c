/* overlay.c - draws the overlay with SDL filled rectangles (text from font.c). */
#include "overlay.h"

#include "font.h"
#include "options.h"

#include <stdio.h>
#include <string.h>

static const SDL_Color white = {240, 240, 240, 255};
static const SDL_Color dim = {170, 170, 170, 255};
static const SDL_Color accent = {255, 200, 60, 255};
static const SDL_Color red = {255, 90, 80, 255};

float viewer_overlay_scale(int win_w, int win_h) {
    return win_w >= 1000 && win_h >= 600 ? 2.0f : 1.0f;
}

void viewer_draw_text(SDL_Renderer *r, float x, float y, float scale, SDL_Color color,
                      const char *text) {
    viewer_font_rect rects[2048];
    SDL_FRect frects[2048];
    int n = viewer_font_rects(text, x, y, scale, rects, 2048);
    for (int i = 0; i < n; i++) {
        frects[i].x = rects[i].x;
        frects[i].y = rects[i].y;
        frects[i].w = rects[i].w;
        frects[i].h = rects[i].h;
    }
    SDL_SetRenderDrawColor(r, color.r, color.g, color.b, color.a);
    if (n > 0) SDL_RenderFillRectsF(r, frects, n);
}

static int text_width(const char *text, float scale) {
    return (int)(viewer_font_width(text) * scale + 0.5f);
}

/* A translucent dark box behind text. */
static void draw_panel(SDL_Renderer *r, SDL_Rect rect, Uint8 alpha) {
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(r, 0, 0, 0, alpha);
    SDL_RenderFillRect(r, &rect);
}

/* Text on its own panel; (x, y) is the panel's top-left. Returns the panel. */
static SDL_Rect text_box(SDL_Renderer *r, int x, int y, float s, SDL_Color color,
                         const char *text) {
    int pad = (int)(4 * s);
    SDL_Rect box = {x, y, text_width(text, s) + 2 * pad, (int)(9 * s) + 2 * pad};
    draw_panel(r, box, 170);
    viewer_draw_text(r, (float)(x + pad), (float)(y + pad), s, color, text);
    return box;
}

static void draw_side_labels(SDL_Renderer *r, int win_w, int split_x, float s,
                             const viewer_hud *hud) {
    int gap = (int)(6 * s), top = (int)(6 * s);
    int left_w = text_width(hud->left_label, s) + (int)(8 * s);
    if (split_x - gap - left_w >= 0)
        text_box(r, split_x - gap - left_w, top, s, white, hud->left_label);
    int right_w = text_width(hud->right_label, s) + (int)(8 * s);
    if (split_x + gap + right_w <= win_w)
        text_box(r, split_x + gap, top, s, accent, hud->right_label);
}

static void draw_info_panel(SDL_Renderer *r, int win_h, float s, const viewer_hud *hud) {
    if (hud->line_count == 0) return;
    int pad = (int)(6 * s), line_h = (int)(VIEWER_FONT_LINE * s), width = 0;
    for (int i = 0; i < hud->line_count; i++) {
        int w = text_width(hud->lines[i], s);
        width = w > width ? w : width;
    }
    int height = hud->line_count * line_h + 2 * pad - (int)(3 * s);
    SDL_Rect box = {(int)(6 * s), win_h - height - (int)(6 * s), width + 2 * pad, height};
    draw_panel(r, box, 170);
    for (int i = 0; i < hud->line_count; i++)
        viewer_draw_text(r, (float)(box.x + pad), (float)(box.y + pad + i * line_h), s,
                         i == 0 ? white : dim, hud->lines[i]);
}

void viewer_slider_layout_make(int win_w, int win_h, uint32_t stop_count,
                               viewer_slider_layout *out) {
    float s = viewer_overlay_scale(win_w, win_h);
    int pad = (int)(8 * s), spacing = (int)(26 * s);
    int title_w = text_width("depth (blocks)", s);
    int track_w = stop_count > 1 ? (int)(stop_count - 1) * spacing : 0;
    int inner_w = track_w + (int)(16 * s) > title_w ? track_w + (int)(16 * s) : title_w;
    memset(out, 0, sizeof *out);
    out->scale = s;
    out->count = stop_count > VIEWER_MAX_STOPS ? VIEWER_MAX_STOPS : stop_count;
    out->panel.w = inner_w + 2 * pad;
    out->panel.h = (int)(44 * s);
    out->panel.x = win_w - out->panel.w - (int)(6 * s);
    out->panel.y = win_h - out->panel.h - (int)(6 * s);
    out->track_y = out->panel.y + pad + (int)(17 * s);
    int first_x = out->panel.x + out->panel.w / 2 - track_w / 2;
    for (uint32_t i = 0; i < out->count; i++)
        out->stop_x[i] = first_x + (int)i * spacing;
    out->hit_radius = spacing / 2;
}

int viewer_slider_hit(const viewer_slider_layout *layout, int x, int y) {
    if (y < layout->panel.y || y >= layout->panel.y + layout->panel.h) return -1;
    for (uint32_t i = 0; i < layout->count; i++) {
        int dx = x - layout->stop_x[i];
        if (dx >= -layout->hit_radius && dx < layout->hit_radius) return (int)i;
    }
    return -1;
}

static void fill_square(SDL_Renderer *r, int cx, int cy, int half, SDL_Color c) {
    SDL_Rect rect = {cx - half, cy - half, 2 * half + 1, 2 * half + 1};
    SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
    SDL_RenderFillRect(r, &rect);
}

static void draw_slider(SDL_Renderer *r, int win_w, int win_h, const viewer_hud *hud) {
    viewer_slider_layout l;
    if (hud->stop_count == 0) return;
    viewer_slider_layout_make(win_w, win_h, hud->stop_count, &l);
    float s = l.scale;
    int pad = (int)(8 * s);
    draw_panel(r, l.panel, 170);
    viewer_draw_text(r, (float)(l.panel.x + pad), (float)(l.panel.y + pad), s, white,
                     "depth (blocks)");
    SDL_Rect track = {l.stop_x[0], l.track_y - (int)s / 2, l.stop_x[l.count - 1] - l.stop_x[0] + 1,
                      (int)s};
    SDL_SetRenderDrawColor(r, dim.r, dim.g, dim.b, 255);
    SDL_RenderFillRect(r, &track);
    for (uint32_t i = 0; i < l.count; i++) {
        int selected = i == hud->stop;
        fill_square(r, l.stop_x[i], l.track_y, (int)((selected ? 4 : 2) * s),
                    selected ? accent : white);
        char label[16];
        snprintf(label, sizeof label, "%u", hud->stops[i]);
        viewer_draw_text(r, (float)(l.stop_x[i] - text_width(label, s) / 2),
                         (float)(l.track_y + (int)(7 * s)), s, selected ? accent : dim, label);
    }
}

static void draw_computing(SDL_Renderer *r, int win_w, int win_h, int split_x, float s) {
    const char *text = "computing...";
    int right_center = split_x + (win_w - split_x) / 2;
    int w = text_width(text, s) + (int)(8 * s);
    if (win_w - split_x < w) right_center = win_w - w / 2;
    text_box(r, right_center - w / 2, win_h / 2 - (int)(8 * s), s, accent, text);
}

/* A help line is "KEYS  what they do": splits it at the first double space. */
static void split_help_line(const char *line, char *keys, size_t cap, const char **what) {
    const char *gap = strstr(line, "  ");
    size_t n = gap ? (size_t)(gap - line) : strlen(line);
    if (n >= cap) n = cap - 1;
    memcpy(keys, line, n);
    keys[n] = '\0';
    *what = gap ? gap : "";
    while (**what == ' ')
        (*what)++;
}

/* The key column is as wide as its widest entry, since the font is proportional. */
static void draw_help(SDL_Renderer *r, int win_w, int win_h, float s) {
    int lines = 0, keys_w = 0, what_w = 0, line_h = (int)(VIEWER_FONT_LINE * s);
    int pad = (int)(10 * s), gap = (int)(12 * s);
    char keys[64];
    const char *what;
    for (const char *const *line = viewer_key_help; *line; line++, lines++) {
        split_help_line(*line, keys, sizeof keys, &what);
        int kw = text_width(keys, s), ww = text_width(what, s);
        keys_w = kw > keys_w ? kw : keys_w;
        what_w = ww > what_w ? ww : what_w;
    }
    SDL_Rect box = {0, 0, keys_w + gap + what_w + 2 * pad, (lines + 2) * line_h + 2 * pad};
    box.x = (win_w - box.w) / 2;
    box.y = (win_h - box.h) / 2;
    draw_panel(r, box, 215);
    viewer_draw_text(r, (float)(box.x + pad), (float)(box.y + pad), s, accent,
                     "quantsr-view keys (h closes)");
    for (int i = 0; i < lines; i++) {
        float y = (float)(box.y + pad + (i + 2) * line_h);
        split_help_line(viewer_key_help[i], keys, sizeof keys, &what);
        viewer_draw_text(r, (float)(box.x + pad), y, s, accent, keys);
        viewer_draw_text(r, (float)(box.x + pad + keys_w + gap), y, s, white, what);
    }
}

void viewer_overlay_draw(SDL_Renderer *r, int win_w, int win_h, int split_x,
                         const viewer_hud *hud) {
    float s = viewer_overlay_scale(win_w, win_h);
    draw_side_labels(r, win_w, split_x, s, hud);
    int message_y = (int)(26 * s);
    if (hud->error[0]) {
        text_box(r, (int)(6 * s), message_y, s, red, hud->error);
        message_y += (int)(20 * s);
    }
    if (hud->status[0]) text_box(r, (int)(6 * s), message_y, s, white, hud->status);
    draw_info_panel(r, win_h, s, hud);
    draw_slider(r, win_w, win_h, hud);
    if (hud->computing) draw_computing(r, win_w, win_h, split_x, s);
    if (hud->show_help) draw_help(r, win_w, win_h, s);
}
