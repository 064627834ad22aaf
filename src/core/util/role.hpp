// SPDX-License-Identifier: MIT
// A side of a blueratchet handshake, as every layer names it: Noise's
// initiator/responder, the certificate's owner, the peer stored in a record.
// The initiator is always the BLE central (docs/DAEMON.md, "who initiates").
// The store writes it as one byte (0 initiator, 1 responder:
// docs/PROTOCOL.md section 10), mapped in records.cpp, never cast.
#pragma once

#include <cstdint>

namespace br {

enum class Role : std::uint8_t { Initiator, Responder };

constexpr Role other(Role r) {
    return r == Role::Initiator ? Role::Responder : Role::Initiator;
}

constexpr const char* to_string(Role r) {
    return r == Role::Initiator ? "initiator" : "responder";
}

}  // namespace br
