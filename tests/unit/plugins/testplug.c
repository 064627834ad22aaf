// SPDX-License-Identifier: MIT
/* A configurable misbehaving plugin for the loader tests.
 *   HangIn  = none | init | approve | minted   (sleeps for an hour there)
 *   Verdict = <int>                            (what approve() returns; default 1)
 */
#include <blueratchet/plugin.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tp {
    char hang_in[16];
    int verdict;
};

static void hang(void) {
    for (;;) sleep(3600);
}

static int tp_init(const struct br_host* host, const struct br_kv* config, size_t n, void** state,
                   char* error, size_t error_size) {
    struct tp* t = calloc(1, sizeof *t);
    (void)host;
    (void)error;
    (void)error_size;
    if (!t) return 1;
    strcpy(t->hang_in, "none");
    t->verdict = BR_APPROVE;
    for (size_t i = 0; i < n; ++i) {
        if (strcmp(config[i].key, "HangIn") == 0) {
            strncpy(t->hang_in, config[i].value, sizeof t->hang_in - 1);
        } else if (strcmp(config[i].key, "Verdict") == 0) {
            t->verdict = atoi(config[i].value);
        }
    }
    if (strcmp(t->hang_in, "init") == 0) hang();
    *state = t;
    return 0;
}

static int tp_approve(void* state, const struct br_first_contact* c, br_approval_id id) {
    struct tp* t = state;
    (void)c;
    (void)id;
    if (strcmp(t->hang_in, "approve") == 0) hang();
    return t->verdict;
}

static void tp_minted(void* state, const struct br_session_info* s) {
    struct tp* t = state;
    (void)s;
    if (strcmp(t->hang_in, "minted") == 0) hang();
}

static void tp_fini(void* state) {
    free(state);
}

static const struct br_plugin tp_plugin = {
    .abi_version = BLUERATCHET_PLUGIN_ABI_VERSION,
    .name = "testplug",
    .flags = BR_PLUGIN_APPROVAL | BR_PLUGIN_SESSION_HOOKS,
    .init = tp_init,
    .approve = tp_approve,
    .session_minted = tp_minted,
    .fini = tp_fini,
};

BLUERATCHET_PLUGIN_EXPORT const struct br_plugin* blueratchet_plugin_v1(void) {
    return &tp_plugin;
}
