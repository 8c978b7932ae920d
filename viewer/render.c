/* render.c - textures and the drawing of one frame. Only the visible part of each texture is
 * drawn, so zooming far into a large image costs no more than showing a small one. */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TILE 4096

void viewer_texture_free(viewer_texture *t) {
    for (int i = 0; i < t->cols * t->rows; i++)
        if (t->tiles[i]) SDL_DestroyTexture(t->tiles[i]);
    free(t->tiles);
    memset(t, 0, sizeof *t);
}

static int tile_edge(SDL_Renderer *r) {
    SDL_RendererInfo info;
    int edge = DEFAULT_TILE;
    if (SDL_GetRendererInfo(r, &info) == 0) {
        if (info.max_texture_width > 0 && info.max_texture_width < edge)
            edge = info.max_texture_width;
        if (info.max_texture_height > 0 && info.max_texture_height < edge)
            edge = info.max_texture_height;
    }
    return edge;
}

static int create_tiles(SDL_Renderer *r, viewer_texture *t, int w, int h, char *err,
                        size_t err_cap) {
    t->tile = tile_edge(r);
    t->cols = (w + t->tile - 1) / t->tile;
    t->rows = (h + t->tile - 1) / t->tile;
    t->w = w;
    t->h = h;
    t->tiles = calloc((size_t)t->cols * (size_t)t->rows, sizeof *t->tiles);
    if (!t->tiles) {
        snprintf(err, err_cap, "out of memory for a %dx%d texture grid", w, h);
        return -1;
    }
    for (int ty = 0; ty < t->rows; ty++)
        for (int tx = 0; tx < t->cols; tx++) {
            int tw = w - tx * t->tile < t->tile ? w - tx * t->tile : t->tile;
            int th = h - ty * t->tile < t->tile ? h - ty * t->tile : t->tile;
            SDL_Texture *tex =
                SDL_CreateTexture(r, SDL_PIXELFORMAT_RGB24, SDL_TEXTUREACCESS_STATIC, tw, th);
            if (!tex) {
                snprintf(err, err_cap, "cannot create a %dx%d texture: %s", tw, th, SDL_GetError());
                return -1;
            }
            t->tiles[ty * t->cols + tx] = tex;
        }
    return 0;
}

int viewer_texture_set(SDL_Renderer *r, viewer_texture *t, const qsr_image *image, char *err,
                       size_t err_cap) {
    if (image->channels != 3) {
        snprintf(err, err_cap, "texture upload needs RGB, got %u channels", image->channels);
        return -1;
    }
    int w = (int)image->width, h = (int)image->height;
    if (!t->tiles || t->w != w || t->h != h) {
        viewer_texture_free(t);
        if (create_tiles(r, t, w, h, err, err_cap) != 0) {
            viewer_texture_free(t);
            return -1;
        }
    }
    int pitch = w * 3;
    for (int ty = 0; ty < t->rows; ty++)
        for (int tx = 0; tx < t->cols; tx++) {
            const uint8_t *first =
                image->pixels + (size_t)ty * t->tile * pitch + (size_t)tx * t->tile * 3;
            if (SDL_UpdateTexture(t->tiles[ty * t->cols + tx], NULL, first, pitch) != 0) {
                snprintf(err, err_cap, "texture upload failed: %s", SDL_GetError());
                viewer_texture_free(t);
                return -1;
            }
        }
    return 0;
}

/* The part of image rectangle `r` inside texture tile (tx, ty), clamped to the image, in the
 * tile's own pixels; 0 if they do not meet. */
static int tile_part(const viewer_texture *t, int tx, int ty, viewer_irect r, SDL_Rect *part) {
    int x0 = tx * t->tile, y0 = ty * t->tile;
    int ax = r.x0 > x0 ? r.x0 : x0, ay = r.y0 > y0 ? r.y0 : y0;
    int bx = r.x1 < x0 + t->tile ? r.x1 : x0 + t->tile;
    int by = r.y1 < y0 + t->tile ? r.y1 : y0 + t->tile;
    if (bx > t->w) bx = t->w;
    if (by > t->h) by = t->h;
    if (ax >= bx || ay >= by) return 0;
    *part = (SDL_Rect){ax - x0, ay - y0, bx - ax, by - ay};
    return 1;
}
int viewer_texture_update_rect(viewer_texture *t, const qsr_image *image, viewer_irect rect,
                               char *err, size_t err_cap) {
    if (!t->tiles || t->w != (int)image->width || t->h != (int)image->height ||
        image->channels != 3) {
        snprintf(err, err_cap, "texture update: a %ux%u image for a %dx%d texture", image->width,
                 image->height, t->w, t->h);
        return -1;
    }
    int pitch = t->w * 3;
    for (int ty = 0; ty < t->rows; ty++)
        for (int tx = 0; tx < t->cols; tx++) {
            SDL_Rect part;
            if (!tile_part(t, tx, ty, rect, &part)) continue;
            int ax = tx * t->tile + part.x, ay = ty * t->tile + part.y;
            const uint8_t *first = image->pixels + (size_t)ay * pitch + (size_t)ax * 3;
            if (SDL_UpdateTexture(t->tiles[ty * t->cols + tx], &part, first, pitch) != 0) {
                snprintf(err, err_cap, "texture upload failed: %s", SDL_GetError());
                return -1;
            }
        }
    return 0;
}

/* Draws the part of texture `t` that falls in screen columns [sx0, sx1). */
static void draw_side(SDL_Renderer *r, const viewer_texture *t, const viewer_view *v, int sx0,
                      int sx1) {
    if (!t->tiles || sx1 <= sx0) return;
    SDL_Rect clip = {sx0, 0, sx1 - sx0, v->win_h};
    SDL_RenderSetClipRect(r, &clip);
    viewer_irect vis = viewer_view_visible(v, sx0, sx1);
    /* Pixel peeping wants sharp pixels; shrinking wants filtering against aliasing. */
    SDL_ScaleMode mode = v->zoom >= 1.0 ? SDL_ScaleModeNearest : SDL_ScaleModeLinear;
    for (int ty = 0; ty < t->rows; ty++)
        for (int tx = 0; tx < t->cols; tx++) {
            SDL_Rect src;
            if (!tile_part(t, tx, ty, vis, &src)) continue;
            int ax = tx * t->tile + src.x, ay = ty * t->tile + src.y;
            SDL_Texture *tex = t->tiles[ty * t->cols + tx];
            SDL_SetTextureScaleMode(tex, mode);
            SDL_FRect dst = {(float)viewer_view_screen_x(v, ax), (float)viewer_view_screen_y(v, ay),
                             (float)(src.w * v->zoom), (float)(src.h * v->zoom)};
            SDL_RenderCopyF(r, tex, &src, &dst);
        }
    SDL_RenderSetClipRect(r, NULL);
}

static void draw_divider(SDL_Renderer *r, const viewer_view *v, int with_handle) {
    int x = viewer_view_split_x(v);
    SDL_Rect line = {x - 1, 0, 2, v->win_h};
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(r, 255, 255, 255, 255);
    SDL_RenderFillRect(r, &line);
    if (!with_handle) return;
    SDL_Rect grip = {x - 5, v->win_h / 2 - 20, 10, 40};
    SDL_RenderFillRect(r, &grip);
    SDL_SetRenderDrawColor(r, 60, 60, 60, 255);
    for (int i = -1; i <= 1; i++) {
        SDL_Rect notch = {x - 3, v->win_h / 2 + 8 * i - 1, 6, 2};
        SDL_RenderFillRect(r, &notch);
    }
}

void viewer_render_decorations(SDL_Renderer *r, const viewer_view *view, const viewer_hud *hud) {
    draw_divider(r, view, hud != NULL);
    if (hud) viewer_overlay_draw(r, view->win_w, view->win_h, viewer_view_split_x(view), hud);
}

void viewer_render_scene(SDL_Renderer *r, const viewer_scene *scene) {
    const viewer_view *v = scene->view;
    int split = viewer_view_split_x(v);
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(r, VIEWER_BACKGROUND_R, VIEWER_BACKGROUND_G, VIEWER_BACKGROUND_B, 255);
    SDL_RenderClear(r);
    draw_side(r, scene->left, v, 0, split);
    draw_side(r, scene->right, v, split, v->win_w);
    viewer_render_decorations(r, v, scene->hud);
}
