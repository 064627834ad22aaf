// SPDX-License-Identifier: MIT
#include "core/noise/patterns.hpp"

#include <array>

namespace br::noise {
namespace {

using enum Token;

// XX (spec 7.5):
//   -> e
//   <- e, ee, s, es
//   -> s, se
constexpr Token kXX1[] = {E};
constexpr Token kXX2[] = {E, EE, S, ES};
constexpr Token kXX3[] = {S, SE};
constexpr std::span<const Token> kXX[] = {kXX1, kXX2, kXX3};

// IKpsk2 (spec 7.5 and 9.4):
//   <- s
//   ...
//   -> e, es, s, ss
//   <- e, ee, se, psk
constexpr Token kIKpsk2_1[] = {E, ES, S, SS};
constexpr Token kIKpsk2_2[] = {E, EE, SE, Psk};
constexpr std::span<const Token> kIKpsk2[] = {kIKpsk2_1, kIKpsk2_2};

constexpr bool uses_psk(std::span<const std::span<const Token>> messages) {
    for (auto m : messages) {
        for (Token t : m) {
            if (t == Psk) return true;
        }
    }
    return false;
}

// To add a pattern: its token lists above, then one row here.
constexpr std::array kSpecs = {
    PatternSpec{Pattern::XX, "Noise_XX_25519_ChaChaPoly_SHA256", false, false, kXX, uses_psk(kXX)},
    PatternSpec{Pattern::IKpsk2, "Noise_IKpsk2_25519_ChaChaPoly_SHA256", false, true, kIKpsk2,
                uses_psk(kIKpsk2)},
};

}  // namespace

const PatternSpec& pattern_spec(Pattern p) {
    for (const auto& spec : kSpecs) {
        if (spec.pattern == p) return spec;
    }
    return kSpecs[0];  // unreachable for a valid enum value
}

std::optional<Pattern> pattern_from_protocol_name(std::string_view name) {
    for (const auto& spec : kSpecs) {
        if (spec.protocol_name == name) return spec.pattern;
    }
    return std::nullopt;
}

const char* to_string(Token t) {
    switch (t) {
        case E:
            return "e";
        case S:
            return "s";
        case EE:
            return "ee";
        case ES:
            return "es";
        case SE:
            return "se";
        case SS:
            return "ss";
        case Psk:
            return "psk";
    }
    return "?";
}

}  // namespace br::noise
