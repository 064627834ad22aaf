// SPDX-License-Identifier: MIT
// The opening exchange of a session channel (docs/PROTOCOL.md 8.3): the
// first plaintext the opener sends names the service,
//     0x01 || u8 n || name     (n in 1..64, name in [A-Za-z0-9._-])
// and the acceptor answers one status byte.  Both parsers take the bytes
// received so far and say whether they hold a whole message yet; nothing
// is read past the message, so what follows belongs to the applications.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/util/bytes.hpp"
#include "core/util/expected.hpp"

namespace br::channel {

inline constexpr std::uint8_t kOpenVersion = 0x01;
inline constexpr std::size_t kMaxServiceName = 64;

enum class OpenStatus : std::uint8_t { Accepted = 0x00, NoSuchService = 0x01, Refused = 0x02 };
const char* to_string(OpenStatus s);

enum class OpenError {
    BadVersion,  // the first byte is not kOpenVersion
    BadName,     // empty, too long, or a character outside the set
    BadStatus,   // a status byte we do not know
};
const char* to_string(OpenError e);

// Whether `name` may name a service.
bool valid_service_name(std::string_view name);

// The request for `name` (which must be valid).
Bytes encode_open(std::string_view name);

struct OpenRequest {
    std::string service;
    std::size_t length;  // bytes of the input it took
};
// A whole request at the start of `in`, nothing yet (std::nullopt), or an
// error (no later byte can make it valid).
Expected<std::optional<OpenRequest>, OpenError> parse_open(ByteView in);

// The status byte, or nothing yet / an error.
Expected<std::optional<OpenStatus>, OpenError> parse_status(ByteView in);

}  // namespace br::channel
