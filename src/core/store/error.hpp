// SPDX-License-Identifier: MIT
// Named errors of the state store.  Every error carries the file (or
// directory) it concerns and, for system-call failures, the errno, so that
// the daemon can log one line that says what went wrong where.
#pragma once

#include <cstdint>
#include <string>

namespace br::store {

enum class StoreErrc : std::uint8_t {
    // System calls (errno set).
    OpenFailed,
    ReadFailed,
    WriteFailed,  // includes ENOSPC, EFBIG (RLIMIT_FSIZE), EDQUOT
    SyncFailed,   // fsync of the temporary file
    ChmodFailed,
    RenameFailed,
    DirSyncFailed,  // fsync of the directory after the rename (see atomic_write)
    RemoveFailed,
    MkdirFailed,
    // The file system is not what the store expects.
    NotFound,
    AlreadyExists,
    IsSymlink,
    NotADirectory,
    NotARegularFile,
    InsecurePermissions,  // group- or world-writable, or owned by another user
    BadName,              // an adapter or file name that is not safe
    FileTooLarge,
    // Record contents.
    BadMagic,
    UnsupportedVersion,
    Truncated,
    ChecksumMismatch,
    FieldTooLong,
    BadValue,
};

const char* to_string(StoreErrc e);

struct StoreError {
    StoreErrc code = StoreErrc::OpenFailed;
    int sys_errno = 0;   // 0 unless a system call failed
    std::string file;    // the path concerned
    std::string detail;  // optional: which field, what value

    // "<file>: <what>[ (<detail>)][: <strerror>]"
    std::string message() const;
};

}  // namespace br::store
