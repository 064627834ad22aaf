// SPDX-License-Identifier: MIT
// Logging to stderr with journald priority prefixes ("<3>" error, "<4>"
// warning, "<6>" info, "<7>" debug), one line per call.  When stderr is the
// journal's stream ($JOURNAL_STREAM names it, as systemd sets it for a
// service), each line goes to the journal natively instead, with the fields
// journal_fields() finds in it, so `journalctl PEER_ID=...` finds what
// happened to a peer.  Nothing secret is ever passed here: no seeds, keys
// or raw handshake messages.
#pragma once

#include <sys/types.h>

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace br::daemon::log {

enum class Level { Error = 3, Warning = 4, Info = 6, Debug = 7 };

void set_debug(bool on);
bool debug_enabled();
void write(Level level, const std::string& line);

// One structured field of a journal entry: {"PEER_ID", "<base64url>"}.
struct Field {
    std::string name;
    std::string value;
    bool operator==(const Field&) const = default;
};
// The fields of a line, from its key=value words (docs/DAEMON.md, "Log
// lines"), in this order, each at most once (the first word wins):
//   PEER_ID  peer=            ("?" and "-" are no peer)
//   ADAPTER  adapter=         (else the adapter of a device path)
//   ADDRESS  address= or device=  (a BlueZ device path gives its address)
//   EPOCH    epoch=
//   ERROR    error=, else reason=, else why= (which takes the rest of the line)
// A key starts the line or follows a space; a value runs to the next space
// (a "quoted value" to its closing quote) less a trailing ':' ',' ';' or ')'.
std::vector<Field> journal_fields(std::string_view line);
// Whether $JOURNAL_STREAM ("<device>:<inode>", or null) names the file
// whose fstat() gave `dev` and `ino` (sd_journal_stream_fd(3)).
bool is_journal_stream(const char* journal_stream, dev_t dev, ino_t ino);

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
