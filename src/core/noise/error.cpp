// SPDX-License-Identifier: MIT
#include "core/noise/error.hpp"

namespace br::noise {

const char* to_string(Error e) {
    switch (e) {
        case Error::WrongTurn:
            return "wrong turn";
        case Error::Finished:
            return "handshake finished";
        case Error::NotFinished:
            return "handshake not finished";
        case Error::Truncated:
            return "message truncated";
        case Error::TooLong:
            return "message too long";
        case Error::DecryptFailed:
            return "decryption failed";
        case Error::LowOrderPoint:
            return "low-order public key";
        case Error::MissingKey:
            return "missing key";
        case Error::NonceExhausted:
            return "nonce exhausted";
        case Error::Aborted:
            return "handshake aborted";
    }
    return "unknown noise error";
}

const char* name(Error e) {
    switch (e) {
        case Error::WrongTurn:
            return "WrongTurn";
        case Error::Finished:
            return "Finished";
        case Error::NotFinished:
            return "NotFinished";
        case Error::Truncated:
            return "Truncated";
        case Error::TooLong:
            return "TooLong";
        case Error::DecryptFailed:
            return "DecryptFailed";
        case Error::LowOrderPoint:
            return "LowOrderPoint";
        case Error::MissingKey:
            return "MissingKey";
        case Error::NonceExhausted:
            return "NonceExhausted";
        case Error::Aborted:
            return "Aborted";
    }
    return "Unknown";
}

}  // namespace br::noise
