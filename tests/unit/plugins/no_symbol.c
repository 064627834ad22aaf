// SPDX-License-Identifier: MIT
/* A shared object without the blueratchet entry point. */
#include <blueratchet/plugin.h>

BLUERATCHET_PLUGIN_EXPORT int blueratchet_plugin_v0(void) {
    return 0;
}
