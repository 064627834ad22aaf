// SPDX-License-Identifier: MIT
// Helpers shared by the store tests.
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <cerrno>

#include "core/crypto/kdf.hpp"
#include "core/store/fs.hpp"
#include "core/store/records.hpp"

namespace br::store::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
  public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/br-store-XXXXXX";
        path_ = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
    }
    ~TempDir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};

inline unsigned mode_of(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return 0xffffffffu;
    return st.st_mode & 07777;
}

inline PeerId peer_id(std::uint32_t n) {
    PeerId id{};
    for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::uint8_t>(n * 131 + i * 7);
    id[0] = static_cast<std::uint8_t>(n >> 24);
    id[1] = static_cast<std::uint8_t>(n >> 16);
    id[2] = static_cast<std::uint8_t>(n >> 8);
    id[3] = static_cast<std::uint8_t>(n);
    return id;
}

inline SecretBytes seed_for(std::uint32_t peer, std::uint32_t epoch, std::uint8_t salt = 0) {
    Bytes s(kSeedLen);
    for (std::size_t i = 0; i < s.size(); ++i) {
        s[i] = static_cast<std::uint8_t>(peer * 17 + epoch * 29 + i + salt * 101);
    }
    return SecretBytes(ByteView(s));
}

// A record whose every field derives from (n, version), so a loaded record
// can be checked to be exactly one whole version.
inline PeerRecord make_record(std::uint32_t n, std::uint32_t version = 1, bool pending = true) {
    PeerInfo info;
    info.id = peer_id(n);
    info.role = n % 2 ? Role::Responder : Role::Initiator;
    info.protocol = PeerProtocol::V1_1;
    info.epochs = {version};
    if (pending) info.epochs.push_back(version + 1);
    info.created_unix = 1'700'000'000 + n;
    info.last_seen_unix = 1'700'000'000 + n + version;
    info.alias = "peer " + std::to_string(n) + " v" + std::to_string(version);
    info.address = "AA:BB:CC:00:00:" + std::string(1, "0123456789ABCDEF"[(n >> 4) & 15]) +
                   std::string(1, "0123456789ABCDEF"[n & 15]);
    PeerRecord rec{std::move(info), {}};
    rec.seeds.push_back(StoredSeed{version, seed_for(n, version)});
    if (pending) rec.seeds.push_back(StoredSeed{version + 1, seed_for(n, version + 1, 1)});
    return rec;
}

// The bytes a protocol 1.0 build wrote for `rec` (record version 1: a
// committed seed and an optional pending one), built field by field from
// PROTOCOL.md section 10 as it stood, so that loading them is a real test
// of reading old state.
inline Bytes encode_v1_record(const PeerRecord& rec) {
    const auto& i = rec.info;
    Bytes body;
    auto field = [&](ByteView v) {
        append_u16be(body, static_cast<std::uint16_t>(v.size()));
        append(body, v);
    };
    auto u = [&](std::uint64_t v, std::size_t n) {
        Bytes b;
        for (std::size_t k = 0; k < n; ++k)
            b.push_back(static_cast<std::uint8_t>(v >> (8 * (n - 1 - k))));
        field(b);
    };
    field(i.id);
    u(static_cast<std::uint8_t>(i.role), 1);
    u(rec.seeds[0].epoch, 4);
    field(rec.seeds[0].seed.view());
    const bool pending = rec.seeds.size() > 1;
    u(pending ? 1 : 0, 1);
    u(pending ? rec.seeds[1].epoch : 0, 4);
    const Bytes zero(kSeedLen, 0);
    field(pending ? rec.seeds[1].seed.view() : ByteView(zero));
    u(static_cast<std::uint64_t>(i.created_unix), 8);
    u(static_cast<std::uint64_t>(i.last_seen_unix), 8);
    field(as_bytes(i.alias));
    field(as_bytes(i.address));
    Bytes out = {'B', 'R', 'P', '1', 0, 1};
    append_u16be(out, static_cast<std::uint16_t>(body.size()));
    append(out, body);
    append(out, sha256(out));
    return out;
}

// FileOps that fail one step of atomic_write with a chosen errno.
enum class Step { None, Open, Chmod, Write, PartialWrite, FileSync, Rename, Link, DirSync };
class FailingOps : public FileOps {
  public:
    FailingOps(Step step, int err) : step_(step), err_(err) {}
    int open_at(int dir_fd, const char* name, int flags, mode_t mode) override {
        if (step_ == Step::Open) return fail();
        return FileOps::open_at(dir_fd, name, flags, mode);
    }
    int fchmod(int fd, mode_t mode) override {
        if (step_ == Step::Chmod) return fail();
        return FileOps::fchmod(fd, mode);
    }
    ssize_t write(int fd, const void* buf, std::size_t n) override {
        if (step_ == Step::Write) return fail();
        if (step_ == Step::PartialWrite) {
            if (writes_++ == 0) return FileOps::write(fd, buf, n / 2);
            return fail();
        }
        return FileOps::write(fd, buf, n);
    }
    int fsync(int fd) override {
        // The first fsync is the file's, the second the directory's.
        const int call = fsyncs_++;
        if ((step_ == Step::FileSync && call == 0) || (step_ == Step::DirSync && call == 1)) {
            return fail();
        }
        return FileOps::fsync(fd);
    }
    int rename_at(int dir_fd, const char* from, const char* to) override {
        if (step_ == Step::Rename) return fail();
        return FileOps::rename_at(dir_fd, from, to);
    }
    int link_at(int dir_fd, const char* from, const char* to) override {
        if (step_ == Step::Link) return fail();
        return FileOps::link_at(dir_fd, from, to);
    }

  private:
    int fail() {
        errno = err_;
        return -1;
    }
    Step step_;
    int err_;
    int writes_ = 0;
    int fsyncs_ = 0;
};

}  // namespace br::store::testing
