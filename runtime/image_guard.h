/* image_guard.h - checks on encoded images before stb_image sees them (see image_guard.c). */
#ifndef QSR_IMAGE_GUARD_H
#define QSR_IMAGE_GUARD_H

#include "internal.h"

/* Rejects encoded images known to break the decoder (QSR_ERROR_IMAGE_DECODE), or sets *fixed
 * to a malloc'd equivalent the decoder handles safely (free() it); *fixed stays NULL when the
 * input can be decoded as it is. */
qsr_status qsr__image_guard(const uint8_t *data, size_t size, uint8_t **fixed, size_t *fixed_size);

#endif
