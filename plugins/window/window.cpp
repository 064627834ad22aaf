// SPDX-License-Identifier: MIT
// The `window` approval plugin (the default): a first contact is approved
// only while the adapter's pairing window is open (`blueratchetctl pairing
// on`, --pairing-window).  No configuration.
#include "plugin_util.hpp"

namespace {

const br_host* g_host = nullptr;

int init(const br_host* host, const br_kv* config, size_t n, void** state, char* error,
         size_t error_size) {
    if (n > 0)
        return br::plugin::fail(error, error_size,
                                std::string("[Plugin:window] takes no keys (got ") +
                                    (config[0].key ? config[0].key : "?") + ")");
    g_host = host;
    *state = nullptr;
    return 0;
}

int approve(void*, const br_first_contact* c, br_approval_id) {
    if (c->pairing_window_open) {
        br::plugin::log(g_host, BR_LOG_INFO,
                        std::string("approved: pairing window open (") +
                            std::to_string(c->pairing_window_remaining) + " s left)");
        return BR_APPROVE;
    }
    br::plugin::log(g_host, BR_LOG_WARNING, "refused: pairing window closed");
    return BR_REJECT;
}

const br_plugin kPlugin = {
    BLUERATCHET_PLUGIN_ABI_VERSION,
    "window",
    BR_PLUGIN_APPROVAL,
    init,
    approve,
    nullptr,  // operator_verdict
    nullptr,  // approval_cancelled
    nullptr,  // session_minted
    nullptr,  // session_invalidated
    nullptr,  // fini
};

}  // namespace

extern "C" BLUERATCHET_PLUGIN_EXPORT const br_plugin* blueratchet_plugin_v1(void) {
    return &kPlugin;
}
