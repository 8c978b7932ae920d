/* input.h - keyboard, mouse and drop events of the window, turned into viewer actions. */
#ifndef QSR_VIEWER_INPUT_H
#define QSR_VIEWER_INPUT_H

#include "app.h"

#include <SDL.h>

typedef struct viewer_input {
    int dragging_divider;
    int panning;
    int quit;
    int screenshot_requested; /* `s`: save after the next frame is drawn */
    float pixels_per_point;   /* drawable pixels per window coordinate (HiDPI) */
    SDL_Cursor *arrow, *resize, *hand;
} viewer_input;

void viewer_input_init(viewer_input *in);
void viewer_input_free(viewer_input *in);
void viewer_input_handle(viewer_app *app, viewer_input *in, const SDL_Event *ev);

#endif
