// SPDX-License-Identifier: MIT
/* A plugin built for an ABI this daemon does not speak. */
#include <blueratchet/plugin.h>

static int bad_init(const struct br_host* host, const struct br_kv* config, size_t n, void** state,
                    char* error, size_t error_size) {
    (void)host, (void)config, (void)n, (void)error, (void)error_size;
    *state = 0;
    return 0;
}

static int bad_approve(void* state, const struct br_first_contact* c, br_approval_id id) {
    (void)state, (void)c, (void)id;
    return BR_APPROVE;
}

static const struct br_plugin bad_plugin = {
    .abi_version = 99,
    .name = "bad_abi",
    .flags = BR_PLUGIN_APPROVAL,
    .init = bad_init,
    .approve = bad_approve,
};

BLUERATCHET_PLUGIN_EXPORT const struct br_plugin* blueratchet_plugin_v1(void) {
    return &bad_plugin;
}
