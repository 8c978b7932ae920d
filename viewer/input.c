/* input.c - what each key and mouse gesture does (the list the `h` panel shows is in
 * options.c, viewer_key_help). */
#include "input.h"

#include <math.h>

#define DIVIDER_GRAB_PX 6
#define WHEEL_STEP      1.25

void viewer_input_init(viewer_input *in) {
    SDL_memset(in, 0, sizeof *in);
    in->pixels_per_point = 1.0f;
    in->arrow = SDL_CreateSystemCursor(SDL_SYSTEM_CURSOR_ARROW);
    in->resize = SDL_CreateSystemCursor(SDL_SYSTEM_CURSOR_SIZEWE);
    in->hand = SDL_CreateSystemCursor(SDL_SYSTEM_CURSOR_SIZEALL);
}

void viewer_input_free(viewer_input *in) {
    if (in->arrow) SDL_FreeCursor(in->arrow);
    if (in->resize) SDL_FreeCursor(in->resize);
    if (in->hand) SDL_FreeCursor(in->hand);
    in->arrow = in->resize = in->hand = NULL;
}

static int near_divider(const viewer_app *app, double x) {
    return fabs(x - viewer_view_split_x(&app->view)) <= DIVIDER_GRAB_PX;
}

static void set_cursor(SDL_Cursor *c) {
    if (c && SDL_GetCursor() != c) SDL_SetCursor(c);
}

/* Depth level from a digit key with Shift, or a keypad digit; -1 for other keys. Plain 0 and
 * 1 are the fit and 1:1 keys, so the digits need Shift to reach the slider. */
static int level_key(const SDL_Keysym *k) {
    if (k->sym >= SDLK_KP_1 && k->sym <= SDLK_KP_9) return (int)(k->sym - SDLK_KP_1);
    if ((k->mod & KMOD_SHIFT) && k->sym >= SDLK_1 && k->sym <= SDLK_9)
        return (int)(k->sym - SDLK_1);
    return -1;
}

static void request_screenshot(viewer_input *in) {
    in->screenshot_requested = 1;
}

static void on_key(viewer_app *app, viewer_input *in, const SDL_Keysym *k) {
    int level = level_key(k);
    if (level >= 0) {
        viewer_app_set_stop(app, (uint32_t)level);
        return;
    }
    int shift = (k->mod & KMOD_SHIFT) != 0;
    switch (k->sym) {
    case SDLK_ESCAPE:
        if (app->show_help)
            app->show_help = 0;
        else
            in->quit = 1;
        break;
    case SDLK_q:
        in->quit = 1;
        break;
    case SDLK_0:
        viewer_view_fit(&app->view);
        break;
    case SDLK_1:
        viewer_view_set_zoom(&app->view, 1.0);
        break;
    case SDLK_LEFTBRACKET:
        if (app->stop > 0) viewer_app_set_stop(app, app->stop - 1);
        break;
    case SDLK_RIGHTBRACKET:
        viewer_app_set_stop(app, app->stop + 1);
        break;
    case SDLK_b:
        viewer_app_toggle_budget(app);
        break;
    case SDLK_n:
        viewer_app_toggle_nearest(app);
        break;
    case SDLK_m:
        viewer_app_cycle_model(app, shift ? -1 : 1);
        break;
    case SDLK_LEFT:
    case SDLK_PAGEUP:
        viewer_app_step_image(app, -1);
        break;
    case SDLK_RIGHT:
    case SDLK_PAGEDOWN:
        viewer_app_step_image(app, 1);
        break;
    case SDLK_SPACE:
        viewer_app_toggle_pause(app);
        break;
    case SDLK_s:
        request_screenshot(in);
        break;
    case SDLK_h:
        app->show_help = !app->show_help;
        break;
    default:
        break;
    }
}

static void on_button_down(viewer_app *app, viewer_input *in, const SDL_MouseButtonEvent *b) {
    double x = b->x * in->pixels_per_point, y = b->y * in->pixels_per_point;
    if (b->button != SDL_BUTTON_LEFT) {
        in->panning = 1;
        return;
    }
    viewer_slider_layout slider;
    viewer_slider_layout_make(app->view.win_w, app->view.win_h, app->model.stop_count, &slider);
    int stop = app->opt.no_overlay ? -1 : viewer_slider_hit(&slider, (int)x, (int)y);
    if (stop >= 0) {
        viewer_app_set_stop(app, (uint32_t)stop);
    } else if (near_divider(app, x)) {
        in->dragging_divider = 1;
    } else if (b->clicks == 2) {
        /* Double click: 1:1 around the clicked point, or back to fit. */
        if (app->view.fitted)
            viewer_view_zoom_at(&app->view, 1.0 / app->view.zoom, x, y);
        else
            viewer_view_fit(&app->view);
    } else {
        in->panning = 1;
    }
}

static void on_motion(viewer_app *app, viewer_input *in, const SDL_MouseMotionEvent *m) {
    double x = m->x * in->pixels_per_point;
    if (in->dragging_divider) {
        viewer_view_set_split_x(&app->view, x);
    } else if (in->panning) {
        viewer_view_pan(&app->view, m->xrel * in->pixels_per_point, m->yrel * in->pixels_per_point);
    }
    if (in->dragging_divider || (!in->panning && near_divider(app, x)))
        set_cursor(in->resize);
    else
        set_cursor(in->panning ? in->hand : in->arrow);
}

static void on_wheel(viewer_app *app, viewer_input *in, const SDL_MouseWheelEvent *w) {
    int mx = 0, my = 0;
    SDL_GetMouseState(&mx, &my);
    float steps = w->preciseY;
    if (w->direction == SDL_MOUSEWHEEL_FLIPPED) steps = -steps;
    if (steps == 0.0f) return;
    viewer_view_zoom_at(&app->view, pow(WHEEL_STEP, steps), mx * in->pixels_per_point,
                        my * in->pixels_per_point);
}

static void on_drop(viewer_app *app, char *file) {
    if (viewer_app_open(app, file) == 0)
        viewer_app_set_status(app, "opened %s", viewer_basename(file));
    SDL_free(file);
}

void viewer_input_handle(viewer_app *app, viewer_input *in, const SDL_Event *ev) {
    switch (ev->type) {
    case SDL_QUIT:
        in->quit = 1;
        break;
    case SDL_KEYDOWN:
        on_key(app, in, &ev->key.keysym);
        break;
    case SDL_MOUSEBUTTONDOWN:
        on_button_down(app, in, &ev->button);
        break;
    case SDL_MOUSEBUTTONUP:
        in->dragging_divider = 0;
        in->panning = 0;
        break;
    case SDL_MOUSEMOTION:
        on_motion(app, in, &ev->motion);
        break;
    case SDL_MOUSEWHEEL:
        on_wheel(app, in, &ev->wheel);
        break;
    case SDL_DROPFILE:
        on_drop(app, ev->drop.file);
        break;
    default:
        break;
    }
}
