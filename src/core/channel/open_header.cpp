// SPDX-License-Identifier: MIT
#include "core/channel/open_header.hpp"

#include <algorithm>

namespace br::channel {

const char* to_string(OpenStatus s) {
    switch (s) {
        case OpenStatus::Accepted:
            return "Accepted";
        case OpenStatus::NoSuchService:
            return "NoSuchService";
        case OpenStatus::Refused:
            return "Refused";
    }
    return "Unknown";
}

const char* to_string(OpenError e) {
    switch (e) {
        case OpenError::BadVersion:
            return "BadVersion";
        case OpenError::BadName:
            return "BadName";
        case OpenError::BadStatus:
            return "BadStatus";
    }
    return "Unknown";
}

bool valid_service_name(std::string_view name) {
    return !name.empty() && name.size() <= kMaxServiceName &&
           std::all_of(name.begin(), name.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
           });
}

Bytes encode_open(std::string_view name) {
    Bytes out(2 + name.size());
    out[0] = kOpenVersion;
    out[1] = static_cast<std::uint8_t>(name.size());
    std::copy(name.begin(), name.end(), out.begin() + 2);
    return out;
}

Expected<std::optional<OpenRequest>, OpenError> parse_open(ByteView in) {
    if (in.empty()) return std::optional<OpenRequest>{};
    if (in[0] != kOpenVersion) return unexpected(OpenError::BadVersion);
    if (in.size() < 2) return std::optional<OpenRequest>{};
    const std::size_t n = in[1];
    if (n == 0 || n > kMaxServiceName) return unexpected(OpenError::BadName);
    // A character outside the set is an error as soon as it arrives.
    const std::size_t have = std::min(in.size() - 2, n);
    std::string name(reinterpret_cast<const char*>(in.data() + 2), have);
    if (!std::all_of(name.begin(), name.end(), [](char c) { return valid_service_name({&c, 1}); }))
        return unexpected(OpenError::BadName);
    if (have < n) return std::optional<OpenRequest>{};
    return std::optional<OpenRequest>{OpenRequest{std::move(name), 2 + n}};
}

Expected<std::optional<OpenStatus>, OpenError> parse_status(ByteView in) {
    if (in.empty()) return std::optional<OpenStatus>{};
    if (in[0] > static_cast<std::uint8_t>(OpenStatus::Refused))
        return unexpected(OpenError::BadStatus);
    return std::optional<OpenStatus>{static_cast<OpenStatus>(in[0])};
}

}  // namespace br::channel
