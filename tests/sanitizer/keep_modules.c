/* keep_modules.c - preloaded into the tests of a -DQSR_SANITIZE=ON build: dlclose does nothing.
 *
 * The Vulkan loader unloads the driver (lavapipe) and the validation layer when an instance is
 * destroyed. LeakSanitizer runs at exit, when their code is gone, so a leak inside them shows
 * only "<unknown module>" frames that no suppression can name, and every test fails. Keeping
 * the libraries mapped lets lsan.supp name them. (Loaders from 1.3.259 offer
 * VK_LOADER_DISABLE_DYNAMIC_LIBRARY_UNLOADING for this; Debian 12 ships 1.3.239.) This library
 * is built without sanitizers so the shell tests can preload it into bash and python too. */
#include <dlfcn.h>

int dlclose(void *handle) {
    (void)handle;
    return 0;
}
