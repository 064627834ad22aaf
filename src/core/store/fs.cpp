// SPDX-License-Identifier: MIT
#include "core/store/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "core/crypto/secret.hpp"

namespace br::store {

UniqueFd::~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.release();
    }
    return *this;
}

int FileOps::open_at(int dir_fd, const char* name, int flags, mode_t mode) {
    int fd;
    do {
        fd = ::openat(dir_fd, name, flags, mode);
    } while (fd < 0 && errno == EINTR);
    return fd;
}
ssize_t FileOps::write(int fd, const void* buf, std::size_t n) {
    return ::write(fd, buf, n);
}
int FileOps::fchmod(int fd, mode_t mode) {
    return ::fchmod(fd, mode);
}
int FileOps::fsync(int fd) {
    return ::fsync(fd);
}
int FileOps::rename_at(int dir_fd, const char* from, const char* to) {
    return ::renameat(dir_fd, from, dir_fd, to);
}
int FileOps::link_at(int dir_fd, const char* from, const char* to) {
    return ::linkat(dir_fd, from, dir_fd, to, 0);
}
int FileOps::unlink_at(int dir_fd, const char* name) {
    return ::unlinkat(dir_fd, name, 0);
}

FileOps& real_file_ops() {
    static FileOps ops;
    return ops;
}

namespace {

constexpr std::string_view kTempInfix = ".tmp.";

std::string join(const std::string& dir, std::string_view name) {
    std::string p = dir;
    if (!p.empty() && p.back() != '/') p += '/';
    p += name;
    return p;
}

StoreError sys_error(StoreErrc code, std::string file, int err) {
    return StoreError{code, err, std::move(file), {}};
}

bool is_safe_name(std::string_view name) {
    if (name.empty() || name.size() > 200 || name[0] == '.') return false;
    for (char c : name) {
        if (c == '/' || c == '\0') return false;
    }
    return true;
}

}  // namespace

bool is_temp_name(std::string_view name) {
    return name.size() > 1 && name[0] == '.' && name.find(kTempInfix) != std::string_view::npos;
}

Expected<void, StoreError> atomic_write(int dir_fd, const std::string& dir_path,
                                        std::string_view name, ByteView data, WriteMode mode,
                                        FileOps& ops) {
    const std::string target = join(dir_path, name);
    if (!is_safe_name(name)) return unexpected(StoreError{StoreErrc::BadName, 0, target, {}});

    ByteArray<8> rnd{};
    random_bytes(rnd);
    const std::string tmp = "." + std::string(name) + std::string(kTempInfix) + to_hex(rnd);
    const std::string tmp_path = join(dir_path, tmp);

    const int fd = ops.open_at(dir_fd, tmp.c_str(),
                               O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return unexpected(sys_error(StoreErrc::OpenFailed, tmp_path, errno));
    UniqueFd file(fd);

    // From here on, any failure removes the temporary file.
    auto fail = [&](StoreErrc code, int err) -> Unexpected<StoreError> {
        file = UniqueFd();
        ops.unlink_at(dir_fd, tmp.c_str());
        return unexpected(
            sys_error(code, code == StoreErrc::RenameFailed ? target : tmp_path, err));
    };

    if (ops.fchmod(file.get(), 0600) != 0) return fail(StoreErrc::ChmodFailed, errno);
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ops.write(file.get(), data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(StoreErrc::WriteFailed, errno);
        }
        if (n == 0) return fail(StoreErrc::WriteFailed, EIO);
        done += static_cast<std::size_t>(n);
    }
    if (ops.fsync(file.get()) != 0) return fail(StoreErrc::SyncFailed, errno);
    if (::close(file.release()) != 0) return fail(StoreErrc::WriteFailed, errno);

    if (mode == WriteMode::Replace) {
        if (ops.rename_at(dir_fd, tmp.c_str(), std::string(name).c_str()) != 0) {
            return fail(StoreErrc::RenameFailed, errno);
        }
    } else {
        if (ops.link_at(dir_fd, tmp.c_str(), std::string(name).c_str()) != 0) {
            const int err = errno;
            auto e = fail(err == EEXIST ? StoreErrc::AlreadyExists : StoreErrc::RenameFailed, err);
            e.error.file = target;
            return e;
        }
        ops.unlink_at(dir_fd, tmp.c_str());
    }
    if (ops.fsync(dir_fd) != 0) {
        return unexpected(sys_error(StoreErrc::DirSyncFailed, dir_path, errno));
    }
    return {};
}

Expected<void, StoreError> atomic_write(const std::string& dir_path, std::string_view name,
                                        ByteView data, WriteMode mode, FileOps& ops) {
    const int fd = ::open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return unexpected(sys_error(StoreErrc::OpenFailed, dir_path, errno));
    UniqueFd dir(fd);
    return atomic_write(dir.get(), dir_path, name, data, mode, ops);
}

Expected<Bytes, StoreError> read_file_at(int dir_fd, const std::string& dir_path,
                                         std::string_view name, std::size_t max_size) {
    const std::string path = join(dir_path, name);
    if (name.empty() || name.find('/') != std::string_view::npos) {
        return unexpected(StoreError{StoreErrc::BadName, 0, path, {}});
    }
    // O_NONBLOCK: a FIFO planted in the directory must not hang the loader.
    int fd;
    do {
        fd = ::openat(dir_fd, std::string(name).c_str(),
                      O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT) return unexpected(sys_error(StoreErrc::NotFound, path, err));
        if (err == ELOOP) return unexpected(sys_error(StoreErrc::IsSymlink, path, 0));
        return unexpected(sys_error(StoreErrc::OpenFailed, path, err));
    }
    UniqueFd file(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return unexpected(sys_error(StoreErrc::ReadFailed, path, errno));
    if (!S_ISREG(st.st_mode)) return unexpected(sys_error(StoreErrc::NotARegularFile, path, 0));
    if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > max_size) {
        return unexpected(
            StoreError{StoreErrc::FileTooLarge, 0, path, std::to_string(st.st_size) + " bytes"});
    }
    if ((st.st_mode & 077) != 0 && st.st_uid == ::geteuid()) {
        // Tighten, do not refuse: the content is still ours (the directory is
        // private); only its readability was too wide.
        (void)::fchmod(fd, 0600);
    }
    Bytes buf(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < buf.size()) {
        const ssize_t n = ::read(fd, buf.data() + done, buf.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            wipe_memory(buf.data(), buf.size());
            return unexpected(sys_error(StoreErrc::ReadFailed, path, err));
        }
        if (n == 0) {
            wipe_memory(buf.data(), buf.size());
            return unexpected(StoreError{StoreErrc::ReadFailed, 0, path, "file shrank while read"});
        }
        done += static_cast<std::size_t>(n);
    }
    return buf;
}

Expected<void, StoreError> remove_file_at(int dir_fd, const std::string& dir_path,
                                          std::string_view name) {
    const std::string path = join(dir_path, name);
    if (!is_safe_name(name)) return unexpected(StoreError{StoreErrc::BadName, 0, path, {}});
    if (::unlinkat(dir_fd, std::string(name).c_str(), 0) != 0) {
        const int err = errno;
        return unexpected(
            sys_error(err == ENOENT ? StoreErrc::NotFound : StoreErrc::RemoveFailed, path, err));
    }
    if (::fsync(dir_fd) != 0) {
        return unexpected(sys_error(StoreErrc::DirSyncFailed, dir_path, errno));
    }
    return {};
}

namespace {

// fsyncs the directory that contains `path` (relative to parent_fd), so that
// a newly created entry survives a power loss.  Best effort.
void sync_parent(int parent_fd, const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    std::string parent;
    if (slash == std::string::npos) {
        parent = ".";
    } else {
        parent = slash == 0 ? "/" : path.substr(0, slash);
    }
    const int fd = ::openat(parent_fd, parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)::fsync(fd);
        ::close(fd);
    }
}

}  // namespace

Expected<UniqueFd, StoreError> open_private_dir(int parent_fd, const std::string& path,
                                                bool create) {
    constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    bool created = false;
    int fd = ::openat(parent_fd, path.c_str(), kFlags);
    if (fd < 0 && errno == ENOENT && create) {
        if (::mkdirat(parent_fd, path.c_str(), 0700) == 0) {
            created = true;
        } else if (errno != EEXIST) {
            return unexpected(sys_error(StoreErrc::MkdirFailed, path, errno));
        }
        fd = ::openat(parent_fd, path.c_str(), kFlags);
    }
    if (fd < 0) {
        const int err = errno;
        struct stat lst {};
        if (::fstatat(parent_fd, path.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISLNK(lst.st_mode)) return unexpected(sys_error(StoreErrc::IsSymlink, path, 0));
            if (!S_ISDIR(lst.st_mode)) {
                return unexpected(sys_error(StoreErrc::NotADirectory, path, 0));
            }
        }
        return unexpected(
            sys_error(err == ENOENT ? StoreErrc::NotFound : StoreErrc::OpenFailed, path, err));
    }
    UniqueFd dir(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return unexpected(sys_error(StoreErrc::OpenFailed, path, errno));
    if (st.st_uid != ::geteuid()) {
        return unexpected(StoreError{StoreErrc::InsecurePermissions, 0, path,
                                     "owner uid " + std::to_string(st.st_uid)});
    }
    if (!created && (st.st_mode & 022) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return unexpected(
            StoreError{StoreErrc::InsecurePermissions, 0, path, std::string("mode ") + mode});
    }
    if ((st.st_mode & 07777) != 0700) {
        if (::fchmod(fd, 0700) != 0) {
            return unexpected(sys_error(StoreErrc::ChmodFailed, path, errno));
        }
    }
    if (created) sync_parent(parent_fd, path);
    return dir;
}

}  // namespace br::store
