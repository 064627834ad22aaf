// SPDX-License-Identifier: MIT
// `blueratchetctl channel`: session channels from the shell (docs/API.md,
// "Session channels"), in the spirit of socat and ncat.
//
//   channel connect PEER SERVICE   standard input to the peer's service,
//                                  what it sends to standard output; ends
//                                  when both directions have ended
//   channel serve SERVICE -- CMD   runs CMD for each channel a peer opens to
//                                  SERVICE, its standard input and output
//                                  the channel; until SIGINT/SIGTERM
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <string>
#include <vector>

#include "ctl/bus.hpp"

namespace br::ctl {

// `adapter` and `device_id` name the peer (resolved by the caller).
int run_channel_connect(ManagerProxy& manager, const std::string& adapter,
                        const std::string& device_id, const std::string& service);
// `signal_fd`: a signalfd for SIGINT/SIGTERM.
int run_channel_serve(sdbus::IConnection& conn, ManagerProxy& manager, const std::string& service,
                      const std::vector<std::string>& command, int signal_fd);

}  // namespace br::ctl
