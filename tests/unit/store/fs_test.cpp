// SPDX-License-Identifier: MIT
#include "core/store/fs.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "store_test_util.hpp"

namespace br::store {
namespace {

using testing::FailingOps;
using testing::mode_of;
using testing::Step;
using testing::TempDir;

std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::vector<std::string> list(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

class UmaskGuard {
  public:
    explicit UmaskGuard(mode_t m) : old_(::umask(m)) {}
    ~UmaskGuard() { ::umask(old_); }
    UmaskGuard(const UmaskGuard&) = delete;
    UmaskGuard& operator=(const UmaskGuard&) = delete;

  private:
    mode_t old_;
};

TEST(AtomicWrite, CreatesAndReplacesWith0600WhateverTheUmask) {
    TempDir dir;
    UmaskGuard um(0277);  // would make a plain 0600 create read-only
    ASSERT_TRUE(atomic_write(dir.path(), "rec", as_bytes("old content")));
    EXPECT_EQ(slurp(dir / "rec"), "old content");
    EXPECT_EQ(mode_of(dir / "rec"), 0600u);
    ASSERT_TRUE(atomic_write(dir.path(), "rec", as_bytes("new")));
    EXPECT_EQ(slurp(dir / "rec"), "new");
    EXPECT_EQ(mode_of(dir / "rec"), 0600u);
    EXPECT_EQ(list(dir.path()), std::vector<std::string>{"rec"});
}

TEST(AtomicWrite, EveryFailingStepLeavesOldContentAndNoTempFile) {
    struct Case {
        Step step;
        int err;
        StoreErrc code;
    };
    const Case cases[] = {
        {Step::Open, EACCES, StoreErrc::OpenFailed},
        {Step::Chmod, EPERM, StoreErrc::ChmodFailed},
        {Step::Write, ENOSPC, StoreErrc::WriteFailed},
        {Step::PartialWrite, ENOSPC, StoreErrc::WriteFailed},
        {Step::Write, EDQUOT, StoreErrc::WriteFailed},
        {Step::FileSync, EIO, StoreErrc::SyncFailed},
        {Step::Rename, EXDEV, StoreErrc::RenameFailed},
        {Step::DirSync, EIO, StoreErrc::DirSyncFailed},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(static_cast<int>(c.step));
        TempDir dir;
        ASSERT_TRUE(atomic_write(dir.path(), "rec", as_bytes("old content")));
        FailingOps ops(c.step, c.err);
        auto r = atomic_write(dir.path(), "rec", as_bytes("the new content, longer than the old"),
                              WriteMode::Replace, ops);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, c.code);
        EXPECT_EQ(r.error().sys_errno, c.err);
        EXPECT_NE(r.error().message().find(dir.path()), std::string::npos) << r.error().message();
        EXPECT_NE(r.error().message().find(std::strerror(c.err)), std::string::npos);
        if (c.step == Step::DirSync) {
            // After the rename: the new content is in place (maybe not durable).
            EXPECT_EQ(slurp(dir / "rec"), "the new content, longer than the old");
        } else {
            EXPECT_EQ(slurp(dir / "rec"), "old content");
        }
        EXPECT_EQ(list(dir.path()), std::vector<std::string>{"rec"});
    }
}

TEST(AtomicWrite, FileSizeLimitFailsCleanly) {
    TempDir dir;
    ASSERT_TRUE(atomic_write(dir.path(), "rec", as_bytes("old")));
    struct sigaction ign {
    }, old_sa{};
    ign.sa_handler = SIG_IGN;
    ASSERT_EQ(::sigaction(SIGXFSZ, &ign, &old_sa), 0);
    rlimit old_lim{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_lim), 0);
    rlimit lim = old_lim;
    lim.rlim_cur = 64;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);
    const Bytes big(200, 0x5a);
    auto r = atomic_write(dir.path(), "rec", big);
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_lim), 0);
    ASSERT_EQ(::sigaction(SIGXFSZ, &old_sa, nullptr), 0);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, StoreErrc::WriteFailed);
    EXPECT_EQ(r.error().sys_errno, EFBIG);
    EXPECT_EQ(slurp(dir / "rec"), "old");
    EXPECT_EQ(list(dir.path()), std::vector<std::string>{"rec"});
}

TEST(AtomicWrite, CreateNewNeverReplaces) {
    TempDir dir;
    ASSERT_TRUE(atomic_write(dir.path(), "id", as_bytes("first"), WriteMode::CreateNew));
    auto r = atomic_write(dir.path(), "id", as_bytes("second"), WriteMode::CreateNew);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, StoreErrc::AlreadyExists);
    EXPECT_EQ(slurp(dir / "id"), "first");
    EXPECT_EQ(list(dir.path()), std::vector<std::string>{"id"});
    FailingOps ops(Step::Link, EIO);
    r = atomic_write(dir.path(), "other", as_bytes("x"), WriteMode::CreateNew, ops);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, StoreErrc::RenameFailed);
    EXPECT_EQ(list(dir.path()), std::vector<std::string>{"id"});
}

TEST(AtomicWrite, RejectsUnsafeNames) {
    TempDir dir;
    for (const char* name : {"", "a/b", ".hidden", "..", "/abs"}) {
        auto r = atomic_write(dir.path(), name, as_bytes("x"));
        ASSERT_FALSE(r) << name;
        EXPECT_EQ(r.error().code, StoreErrc::BadName) << name;
    }
    auto r = atomic_write(dir / "missing", "x", as_bytes("x"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, StoreErrc::OpenFailed);
    EXPECT_EQ(r.error().sys_errno, ENOENT);
}

TEST(TempNames, Recognised) {
    EXPECT_TRUE(is_temp_name(".rec.tmp.0011223344556677"));
    EXPECT_FALSE(is_temp_name("rec"));
    EXPECT_FALSE(is_temp_name(".rec"));
}

TEST(ReadFile, BoundsTypesAndPermissions) {
    TempDir dir;
    const int dfd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(dfd, 0);
    UniqueFd d(dfd);
    ASSERT_TRUE(atomic_write(dir.path(), "small", as_bytes("abc")));
    auto ok = read_file_at(dfd, dir.path(), "small", 16);
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, Bytes({'a', 'b', 'c'}));
    EXPECT_EQ(read_file_at(dfd, dir.path(), "small", 2).error().code, StoreErrc::FileTooLarge);
    EXPECT_EQ(read_file_at(dfd, dir.path(), "missing", 16).error().code, StoreErrc::NotFound);
    ASSERT_EQ(::symlink("small", (dir / "link").c_str()), 0);
    EXPECT_EQ(read_file_at(dfd, dir.path(), "link", 16).error().code, StoreErrc::IsSymlink);
    ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
    EXPECT_EQ(read_file_at(dfd, dir.path(), "fifo", 16).error().code, StoreErrc::NotARegularFile);
    ASSERT_EQ(::chmod((dir / "small").c_str(), 0644), 0);
    ASSERT_TRUE(read_file_at(dfd, dir.path(), "small", 16));
    EXPECT_EQ(mode_of(dir / "small"), 0600u);
}

TEST(PrivateDir, CreatedAs0700WhateverTheUmask) {
    TempDir base;
    for (mode_t um : {mode_t{0}, mode_t{022}, mode_t{0777}}) {
        UmaskGuard g(um);
        const std::string p = base / ("d" + std::to_string(um));
        auto fd = open_private_dir(AT_FDCWD, p);
        ASSERT_TRUE(fd) << fd.error().message();
        EXPECT_EQ(mode_of(p), 0700u);
    }
}

TEST(PrivateDir, RefusesSymlinksFilesAndWritableDirs) {
    TempDir base;
    ASSERT_TRUE(open_private_dir(AT_FDCWD, base / "real"));
    ASSERT_EQ(::symlink((base / "real").c_str(), (base / "link").c_str()), 0);
    auto r = open_private_dir(AT_FDCWD, base / "link");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, StoreErrc::IsSymlink);
    EXPECT_NE(r.error().message().find(base / "link"), std::string::npos);

    ASSERT_TRUE(atomic_write(base.path(), "file", as_bytes("x")));
    EXPECT_EQ(open_private_dir(AT_FDCWD, base / "file").error().code, StoreErrc::NotADirectory);

    for (mode_t m : {mode_t{0770}, mode_t{0702}, mode_t{01777}}) {
        ASSERT_EQ(::chmod((base / "real").c_str(), m), 0);
        r = open_private_dir(AT_FDCWD, base / "real");
        ASSERT_FALSE(r) << std::oct << m;
        EXPECT_EQ(r.error().code, StoreErrc::InsecurePermissions);
    }
    ASSERT_EQ(::chmod((base / "real").c_str(), 0755), 0);  // readable only: tightened
    ASSERT_TRUE(open_private_dir(AT_FDCWD, base / "real"));
    EXPECT_EQ(mode_of(base / "real"), 0700u);

    EXPECT_EQ(open_private_dir(AT_FDCWD, base / "nope", false).error().code, StoreErrc::NotFound);
}

TEST(PrivateDir, RefusesAnotherUsersDir) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
    TempDir base;
    ASSERT_TRUE(open_private_dir(AT_FDCWD, base / "d"));
    ASSERT_EQ(::chown((base / "d").c_str(), 12345, 12345), 0);
    auto r = open_private_dir(AT_FDCWD, base / "d");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, StoreErrc::InsecurePermissions);
}

}  // namespace
}  // namespace br::store
