// SPDX-License-Identifier: MIT
// File-system primitives of the store: owned descriptors, crash-safe atomic
// replacement of a file, bounded reads, and safe directory creation.
//
// Everything works relative to an open directory descriptor (openat and
// friends, O_NOFOLLOW), so a path component swapped for a symlink after the
// checks cannot redirect a write.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/store/error.hpp"
#include "core/util/bytes.hpp"
#include "core/util/expected.hpp"

namespace br::store {

// A file descriptor closed on destruction.  Move-only.
class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd();
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release() {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }

  private:
    int fd_ = -1;
};

// The system calls atomic_write makes, behind an interface so that tests can
// fail each step (write, fsync, rename, directory fsync...) with any errno.
// Each method returns what the system call returns and sets errno likewise.
class FileOps {
  public:
    virtual ~FileOps() = default;
    virtual int open_at(int dir_fd, const char* name, int flags, mode_t mode);
    virtual ssize_t write(int fd, const void* buf, std::size_t n);
    virtual int fchmod(int fd, mode_t mode);
    virtual int fsync(int fd);
    virtual int rename_at(int dir_fd, const char* from, const char* to);
    virtual int link_at(int dir_fd, const char* from, const char* to);
    virtual int unlink_at(int dir_fd, const char* name);
};
FileOps& real_file_ops();

enum class WriteMode : std::uint8_t {
    Replace,    // rename over the target (created if missing)
    CreateNew,  // link into place; fails with AlreadyExists if the target exists
};

// Writes `data` to `name` in the directory `dir_fd` so that, whatever happens
// (crash, kill -9, ENOSPC), `name` afterwards holds either its old content or
// the new one in full:
//   1. open ".<name>.tmp.<random>" with O_CREAT|O_EXCL|O_WRONLY|O_CLOEXEC|O_NOFOLLOW, 0600
//   2. fchmod 0600 (whatever the umask), write everything, fsync the file
//   3. rename it over `name` (CreateNew: link it to `name`, then unlink it)
//   4. fsync the directory
// On a failure in steps 1-3 the temporary file is removed and `name` is
// untouched.  A failure in step 4 (DirSyncFailed) comes after the rename: the
// new content is in place but may not survive a power loss; the caller should
// treat the write as not durable.  `dir_path` only names files in errors.
// The caller wipes `data` if it holds secrets; this function keeps no copy.
Expected<void, StoreError> atomic_write(int dir_fd, const std::string& dir_path,
                                        std::string_view name, ByteView data,
                                        WriteMode mode = WriteMode::Replace,
                                        FileOps& ops = real_file_ops());
// The same, opening the directory by path first.
Expected<void, StoreError> atomic_write(const std::string& dir_path, std::string_view name,
                                        ByteView data, WriteMode mode = WriteMode::Replace,
                                        FileOps& ops = real_file_ops());

// True for the temporary names atomic_write uses (".<name>.tmp.<hex>"), which
// a crash can leave behind; loaders skip them and may delete them.
bool is_temp_name(std::string_view name);

// Reads a whole regular file of at most max_size bytes (O_NOFOLLOW).  The
// buffer is allocated once at the file's size, so no partial copies of its
// contents are left in freed memory; the caller wipes it if it held secrets.
// A file with group/other permission bits is tightened to 0600.
Expected<Bytes, StoreError> read_file_at(int dir_fd, const std::string& dir_path,
                                         std::string_view name, std::size_t max_size);

// Removes `name` from the directory and fsyncs the directory.
Expected<void, StoreError> remove_file_at(int dir_fd, const std::string& dir_path,
                                          std::string_view name);

// Opens (creating it with mode 0700 if missing) a directory, refusing a
// symlink (IsSymlink), a non-directory (NotADirectory), and a directory that
// is group- or world-writable or not owned by the effective user
// (InsecurePermissions).  A directory we own with read/execute bits for
// group or others is tightened to 0700.  parent_fd may be AT_FDCWD.
Expected<UniqueFd, StoreError> open_private_dir(int parent_fd, const std::string& path,
                                                bool create = true);

}  // namespace br::store
