// SPDX-License-Identifier: MIT
// `blueratchetctl agent`: the person at a terminal as the approval policy's
// operator, on either side of a first contact, the way bluetoothctl's agent
// asks about a passkey.
//
// With `[General] Approval = confirm` every first contact waits for an
// operator (docs/PLUGINS.md); since protocol 1.1 the central asks too, so a
// pairing needs both users' yes.  The agent prints each pending approval as
//     [agent] Confirm code 123456 for <peer id> (<address>, hci0) (yes/no):
// reads the answer from standard input and calls Manager1.Approve or Reject.
// It also says how each pairing ended (session minted, bond refused).  It
// returns at end of input or on SIGINT/SIGTERM.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <string>

#include "ctl/bus.hpp"

namespace br::ctl {

// `adapter` ("" for all) limits the approvals asked about.  `signal_fd` is
// a signalfd for SIGINT/SIGTERM.  Returns the exit status.
int run_agent(sdbus::IConnection& conn, ManagerProxy& manager, const std::string& adapter,
              int signal_fd);

}  // namespace br::ctl
