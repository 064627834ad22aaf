// SPDX-License-Identifier: MIT
// PeerStore: every stored peer of one adapter.
//
// Memory design: a daemon may know 10,000 peers, so the store keeps only an
// index of public metadata (PeerInfo, ~200 bytes each) in ordinary memory and
// reads a peer's seeds from its file into guarded memory on demand
// (load_secrets / load).  Buffers that held a record are wiped after parsing.
// Every write goes through atomic_write, so a crash leaves each record either
// old or new, never torn.  Not thread-safe; one daemon owns an adapter dir.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/store/error.hpp"
#include "core/store/fs.hpp"
#include "core/store/records.hpp"
#include "core/store/state.hpp"
#include "core/util/expected.hpp"

namespace br::store {

// A record that could not be loaded at open(); the rest of the store loads.
struct LoadProblem {
    std::string file;
    StoreError error;  // error.message() names the file
};

class PeerStore {
  public:
    // Opens (creating) <adapter>/peers and reads every record's public part.
    // Corrupt, truncated or misnamed records become LoadProblems; stale
    // temporary files left by a crash are removed.  Fails as a whole only if
    // the peers directory itself cannot be opened or listed.
    static Expected<PeerStore, StoreError> open(const AdapterDir& dir);

    const std::vector<LoadProblem>& problems() const { return problems_; }
    std::size_t size() const { return index_.size(); }
    const std::map<PeerId, PeerInfo>& peers() const { return index_; }
    const PeerInfo* find(const PeerId& id) const;

    // Reads the peer's seeds from disk into guarded memory, in record order.
    // NotFound for an unknown peer; a record that changed identity on disk
    // is BadValue.
    Expected<std::vector<StoredSeed>, StoreError> load_secrets(const PeerId& id) const;
    // The whole record (metadata as on disk, plus seeds).
    Expected<PeerRecord, StoreError> load(const PeerId& id) const;

    // Writes the record atomically and updates the index.  On error the index
    // and the file keep their previous state (except DirSyncFailed, after
    // which the new record is in place and indexed but maybe not durable).
    Expected<void, StoreError> save(const PeerRecord& rec);
    // Deletes the peer's file (then fsyncs the directory) and index entry.
    Expected<void, StoreError> remove(const PeerId& id);

    const std::string& path() const { return path_; }
    std::string file_of(const PeerId& id) const;

    // Failure injection for tests (defaults to the real system calls).
    void set_file_ops(FileOps& ops) { ops_ = &ops; }

  private:
    PeerStore(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
    Expected<PeerRecord, StoreError> read_record(const PeerId& id) const;

    UniqueFd fd_;
    std::string path_;
    std::map<PeerId, PeerInfo> index_;
    std::vector<LoadProblem> problems_;
    FileOps* ops_ = &real_file_ops();
};

}  // namespace br::store
