// SPDX-License-Identifier: MIT
/* A plugin whose name is not its file's. */
#include <blueratchet/plugin.h>

static int mis_init(const struct br_host* host, const struct br_kv* config, size_t n, void** state,
                    char* error, size_t error_size) {
    (void)host, (void)config, (void)n, (void)error, (void)error_size;
    *state = 0;
    return 0;
}

static int mis_approve(void* state, const struct br_first_contact* c, br_approval_id id) {
    (void)state, (void)c, (void)id;
    return BR_APPROVE;
}

static const struct br_plugin mis_plugin = {
    .abi_version = BLUERATCHET_PLUGIN_ABI_VERSION,
    .name = "window",
    .flags = BR_PLUGIN_APPROVAL,
    .init = mis_init,
    .approve = mis_approve,
};

BLUERATCHET_PLUGIN_EXPORT const struct br_plugin* blueratchet_plugin_v1(void) {
    return &mis_plugin;
}
