// SPDX-License-Identifier: MIT
// The ratchet seeds one side holds for one peer, and the commit rules that
// keep the two sides from ever being stranded on different seeds while a
// thief with a copy of one side's state is locked out by the next clean
// resume (docs/PROTOCOL.md section 6).
//
// A side holds up to three (epoch, seed) pairs, in a fixed order: ascending
// epoch, equal epochs in the order they were made.  Every epoch held is m or
// m + 1 for some m.  The responder holds exactly one; the initiator holds
// one after a clean resume and more while it has not yet seen the
// responder confirm.  The invariant the protocol keeps, across dropped
// messages and crashes at any point, is that the two sides always share one
// (epoch, seed) pair, so the next resume can always agree on a pre-shared
// key.  tests/model/ratchet.pml model-checks it; tests/unit/handshake/ walks
// the same schedules through the real engines.
//
// The transitions, named as in the model (S: the seed the resume used):
//   initiator:  OFFER    send the distinct epochs held (holdings unchanged)
//               ADVANCE  on a valid RESUME_2 + CERT_B made with S:
//                        holdings := [S, the newest seed newer than S (if
//                        any), S' = next(S)]   (durable before CERT_A)
//               PRUNE    on the responder's CONFIRM of S':
//                        holdings := the seeds newer than S  (durable)
//   responder:  CHOOSE   on RESUME_1: its seed, if its epoch was offered
//                        (no state change: RESUME_1 can be replayed)
//               COMMIT   on a valid CERT_A: holdings := [S']
//                        (durable before CONFIRM)
// ADVANCE keeps one seed newer than S because the responder may have
// committed it (its CONFIRM lost) while whoever answers now holds only S: a
// copy of the responder's older state must not be able to overwrite it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/crypto/kdf.hpp"
#include "core/crypto/secret.hpp"

namespace br::ratchet {

inline constexpr std::size_t kSeedLen = 32;
inline constexpr std::size_t kMaxHeld = 3;

struct EpochSeed {
    std::uint32_t epoch = 0;
    SecretBytes seed{kSeedLen};

    EpochSeed clone() const { return EpochSeed{epoch, seed.clone()}; }
};

class Holdings {
  public:
    Holdings() = default;
    // After a first pairing: epoch 1 only.
    static Holdings paired(SecretBytes seed1);
    // Rebuilt from durable storage, in stored order.  Returns nullopt when
    // the list is not a valid shape: empty, more than kMaxHeld, a seed of the
    // wrong size, epoch 0, not ascending, epochs more than one apart, or
    // three equal epochs.
    static std::optional<Holdings> from(std::vector<EpochSeed> seeds);

    // The distinct epochs held, ascending (what OFFER sends: 1 or 2 values).
    std::vector<std::uint32_t> epochs() const;
    // Every seed, in order.
    std::span<const EpochSeed> seeds() const { return seeds_; }
    // The first seed held for `epoch`, or nullptr.
    const EpochSeed* find(std::uint32_t epoch) const;
    const EpochSeed& newest() const { return seeds_.back(); }
    const EpochSeed& oldest() const { return seeds_.front(); }
    std::size_t size() const { return seeds_.size(); }
    bool empty() const { return seeds_.empty(); }

    // CHOOSE (responder): the highest epoch in `offered` that is also held.
    std::optional<std::uint32_t> choose(std::span<const std::uint32_t> offered) const;

    // ADVANCE (initiator): the resume used seeds()[chosen] and produced
    // `next` for its epoch + 1.  Holdings become [chosen, the newest seed
    // newer than it if any, next]; everything else is wiped.  Returns false
    // (and changes nothing) for an index out of range.
    bool advance(std::size_t chosen, SecretBytes next);

    // PRUNE (initiator): the responder confirmed it committed the seed made
    // from a seed of epoch `chosen_epoch`; every seed of that epoch or older
    // is wiped.  Returns false (and changes nothing) if nothing newer is held.
    bool prune(std::uint32_t chosen_epoch);

    // COMMIT (responder): holdings become [(epoch, seed)]; the rest is wiped.
    void commit(std::uint32_t epoch, SecretBytes seed);

    Holdings clone() const;
    void wipe();

  private:
    std::vector<EpochSeed> seeds_;
};

// seed(n+1) = KDF(seed(n), "ratchet", h || id_A || id_B)
SecretBytes next_seed(ByteView seed, const Hash& handshake_hash, ByteView ids);
// seed(1) = KDF(secret, "pair seed", h || id_A || id_B), where secret is the
// third HKDF output of the pairing's final chaining key (Noise split): h
// alone would not do, in XX it hashes public values only, so anyone who
// recorded the pairing could compute it.
SecretBytes first_seed(const SecretBytes& handshake_secret, const Hash& handshake_hash,
                       ByteView ids);

}  // namespace br::ratchet
