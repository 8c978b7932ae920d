/* render.h - draws one frame with an SDL_Renderer (a window, or a target texture for
 * screenshots): the two sides, the divider and the overlay. */
#ifndef QSR_VIEWER_RENDER_H
#define QSR_VIEWER_RENDER_H

#include "overlay.h"
#include "quantsr.h"
#include "view.h"

#include <SDL.h>

/* The colour around the image. */
#define VIEWER_BACKGROUND_R 28
#define VIEWER_BACKGROUND_G 28
#define VIEWER_BACKGROUND_B 30

/* An image as a grid of textures, so images larger than the renderer's texture limit work. */
typedef struct viewer_texture {
    SDL_Texture **tiles; /* rows x cols */
    int cols, rows;
    int tile; /* tile edge in pixels */
    int w, h; /* image size */
} viewer_texture;

/* Uploads an RGB image, reusing the textures when the size is unchanged. On failure writes a
 * message into err and returns -1 (the texture is then empty). */
int viewer_texture_set(SDL_Renderer *r, viewer_texture *t, const qsr_image *image, char *err,
                       size_t err_cap);
/* Uploads only the pixels of `rect` (image pixels) into textures already made for `image` by
 * viewer_texture_set: a computed tile costs its own size, not the whole image. */
int viewer_texture_update_rect(viewer_texture *t, const qsr_image *image, viewer_irect rect,
                               char *err, size_t err_cap);
void viewer_texture_free(viewer_texture *t);

/* What one frame shows. */
typedef struct viewer_scene {
    const viewer_texture *left;  /* classic upscale; may be empty */
    const viewer_texture *right; /* QuantSR output; may be empty */
    const viewer_view *view;
    const viewer_hud *hud; /* NULL: no overlay */
} viewer_scene;

/* Draws what lies over the two images: the divider and, with a hud, the overlay. The Vulkan
 * presenter draws this alone onto a transparent software surface. */
void viewer_render_decorations(SDL_Renderer *r, const viewer_view *view, const viewer_hud *hud);

/* Draws the scene onto the renderer's current target (the whole view->win_w x win_h). */
void viewer_render_scene(SDL_Renderer *r, const viewer_scene *scene);

#endif
