// SPDX-License-Identifier: MIT
// Why a session's key material was wiped.  Shared by the cert module and the
// session layer: whoever tears a session down names the reason once.
#pragma once

namespace br {

enum class InvalidationReason {
    LinkLost,  // the BLE link went away
    Expired,   // the certificate's validity window ended
    Revoked,   // the user or the peer revoked the pairing
    Replaced,  // a newer epoch's session took over
};

constexpr const char* to_string(InvalidationReason r) {
    switch (r) {
        case InvalidationReason::LinkLost:
            return "LinkLost";
        case InvalidationReason::Expired:
            return "Expired";
        case InvalidationReason::Revoked:
            return "Revoked";
        case InvalidationReason::Replaced:
            return "Replaced";
    }
    return "unknown";
}

}  // namespace br
