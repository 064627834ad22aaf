// SPDX-License-Identifier: MIT
#include "core/store/state.hpp"

#include <fcntl.h>

#include <ctime>

#include "core/store/records.hpp"

namespace br::store {

bool is_valid_adapter_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name[0] == '.') return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok) return false;
    }
    return true;
}

std::optional<std::string> adapter_name_from_address(std::string_view address) {
    if (address.size() != kAddressLen || !is_valid_address(address)) return std::nullopt;
    std::string out(address);
    for (char& c : out) {
        if (c == ':') c = '_';
        if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    }
    return out;
}

Expected<AdapterDir, StoreError> AdapterDir::open(const std::string& state_dir,
                                                  std::string_view adapter, bool create) {
    if (!is_valid_adapter_name(adapter)) {
        return unexpected(StoreError{StoreErrc::BadName, 0, state_dir + "/" + std::string(adapter),
                                     "adapter name"});
    }
    auto state = open_private_dir(AT_FDCWD, state_dir, create);
    if (!state) return unexpected(state.error());
    const std::string path = state_dir + "/" + std::string(adapter);
    auto dir = open_private_dir(state->get(), std::string(adapter), create);
    if (!dir) {
        StoreError e = dir.error();
        e.file = path;
        return unexpected(std::move(e));
    }
    return AdapterDir(std::move(*dir), path);
}

namespace {

StoreError with_file(StoreError e, const std::string& file) {
    e.file = file;
    return e;
}

}  // namespace

Expected<Ed25519KeyPair, StoreError> load_or_create_identity(const AdapterDir& dir,
                                                             std::int64_t created_unix) {
    const std::string file = dir.path() + "/" + std::string(kIdentityFile);
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto data = read_file_at(dir.fd(), dir.path(), kIdentityFile, kMaxRecordFile);
        if (data) {
            SensitiveBytes buf(std::move(*data));
            auto rec = decode_identity_record(buf.view());
            if (!rec) return unexpected(with_file(rec.error(), file));
            return std::move(rec->key);
        }
        if (data.error().code != StoreErrc::NotFound) return unexpected(data.error());

        Ed25519KeyPair key = Ed25519KeyPair::generate();
        const std::int64_t now = created_unix >= 0 ? created_unix : std::time(nullptr);
        SensitiveBytes rec = encode_identity_record(key, now);
        auto w =
            atomic_write(dir.fd(), dir.path(), kIdentityFile, rec.view(), WriteMode::CreateNew);
        if (w) return key;
        // Another process created it first: load theirs on the next pass.
        if (w.error().code != StoreErrc::AlreadyExists) return unexpected(w.error());
    }
    return unexpected(StoreError{StoreErrc::OpenFailed, 0, file, "identity created concurrently"});
}

Expected<void, StoreError> save_clock(const AdapterDir& dir, time::UnixSeconds value) {
    const Bytes rec = time::encode_clock_record(value);
    return atomic_write(dir.fd(), dir.path(), kClockFile, rec);
}

Expected<std::optional<time::UnixSeconds>, StoreError> load_clock(const AdapterDir& dir) {
    const std::string file = dir.path() + "/" + std::string(kClockFile);
    auto data = read_file_at(dir.fd(), dir.path(), kClockFile, kMaxRecordFile);
    if (!data) {
        if (data.error().code == StoreErrc::NotFound) return std::optional<time::UnixSeconds>{};
        return unexpected(data.error());
    }
    auto t = time::decode_clock_record(*data);
    if (!t) {
        StoreErrc code = StoreErrc::BadValue;
        switch (t.error()) {
            case time::ClockRecordError::Truncated:
                code = StoreErrc::Truncated;
                break;
            case time::ClockRecordError::BadMagic:
                code = StoreErrc::BadMagic;
                break;
            case time::ClockRecordError::UnsupportedVersion:
                code = StoreErrc::UnsupportedVersion;
                break;
            case time::ClockRecordError::ChecksumMismatch:
                code = StoreErrc::ChecksumMismatch;
                break;
            case time::ClockRecordError::BadValue:
                code = StoreErrc::BadValue;
                break;
        }
        return unexpected(StoreError{code, 0, file, {}});
    }
    return std::optional<time::UnixSeconds>{*t};
}

}  // namespace br::store
