// SPDX-License-Identifier: MIT
#include "core/store/peer_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace br::store {

namespace {

std::optional<PeerId> peer_id_from_name(std::string_view name) {
    if (name.size() != 2 * kPeerIdLen) return std::nullopt;
    for (char c : name) {
        // Lowercase only: one canonical file per peer.
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
    }
    auto bytes = from_hex(name);
    if (!bytes) return std::nullopt;
    PeerId id{};
    std::copy(bytes->begin(), bytes->end(), id.begin());
    return id;
}

StoreError with_file(StoreError e, std::string file) {
    e.file = std::move(file);
    return e;
}

}  // namespace

std::string PeerStore::file_of(const PeerId& id) const {
    return path_ + "/" + to_hex(id);
}

Expected<PeerStore, StoreError> PeerStore::open(const AdapterDir& dir) {
    const std::string path = dir.path() + "/" + std::string(kPeersDir);
    auto fd = open_private_dir(dir.fd(), std::string(kPeersDir), true);
    if (!fd) return unexpected(with_file(fd.error(), path));
    PeerStore store(std::move(*fd), path);

    // Enumerate through a separate descriptor: closedir closes it.
    const int list_fd = ::openat(store.fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (list_fd < 0) return unexpected(StoreError{StoreErrc::OpenFailed, errno, path, {}});
    DIR* d = ::fdopendir(list_fd);
    if (d == nullptr) {
        const int err = errno;
        ::close(list_fd);
        return unexpected(StoreError{StoreErrc::OpenFailed, err, path, {}});
    }
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* e = ::readdir(d)) {
        std::string_view name(e->d_name);
        if (name != "." && name != "..") names.emplace_back(name);
    }
    const int read_err = errno;
    ::closedir(d);
    if (read_err != 0) return unexpected(StoreError{StoreErrc::ReadFailed, read_err, path, {}});

    bool removed_temp = false;
    for (const std::string& name : names) {
        std::string file = path;
        file += '/';
        file += name;
        if (is_temp_name(name)) {
            // Left by a write that never reached its rename (crash, kill -9).
            if (::unlinkat(store.fd_.get(), name.c_str(), 0) == 0) removed_temp = true;
            continue;
        }
        const auto id = peer_id_from_name(name);
        if (!id) {
            store.problems_.push_back(
                {file, StoreError{StoreErrc::BadName, 0, file, "not a peer record name"}});
            continue;
        }
        auto data = read_file_at(store.fd_.get(), path, name, kMaxRecordFile);
        if (!data) {
            store.problems_.push_back({file, data.error()});
            continue;
        }
        SensitiveBytes buf(std::move(*data));
        auto info = decode_peer_info(buf.view());
        buf.wipe();
        if (!info) {
            store.problems_.push_back({file, with_file(info.error(), file)});
            continue;
        }
        if (info->id != *id) {
            store.problems_.push_back(
                {file, StoreError{StoreErrc::BadValue, 0, file, "peer id differs from file name"}});
            continue;
        }
        store.index_.emplace(*id, std::move(*info));
    }
    if (removed_temp) (void)::fsync(store.fd_.get());
    return store;
}

const PeerInfo* PeerStore::find(const PeerId& id) const {
    auto it = index_.find(id);
    return it == index_.end() ? nullptr : &it->second;
}

Expected<PeerRecord, StoreError> PeerStore::read_record(const PeerId& id) const {
    const std::string name = to_hex(id);
    const std::string file = path_ + "/" + name;
    if (index_.find(id) == index_.end()) {
        return unexpected(StoreError{StoreErrc::NotFound, 0, file, "unknown peer"});
    }
    auto data = read_file_at(fd_.get(), path_, name, kMaxRecordFile);
    if (!data) return unexpected(data.error());
    SensitiveBytes buf(std::move(*data));
    auto rec = decode_peer_record(buf.view());
    buf.wipe();
    if (!rec) return unexpected(with_file(rec.error(), file));
    if (rec->info.id != id) {
        return unexpected(
            StoreError{StoreErrc::BadValue, 0, file, "peer id differs from file name"});
    }
    return rec;
}

Expected<std::vector<StoredSeed>, StoreError> PeerStore::load_secrets(const PeerId& id) const {
    auto rec = read_record(id);
    if (!rec) return unexpected(rec.error());
    return std::move(rec->seeds);
}

Expected<PeerRecord, StoreError> PeerStore::load(const PeerId& id) const {
    return read_record(id);
}

Expected<void, StoreError> PeerStore::save(const PeerRecord& rec) {
    const std::string name = to_hex(rec.info.id);
    auto enc = encode_peer_record(rec);
    if (!enc) return unexpected(with_file(enc.error(), path_ + "/" + name));
    auto w = atomic_write(fd_.get(), path_, name, enc->view(), WriteMode::Replace, *ops_);
    enc->wipe();
    if (!w && w.error().code != StoreErrc::DirSyncFailed) return unexpected(w.error());
    index_.insert_or_assign(rec.info.id, rec.info);
    return w;
}

Expected<void, StoreError> PeerStore::remove(const PeerId& id) {
    const std::string name = to_hex(id);
    auto r = remove_file_at(fd_.get(), path_, name);
    if (r || r.error().code == StoreErrc::DirSyncFailed) index_.erase(id);
    return r;
}

}  // namespace br::store
