/* view.h - where the output image sits on the screen: zoom, pan and the divider. Both sides
 * share one transform, so they stay locked together. Plain arithmetic, no SDL. */
#ifndef QSR_VIEWER_VIEW_H
#define QSR_VIEWER_VIEW_H

#define VIEWER_MAX_ZOOM 64.0

typedef struct viewer_view {
    int win_w, win_h; /* drawing area in pixels */
    int img_w, img_h; /* output image in pixels (0 = none yet) */
    double zoom;      /* screen pixels per image pixel */
    double off_x;     /* screen position of the image's top-left corner (whole pixels) */
    double off_y;
    double split; /* divider position as a fraction of win_w */
    int fitted;   /* follows window and image size changes while set */
} viewer_view;

/* A rectangle of image pixels [x0, x1) x [y0, y1). */
typedef struct viewer_irect {
    int x0, y0, x1, y1;
} viewer_irect;

void viewer_view_init(viewer_view *v, int win_w, int win_h, double split);
void viewer_view_set_window(viewer_view *v, int win_w, int win_h);
/* A new image size; keeps zoom and the centre's image point unless the view is fitted. */
void viewer_view_set_image(viewer_view *v, int img_w, int img_h);
/* Zoom so the whole image fits the window, centred. */
void viewer_view_fit(viewer_view *v);
/* `zoom` screen pixels per image pixel, with the image point at the window centre kept. */
void viewer_view_set_zoom(viewer_view *v, double zoom);
/* Multiplies the zoom, keeping the image point under screen (x, y) where it is. */
void viewer_view_zoom_at(viewer_view *v, double factor, double x, double y);
void viewer_view_pan(viewer_view *v, double dx, double dy);
/* The divider's screen column. */
int viewer_view_split_x(const viewer_view *v);
void viewer_view_set_split_x(viewer_view *v, double x);
/* The image pixels that cover any part of screen columns [sx0, sx1) (the whole height); may
 * be empty (x0 >= x1 or y0 >= y1). */
viewer_irect viewer_view_visible(const viewer_view *v, int sx0, int sx1);
/* Screen position of image point (ix, iy). */
double viewer_view_screen_x(const viewer_view *v, double ix);
double viewer_view_screen_y(const viewer_view *v, double iy);

#endif
