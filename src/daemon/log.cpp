// SPDX-License-Identifier: MIT
#include "daemon/log.hpp"

#include <unistd.h>

namespace br::daemon::log {

namespace {
bool g_debug = false;
}

void set_debug(bool on) {
    g_debug = on;
}
bool debug_enabled() {
    return g_debug;
}

void write(Level level, const std::string& line) {
    // One write(2) per line so that lines from a crash or a concurrent
    // writer never interleave mid-line in the journal.
    std::string out = "<" + std::to_string(static_cast<int>(level)) + ">";
    for (char c : line) out.push_back(c == '\n' ? ' ' : c);
    out.push_back('\n');
    const char* p = out.data();
    std::size_t left = out.size();
    while (left > 0) {
        ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) return;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace br::daemon::log
