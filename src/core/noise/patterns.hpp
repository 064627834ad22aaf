// SPDX-License-Identifier: MIT
// Handshake patterns as data (Noise spec section 7).  A pattern is its
// pre-messages and its message token lists; HandshakeState interprets the
// table, so supporting another pattern is one more entry in patterns.cpp
// (plus its enum value).  Only the DH/cipher/hash combination
// 25519_ChaChaPoly_SHA256 is implemented.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "core/util/role.hpp"

namespace br::noise {

enum class Pattern { XX, IKpsk2 };

enum class Token { E, S, EE, ES, SE, SS, Psk };

struct PatternSpec {
    Pattern pattern;
    std::string_view protocol_name;  // e.g. "Noise_XX_25519_ChaChaPoly_SHA256"
    // Pre-message keys (spec 7.1).  Only "s" is supported in pre-messages.
    bool initiator_static_known = false;  // "-> s" before "..."
    bool responder_static_known = false;  // "<- s" before "..."
    // Message i is sent by the initiator when i is even.
    std::span<const std::span<const Token>> messages;
    // True when any message has a psk token: then "e" also does MixKey(e.pub)
    // (spec 9.2).
    bool psk_mode = false;
};

const PatternSpec& pattern_spec(Pattern p);
// The pattern whose full protocol name is `name`, if it is one we implement.
std::optional<Pattern> pattern_from_protocol_name(std::string_view name);
const char* to_string(Token t);

}  // namespace br::noise
