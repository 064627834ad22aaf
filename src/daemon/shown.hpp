// SPDX-License-Identifier: MIT
// Values a caller sent, as error messages and log lines echo them: at most
// 64 bytes of the value, then an ellipsis and its length (issue #10, item
// 9b: three invalid 20 MiB arguments, each echoed whole into its error reply,
// grew the daemon from 7 MB to 109 MB).  Header-only: the daemon's API
// layer, its BlueZ glue and blueratchetctl share it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace br::daemon {

inline constexpr std::size_t kShownBytes = 64;

// `s` itself if it is at most kShownBytes long, else its first kShownBytes
// (fewer, to end on a UTF-8 character boundary: D-Bus refuses a message
// that is not valid UTF-8) followed by "...(N bytes)".
inline std::string cut(std::string_view s) {
    if (s.size() <= kShownBytes) return std::string(s);
    std::size_t n = kShownBytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
    return std::string(s.substr(0, n)) + "...(" + std::to_string(s.size()) + " bytes)";
}

// cut(s) in double quotes, for error messages: "abc" or "abc...(N bytes)".
inline std::string shown(std::string_view s) {
    return "\"" + cut(s) + "\"";
}

}  // namespace br::daemon
