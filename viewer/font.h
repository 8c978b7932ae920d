/* font.h - the stb_easy_font bitmap font as axis-aligned rectangles, so the same text can be
 * drawn with SDL filled rectangles (overlay) and rasterized into pixels (demo scene). */
#ifndef QSR_VIEWER_FONT_H
#define QSR_VIEWER_FONT_H

/* Font units: a capital letter is about 7 units tall; lines are VIEWER_FONT_LINE apart. */
#define VIEWER_FONT_LINE 12

typedef struct viewer_font_rect {
    float x, y, w, h;
} viewer_font_rect;

/* Rectangles of `text` (one line; characters outside printable ASCII show as '?') with its
 * top-left at (x, y), font units multiplied by `scale`. Returns how many were written (at most
 * cap; longer text is cut). */
int viewer_font_rects(const char *text, float x, float y, float scale, viewer_font_rect *rects,
                      int cap);
/* Width of one line of text in font units. */
int viewer_font_width(const char *text);

#endif
