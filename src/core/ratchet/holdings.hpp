// The ratchet seeds one side holds for one peer, and the commit rules that
// keep the two sides from ever being stranded on different epochs.
//
// A side holds one or two (epoch, seed) pairs.  The invariant the protocol
// maintains, across dropped messages and crashes at any point, is that the
// two sides' holdings always share one (epoch, seed) pair, so the next resume
// can always agree on a pre-shared key.  docs/PROTOCOL.md section 6 walks
// through every crash point; tests/unit/handshake/ checks it with random
// schedules of drops and restarts, and tests/model/ratchet.pml model-checks it.
//
// The transitions, named as in the model:
//   initiator:  OFFER     send the epochs held (holdings unchanged)
//               ADVANCE   on a valid RESUME_2 that chose epoch e:
//                         holdings := {e, e+1}  (durable before CONFIRM is sent)
//   responder:  CHOOSE    on RESUME_1: the highest offered epoch held (unchanged)
//               COMMIT    on a valid CONFIRM (the initiator's certificate):
//                         holdings := {e+1}     (seed e wiped)
// The responder never changes state on anything an attacker can replay:
// RESUME_1 can be replayed, CONFIRM cannot (it is encrypted under keys that
// only the live handshake has).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/crypto/kdf.hpp"
#include "core/crypto/secret.hpp"

namespace br::ratchet {

inline constexpr std::size_t kSeedLen = 32;
inline constexpr std::size_t kMaxHeld = 2;

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
    // Rebuilt from durable storage: 1 or 2 seeds with distinct epochs.
    // Returns nullopt when the set is empty, too large or has duplicate epochs.
    static std::optional<Holdings> from(std::vector<EpochSeed> seeds);

    // Epochs held, ascending.
    std::vector<std::uint32_t> epochs() const;
    const EpochSeed* find(std::uint32_t epoch) const;
    const EpochSeed& newest() const { return seeds_.back(); }
    const EpochSeed& oldest() const { return seeds_.front(); }
    std::size_t size() const { return seeds_.size(); }
    bool empty() const { return seeds_.empty(); }

    // CHOOSE: the highest epoch in `offered` that is also held.
    std::optional<std::uint32_t> choose(std::span<const std::uint32_t> offered) const;

    // ADVANCE (initiator): the responder chose `chosen` (which we must hold) and
    // the handshake produced seed `next` for epoch chosen+1.  Holdings become
    // {chosen, chosen+1}; every other seed is wiped.  Returns false (and
    // changes nothing) if `chosen` is not held.
    bool advance(std::uint32_t chosen, SecretBytes next);

    // COMMIT (responder): the initiator confirmed epoch `epoch` whose seed is
    // `seed`.  Holdings become {epoch}; everything older is wiped.
    void commit(std::uint32_t epoch, SecretBytes seed);

    Holdings clone() const;
    void wipe();

  private:
    std::vector<EpochSeed> seeds_;  // ascending epochs, 1..kMaxHeld entries
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
