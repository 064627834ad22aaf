// SPDX-License-Identifier: MIT
// Logging to stderr with journald priority prefixes ("<3>" error, "<4>"
// warning, "<6>" info, "<7>" debug), one line per call.  Nothing secret is
// ever passed here: no seeds, keys or raw handshake messages.
#pragma once

#include <sstream>
#include <string>

namespace br::daemon::log {

enum class Level { Error = 3, Warning = 4, Info = 6, Debug = 7 };

void set_debug(bool on);
bool debug_enabled();
void write(Level level, const std::string& line);

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& first, const Rest&... rest) {
    os << first;
    append(os, rest...);
}
}  // namespace detail

template <typename... Args>
void emit(Level level, const Args&... args) {
    if (level == Level::Debug && !debug_enabled()) return;
    std::ostringstream os;
    detail::append(os, args...);
    write(level, os.str());
}

template <typename... Args>
void error(const Args&... args) {
    emit(Level::Error, args...);
}
template <typename... Args>
void warning(const Args&... args) {
    emit(Level::Warning, args...);
}
template <typename... Args>
void info(const Args&... args) {
    emit(Level::Info, args...);
}
template <typename... Args>
void debug(const Args&... args) {
    emit(Level::Debug, args...);
}

}  // namespace br::daemon::log
