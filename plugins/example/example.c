// SPDX-License-Identifier: MIT
/* A minimal blueratchetd plugin in C (docs/PLUGINS.md walks through it).
 *
 * It is both an approval plugin (it approves a first contact only while
 * the pairing window is open, like `window`) and a session hook plugin (it
 * logs every mint and invalidation).  To try it:
 *
 *   [General]
 *   Approval = example
 *   [Plugins]
 *   Load = example
 *   [Plugin:example]
 *   Greeting = hello
 *
 * Build it like any shared object:
 *   cc -shared -fPIC -I plugins/include -o example.so plugins/example/example.c
 */
#include <blueratchet/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct example {
    const struct br_host* host;
    char greeting[64];
};

static int example_init(const struct br_host* host, const struct br_kv* config, size_t n,
                        void** state, char* error, size_t error_size) {
    struct example* ex = calloc(1, sizeof *ex);
    if (!ex) {
        snprintf(error, error_size, "out of memory");
        return 1;
    }
    ex->host = host;
    snprintf(ex->greeting, sizeof ex->greeting, "hello");
    for (size_t i = 0; i < n; ++i) {
        if (strcmp(config[i].key, "Greeting") == 0) {
            snprintf(ex->greeting, sizeof ex->greeting, "%s", config[i].value);
        } else {
            snprintf(error, error_size, "unknown key %s (known: Greeting)", config[i].key);
            free(ex);
            return 1;
        }
    }
    *state = ex;
    return 0;
}

static int example_approve(void* state, const struct br_first_contact* c, br_approval_id id) {
    struct example* ex = state;
    char line[256];
    (void)id;
    snprintf(line, sizeof line, "%s: first contact from %s (%s), short code %s", ex->greeting,
             c->peer_id, c->address, c->short_code);
    ex->host->log(ex->host, BR_LOG_INFO, line);
    return c->pairing_window_open ? BR_APPROVE : BR_REJECT;
}

static void example_minted(void* state, const struct br_session_info* s) {
    struct example* ex = state;
    char line[256];
    snprintf(line, sizeof line, "%s: session with %s minted, epoch %u, fingerprint %.16s...",
             ex->greeting, s->peer_id, (unsigned)s->epoch, s->fingerprint);
    ex->host->log(ex->host, BR_LOG_INFO, line);
}

static void example_invalidated(void* state, const struct br_session_info* s, const char* reason) {
    struct example* ex = state;
    char line[256];
    snprintf(line, sizeof line, "%s: session with %s invalidated (%s)", ex->greeting, s->peer_id,
             reason);
    ex->host->log(ex->host, BR_LOG_INFO, line);
}

static void example_fini(void* state) {
    free(state);
}

static const struct br_plugin example_plugin = {
    .abi_version = BLUERATCHET_PLUGIN_ABI_VERSION,
    .name = "example",
    .flags = BR_PLUGIN_APPROVAL | BR_PLUGIN_SESSION_HOOKS,
    .init = example_init,
    .approve = example_approve,
    .session_minted = example_minted,
    .session_invalidated = example_invalidated,
    .fini = example_fini,
};

BLUERATCHET_PLUGIN_EXPORT const struct br_plugin* blueratchet_plugin_v1(void) {
    return &example_plugin;
}
