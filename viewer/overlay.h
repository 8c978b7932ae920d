/* overlay.h - text and controls drawn over the images: side labels, the info panel, the depth
 * slider, the "computing..." notice, messages and the key help. */
#ifndef QSR_VIEWER_OVERLAY_H
#define QSR_VIEWER_OVERLAY_H

#include "quantsr.h"

#include <SDL.h>

#define VIEWER_HUD_LINES    8
#define VIEWER_HUD_LINE_CAP 160
#define VIEWER_MAX_STOPS    (QSR_MAX_DEPTH_LEVELS + 1)

/* Everything the overlay shows, filled in by the application each frame. */
typedef struct viewer_hud {
    char left_label[64];
    char right_label[64];
    char lines[VIEWER_HUD_LINES][VIEWER_HUD_LINE_CAP]; /* info panel */
    int line_count;
    uint32_t stops[VIEWER_MAX_STOPS]; /* depth slider: block counts, ascending */
    uint32_t stop_count;
    uint32_t stop; /* the selected one */
    int computing;
    char status[256]; /* a passing message, e.g. "saved shot.png" */
    char error[512];  /* the last failure, drawn in red */
    int show_help;
} viewer_hud;

/* Text size multiplier for a drawing area (larger windows get larger text). */
float viewer_overlay_scale(int win_w, int win_h);

/* Where the depth slider's stops are; shared by drawing and mouse hit tests. */
typedef struct viewer_slider_layout {
    SDL_Rect panel;
    int stop_x[VIEWER_MAX_STOPS];
    int track_y;
    int hit_radius;
    uint32_t count;
    float scale;
} viewer_slider_layout;

void viewer_slider_layout_make(int win_w, int win_h, uint32_t stop_count,
                               viewer_slider_layout *out);
/* The stop under (x, y), or -1. */
int viewer_slider_hit(const viewer_slider_layout *layout, int x, int y);

/* Draws one line of text with its top-left at (x, y). */
void viewer_draw_text(SDL_Renderer *r, float x, float y, float scale, SDL_Color color,
                      const char *text);
/* Draws the whole overlay for a win_w x win_h area with the divider at split_x. */
void viewer_overlay_draw(SDL_Renderer *r, int win_w, int win_h, int split_x, const viewer_hud *hud);

#endif
