// SPDX-License-Identifier: MIT
// The named D-Bus errors of org.blueratchet (see dbus/org.blueratchet.Manager1.xml).
#pragma once

namespace br::daemon::errors {

inline constexpr const char* kNotFound = "org.blueratchet.Error.NotFound";
inline constexpr const char* kInvalidArgument = "org.blueratchet.Error.InvalidArgument";
inline constexpr const char* kNotPermitted = "org.blueratchet.Error.NotPermitted";
inline constexpr const char* kFailed = "org.blueratchet.Error.Failed";

inline constexpr const char* kBusName = "org.blueratchet";
inline constexpr const char* kManagerPath = "/org/blueratchet";

}  // namespace br::daemon::errors
