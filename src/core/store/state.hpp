// SPDX-License-Identifier: MIT
// The state directory (docs/PROTOCOL.md section 10):
//
//   <state_dir>/                 0700
//     <adapter>/                 0700  e.g. AA_BB_CC_DD_EE_FF
//       identity                 0600  identity record (Ed25519 seed)
//       clock                    0600  last-known-good wall time
//       peers/                   0700
//         <peer id, 64 hex>      0600  one peer record per peer
//
// Directories are created 0700 and files 0600 whatever the umask.  A state
// or adapter directory that is a symlink, is group/world-writable or belongs
// to another user is refused (a named error), since whoever can write there
// can plant or swap records; one that is merely group/world-readable is
// tightened to 0700.  Symlinks above <state_dir> (e.g. /var -> /data/var)
// are followed: only the store's own path components are checked.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/crypto/ed25519.hpp"
#include "core/store/error.hpp"
#include "core/store/fs.hpp"
#include "core/time/clock.hpp"
#include "core/util/expected.hpp"

namespace br::store {

inline constexpr std::string_view kIdentityFile = "identity";
inline constexpr std::string_view kClockFile = "clock";
inline constexpr std::string_view kPeersDir = "peers";

// Adapter names: 1..64 characters of [A-Za-z0-9_.-], not starting with '.'.
bool is_valid_adapter_name(std::string_view name);
// "AA:BB:CC:DD:EE:FF" -> "AA_BB_CC_DD_EE_FF" (uppercased); nullopt if not an address.
std::optional<std::string> adapter_name_from_address(std::string_view address);

// An open adapter directory.  Move-only; holds the directory descriptor, so
// later operations are immune to the path being swapped.
class AdapterDir {
  public:
    // Opens (creating when `create`) <state_dir>/<adapter>, checking both
    // directories as described above.  state_dir's parent must exist.
    static Expected<AdapterDir, StoreError> open(const std::string& state_dir,
                                                 std::string_view adapter, bool create = true);

    int fd() const { return fd_.get(); }
    const std::string& path() const { return path_; }

  private:
    AdapterDir(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
    UniqueFd fd_;
    std::string path_;
};

// Loads the adapter's identity, or creates, persists (atomically, without
// replacing a file another process created meanwhile) and returns a new one
// when the file does not exist.  A corrupt identity file is an error, never
// silently replaced: the identity is the device's name to its peers.
// created_unix < 0 means "now" from the system clock.
Expected<Ed25519KeyPair, StoreError> load_or_create_identity(const AdapterDir& dir,
                                                             std::int64_t created_unix = -1);

// The last-known-good clock file.  load_clock() returns nullopt when there
// is no file yet; a corrupt file is an error (the caller logs it and starts
// from the build time).
Expected<void, StoreError> save_clock(const AdapterDir& dir, time::UnixSeconds value);
Expected<std::optional<time::UnixSeconds>, StoreError> load_clock(const AdapterDir& dir);

}  // namespace br::store
