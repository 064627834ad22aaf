// SPDX-License-Identifier: MIT
#include "core/store/error.hpp"

#include <cstring>

namespace br::store {

const char* to_string(StoreErrc e) {
    switch (e) {
        case StoreErrc::OpenFailed:
            return "cannot open";
        case StoreErrc::ReadFailed:
            return "read failed";
        case StoreErrc::WriteFailed:
            return "write failed";
        case StoreErrc::SyncFailed:
            return "fsync failed";
        case StoreErrc::ChmodFailed:
            return "chmod failed";
        case StoreErrc::RenameFailed:
            return "rename failed";
        case StoreErrc::DirSyncFailed:
            return "directory fsync failed";
        case StoreErrc::RemoveFailed:
            return "remove failed";
        case StoreErrc::MkdirFailed:
            return "mkdir failed";
        case StoreErrc::NotFound:
            return "not found";
        case StoreErrc::AlreadyExists:
            return "already exists";
        case StoreErrc::IsSymlink:
            return "is a symbolic link (refused)";
        case StoreErrc::NotADirectory:
            return "not a directory";
        case StoreErrc::NotARegularFile:
            return "not a regular file";
        case StoreErrc::InsecurePermissions:
            return "group/world-writable or owned by another user (refused)";
        case StoreErrc::BadName:
            return "unsafe name";
        case StoreErrc::FileTooLarge:
            return "file too large for a record";
        case StoreErrc::BadMagic:
            return "bad magic";
        case StoreErrc::UnsupportedVersion:
            return "unsupported format version";
        case StoreErrc::Truncated:
            return "truncated record";
        case StoreErrc::ChecksumMismatch:
            return "checksum mismatch (corrupt record)";
        case StoreErrc::FieldTooLong:
            return "field too long";
        case StoreErrc::BadValue:
            return "bad field value";
    }
    return "unknown store error";
}

std::string StoreError::message() const {
    std::string m = file.empty() ? std::string("(store)") : file;
    m += ": ";
    m += to_string(code);
    if (!detail.empty()) m += " (" + detail + ")";
    if (sys_errno != 0) {
        m += ": ";
        m += std::strerror(sys_errno);
    }
    return m;
}

}  // namespace br::store
