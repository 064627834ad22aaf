// SPDX-License-Identifier: MIT
// A private dbus-daemon for tests: a real bus with a policy allowing
// everything, listening on a socket in a fresh temporary directory.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

namespace br::test {

class PrivateBus {
  public:
    // extra_policy: XML inserted into the <busconfig> (e.g. an <include>).
    explicit PrivateBus(const std::string& extra_policy = "", bool allow_everything = true) {
        char tmpl[] = "/tmp/br-bus-XXXXXX";
        if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        chmod(dir_.c_str(), 0755);  // other users may connect (policy tests)
        std::string conf = dir_ + "/bus.conf";
        {
            std::ofstream out(conf);
            out << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration "
                   "1.0//EN\"\n"
                   " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                   "<busconfig>\n"
                   "  <type>system</type>\n"
                   "  <listen>unix:path="
                << dir_
                << "/bus</listen>\n"
                   "  <auth>EXTERNAL</auth>\n";
            if (allow_everything) {
                // session.conf's policy: anyone may connect, own, send and receive.
                out << "  <policy context=\"default\">\n"
                       "    <allow user=\"*\"/>\n"
                       "    <allow own=\"*\"/>\n"
                       "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                       "    <allow eavesdrop=\"true\"/>\n"
                       "  </policy>\n";
            }
            out << extra_policy << "</busconfig>\n";
        }
        int fds[2];
        if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            dup2(fds[1], 1);
            close(fds[0]);
            close(fds[1]);
            execlp("dbus-daemon", "dbus-daemon", ("--config-file=" + conf).c_str(), "--nofork",
                   "--print-address=1", "--nosyslog", static_cast<char*>(nullptr));
            _exit(127);
        }
        close(fds[1]);
        std::string line;
        char c;
        while (read(fds[0], &c, 1) == 1 && c != '\n') line.push_back(c);
        close(fds[0]);
        if (line.empty()) {
            int status = 0;
            waitpid(pid_, &status, 0);
            pid_ = -1;
            throw std::runtime_error("dbus-daemon did not start (config " + conf + ")");
        }
        address_ = line;
    }
    ~PrivateBus() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status = 0;
            waitpid(pid_, &status, 0);
        }
        std::string cmd = "rm -rf '" + dir_ + "'";
        if (std::system(cmd.c_str()) != 0) { /* best effort */
        }
    }
    PrivateBus(const PrivateBus&) = delete;
    PrivateBus& operator=(const PrivateBus&) = delete;

    const std::string& address() const { return address_; }
    const std::string& dir() const { return dir_; }

  private:
    std::string dir_;
    std::string address_;
    pid_t pid_ = -1;
};

}  // namespace br::test
