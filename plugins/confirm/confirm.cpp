// SPDX-License-Identifier: MIT
// The `confirm` approval plugin: a first contact waits for an operator.
// The short code is logged and the first contact shows in `blueratchetctl
// monitor` / `blueratchetctl approvals`; `blueratchetctl approve <peer>` or
// `reject <peer>` decides.  Without a verdict within Timeout seconds the
// daemon refuses it.
//
//   [Plugin:confirm]
//   Timeout = 20      # 1..600; the daemon's own ceiling still applies
//
// The operator has the smallest of Timeout, [Pairing] ApprovalTimeout and
// what is left of [Session] HandshakeTimeout (docs/PLUGINS.md).
#include <memory>

#include "plugin_util.hpp"

namespace {

struct State {
    const br_host* host = nullptr;
    unsigned timeout = 20;
};

int init(const br_host* host, const br_kv* config, size_t n, void** state, char* error,
         size_t error_size) {
    auto s = std::make_unique<State>();
    s->host = host;
    for (const auto& kv : br::plugin::settings(config, n)) {
        if (kv.key == "Timeout") {
            auto t = br::plugin::parse_seconds(kv.value, 1, 600);
            if (!t)
                return br::plugin::fail(
                    error, error_size,
                    "Timeout: must be 1..600 seconds (got \"" + kv.value + "\")");
            s->timeout = *t;
        } else {
            return br::plugin::fail(
                error, error_size,
                "unknown key " + kv.key + " in [Plugin:confirm] (known: Timeout)");
        }
    }
    *state = s.release();
    return 0;
}

int approve(void* state, const br_first_contact* c, br_approval_id id) {
    auto* s = static_cast<State*>(state);
    unsigned t = s->timeout < c->timeout_seconds ? s->timeout : c->timeout_seconds;
    s->host->approval_set_timeout(s->host, id, t);
    br::plugin::log(s->host, BR_LOG_INFO,
                    std::string("operator approval needed adapter=") + c->adapter +
                        " peer=" + c->peer_id + " address=" + c->address +
                        " short_code=" + c->short_code + " within " + std::to_string(t) +
                        " s: blueratchetctl approve|reject " + c->peer_id);
    return BR_PENDING;
}

void operator_verdict(void* state, br_approval_id id, int verdict) {
    auto* s = static_cast<State*>(state);
    if (s->host->approval_decide(s->host, id, verdict == BR_APPROVE ? BR_APPROVE : BR_REJECT) != 0)
        br::plugin::log(s->host, BR_LOG_WARNING, "operator verdict came too late");
}

void fini(void* state) {
    delete static_cast<State*>(state);
}

const br_plugin kPlugin = {
    BLUERATCHET_PLUGIN_ABI_VERSION,
    "confirm",
    BR_PLUGIN_APPROVAL,
    init,
    approve,
    operator_verdict,
    nullptr,  // approval_cancelled: nothing is kept per approval
    nullptr,
    nullptr,
    fini,
};

}  // namespace

extern "C" BLUERATCHET_PLUGIN_EXPORT const br_plugin* blueratchet_plugin_v1(void) {
    return &kPlugin;
}
