// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/cert/certificate.hpp"
#include "core/crypto/kdf.hpp"
#include "free_responder.hpp"
#include "pair_test_util.hpp"

namespace br::test {
namespace {

using handshake::Error;

TEST(Handshake, PairsThenResumesWithFreshCertificatesEachEpoch) {
    Device a, b;
    auto first = connect(a, b);
    ASSERT_TRUE(first.a && first.b) << (first.a_fail ? first.a_fail->describe() : "")
                                    << (first.b_fail ? first.b_fail->describe() : "");
    EXPECT_EQ(first.a->kind, handshake::Kind::Pair);
    EXPECT_EQ(first.a->epoch, 1u);
    EXPECT_EQ(first.a->fingerprint, first.b->fingerprint);
    EXPECT_EQ(first.a->short_code, first.b->short_code);
    EXPECT_EQ(first.a->short_code.size(), 6u);
    EXPECT_EQ(first.a->peer.session_pk, *first.b->own.session_public_key());

    std::set<Ed25519Public> keys{*first.a->own.session_public_key(),
                                 *first.b->own.session_public_key()};
    for (std::uint32_t epoch = 2; epoch <= 6; ++epoch) {
        auto r = connect(a, b);
        ASSERT_TRUE(r.a && r.b) << "epoch " << epoch << ": "
                                << (r.a_fail ? r.a_fail->describe() : "")
                                << (r.b_fail ? r.b_fail->describe() : "");
        EXPECT_EQ(r.a->kind, handshake::Kind::Resume);
        EXPECT_EQ(r.a->epoch, epoch);
        EXPECT_EQ(r.b->epoch, epoch);
        EXPECT_EQ(r.a->fingerprint, r.b->fingerprint);
        EXPECT_EQ(r.messages, 5);  // RESUME_1, RESUME_2, CERT_B, CERT_A, CONFIRM
        EXPECT_EQ(r.a->version, handshake::Version::V1_1);
        EXPECT_TRUE(keys.insert(*r.a->own.session_public_key()).second);
        EXPECT_TRUE(keys.insert(*r.b->own.session_public_key()).second);
    }
    // B committed epoch 6 and confirmed it: both hold exactly {6}, the same seed.
    ASSERT_EQ(b.book.disk[a.id()].size(), 1u);
    EXPECT_EQ(b.book.disk[a.id()][0].epoch, 6u);
    ASSERT_EQ(a.book.disk[b.id()].size(), 1u);
    EXPECT_EQ(a.book.disk[b.id()][0], b.book.disk[a.id()][0]);
    EXPECT_EQ(a.book.versions[b.id()], handshake::Version::V1_1);
    EXPECT_EQ(b.book.versions[a.id()], handshake::Version::V1_1);
}

// seed_1 must not be computable from what a passive listener of the pairing
// has: in XX the handshake hash h hashes public values only (ephemeral keys,
// ciphertexts), and the identities are public keys.  It was once
// KDF(h, "pair seed", ids) (docs/SECURITY.md, 5.1); it now comes from the
// final chaining key, which every DH of the handshake went into.
TEST(Handshake, TheFirstSeedIsNotAFunctionOfThePublicTranscript) {
    Device a, b;
    auto p = connect(a, b);
    ASSERT_TRUE(p.a && p.b);
    ASSERT_EQ(a.book.disk[b.id()].size(), 1u);
    const Bytes& seed_a = a.book.disk[b.id()][0].seed;
    const Bytes& seed_b = b.book.disk[a.id()][0].seed;
    EXPECT_EQ(seed_a, seed_b);
    const Hash& h = p.a->handshake_hash;
    EXPECT_EQ(h, p.b->handshake_hash);
    const Bytes ids = cert::ids_for(Role::Initiator, a.id(), b.id());
    Bytes h_ids(h.begin(), h.end());
    h_ids.insert(h_ids.end(), ids.begin(), ids.end());
    // What an eavesdropper can compute from h and the identities.
    for (const auto& [key, ctx] :
         {std::pair<ByteView, ByteView>{h, ids}, std::pair<ByteView, ByteView>{h, h_ids},
          std::pair<ByteView, ByteView>{ids, h}}) {
        for (const char* label : {"pair seed", "ratchet"}) {
            auto guess = derive_secret(key, label, ctx, seed_a.size());
            EXPECT_FALSE(std::equal(seed_a.begin(), seed_a.end(), guess.view().begin())) << label;
        }
    }
    // And pairing the same two identities again (both forgot) gets another seed.
    const Bytes first = seed_a;
    a.book.disk.clear();
    b.book.disk.clear();
    auto q = connect(a, b);
    ASSERT_TRUE(q.a && q.b);
    EXPECT_NE(a.book.disk[b.id()][0].seed, first);
}

// The two devices read different clocks.  Within the skew allowance
// (Settings::clock_skew_seconds, 300 s) either may be ahead; beyond it the
// certificates of the side that is ahead are not yet valid for the other.
TEST(Handshake, ClocksWithinTheSkewAllowanceAgree) {
    for (std::int64_t skew : {-299, -1, 1, 299}) {
        Device a, b;
        const auto now_b = static_cast<std::uint32_t>(kNow + skew);
        auto p = connect(a, b, true, nullptr, kNow, now_b);
        ASSERT_TRUE(p.a && p.b) << "skew " << skew;
        auto r = connect(a, b, true, nullptr, kNow, now_b);
        ASSERT_TRUE(r.a && r.b) << "skew " << skew << ": " << (r.a_fail ? r.a_fail->describe() : "")
                                << (r.b_fail ? r.b_fail->describe() : "");
    }
}

TEST(Handshake, ClocksBeyondTheSkewAllowanceAreRefused) {
    Device a, b;
    // B's clock is 400 s ahead: its certificate starts 100 s in A's future.
    auto r = connect(a, b, true, nullptr, kNow, kNow + 400);
    EXPECT_FALSE(r.a);
    ASSERT_TRUE(r.a_fail);
    EXPECT_EQ(r.a_fail->error, Error::Certificate);
    EXPECT_EQ(*r.a_fail->cert_error, cert::CertError::NotYetValid);
}

TEST(Handshake, InvalidatedSessionRefusesUse) {
    Device a, b;
    auto r = connect(a, b);
    ASSERT_TRUE(r.a && r.b);
    r.a->invalidate(InvalidationReason::LinkLost);
    EXPECT_TRUE(r.a->invalidated());
    auto sig = r.a->own.sign(as_bytes("x"));
    ASSERT_FALSE(sig);
    EXPECT_EQ(sig.error(), cert::CertError::Invalidated);
    EXPECT_FALSE(r.a->own.private_key_pkcs8_der());
}

TEST(Handshake, RefusedApprovalStoresNothingAndTellsTheInitiator) {
    Device a, b;
    auto r = connect(a, b, /*approve=*/false);
    EXPECT_FALSE(r.a);
    EXPECT_FALSE(r.b);
    ASSERT_TRUE(r.b_fail);
    EXPECT_EQ(r.b_fail->error, Error::NotApproved);
    ASSERT_TRUE(r.a_fail);
    EXPECT_EQ(r.a_fail->error, Error::PeerAborted);
    EXPECT_TRUE(a.book.disk.empty());
    EXPECT_TRUE(b.book.disk.empty());
}

TEST(Handshake, ResumeFromUnknownIdentityIsRefused) {
    Device a, b, c;
    ASSERT_TRUE(connect(a, b).a);
    // c claims to resume with b using a's stored view of b (it never paired).
    c.book.disk[b.id()] = a.book.disk[b.id()];
    auto r = connect(c, b);
    ASSERT_TRUE(r.b_fail);
    EXPECT_EQ(r.b_fail->error, Error::UnknownPeer);
    ASSERT_TRUE(r.a_fail);
    EXPECT_EQ(r.a_fail->error, Error::PeerAborted);
    EXPECT_EQ(*r.a_fail->abort, handshake::AbortReason::UnknownPeer);
}

TEST(Handshake, ResumeWithAWrongSeedFailsInNoise) {
    Device a, b;
    ASSERT_TRUE(connect(a, b).a);
    for (auto& s : a.book.disk[b.id()]) s.seed[0] ^= 1;
    auto r = connect(a, b);
    ASSERT_TRUE(r.a_fail);
    EXPECT_EQ(r.a_fail->error, Error::Noise);
    EXPECT_EQ(*r.a_fail->noise_error, noise::Error::DecryptFailed);
}

// Audit item 6: an Ed25519 key and its negation (the sign bit of the last
// byte flipped) have the same X25519 form, so the same Noise static key.
// 1.0 took them for two identities and stored two records for one key.  A
// device that already holds one refuses the other (NegatedIdentity), and
// its own key is refused in either sign (SelfPairing).
TEST(Handshake, TheOtherSignOfAKnownIdentityIsRefused) {
    Device a, b;
    ASSERT_TRUE(connect(a, b).a);
    ASSERT_EQ(a.book.disk.size(), 1u);
    struct Case {
        const char* what;
        const Ed25519KeyPair& key;
        bool negate;
        std::optional<Error> expect;
    };
    for (const Case& c : {Case{"B's key as is (control)", b.identity, false, std::nullopt},
                          Case{"B's key, other sign", b.identity, true, Error::NegatedIdentity},
                          Case{"A's own key, other sign", a.identity, true, Error::SelfPairing},
                          Case{"A's own key as is", a.identity, false, Error::SelfPairing}}) {
        FreeResponder m(c.key);
        if (c.negate) m.presented_id = handshake::negated_identity(c.key.public_key());
        handshake::PairNonce committed{};
        handshake::Initiator ini(a.identity, std::nullopt, a.book, a.replay, {}, kNow);
        auto s = ini.receive(m.pair2(ini.start().send.at(0), committed));
        if (!c.expect) {
            EXPECT_FALSE(s.failure) << c.what;
            EXPECT_EQ(s.send.size(), 2u) << c.what;
        } else {
            ASSERT_TRUE(s.failure) << c.what;
            EXPECT_EQ(s.failure->error, *c.expect) << c.what;
        }
    }
    EXPECT_EQ(a.book.disk.size(), 1u);  // still one record for B's key
}

// Audit item 8: 1.0's RESUME_2 carried the chosen epoch in clear, counting
// up by one per resume, which linked a pair across BLE address changes.
// 1.1's RESUME_2 is the bare Noise message (e, encrypted empty payload): the
// same length at every epoch, no epoch anywhere, and A finds the seed by
// trying the ones it holds.
TEST(Handshake, Resume2CarriesNoEpochInClear) {
    Device a, b;
    ASSERT_TRUE(connect(a, b).a);
    for (std::uint32_t epoch = 1; epoch <= 4; ++epoch) {
        Bytes resume2;
        auto r = connect(a, b, true, [&](int i, bool, Bytes& m) {
            if (i == 1) resume2 = m;
            return true;
        });
        ASSERT_TRUE(r.a && r.b);
        ASSERT_EQ(resume2.size(), 2u + 32u + 16u) << "epoch " << epoch;
        EXPECT_EQ(resume2[1], static_cast<std::uint8_t>(handshake::MessageType::Resume2));
        Bytes chosen;
        append_u32be(chosen, epoch);
        EXPECT_FALSE(std::search(resume2.begin(), resume2.begin() + 6, chosen.begin(),
                                 chosen.end()) != resume2.begin() + 6)
            << "the chosen epoch " << epoch << " is in RESUME_2's header";
    }
}

// Every byte of every message of a pairing and of a resume, one bit flipped:
// the handshake must fail with a named error and no session on either side.
TEST(Handshake, FlippedBitInEveryByteOfEveryMessageIsRefused) {
    for (bool resume : {false, true}) {
        // Learn the transcript's shape once.
        std::vector<std::size_t> sizes;
        {
            Device a, b;
            if (resume) {
                ASSERT_TRUE(connect(a, b).a);
            }
            connect(a, b, true, [&](int, bool, Bytes& m) {
                sizes.push_back(m.size());
                return true;
            });
        }
        int cases = 0;
        std::map<std::string, int> named;
        for (std::size_t msg = 0; msg < sizes.size(); ++msg) {
            for (std::size_t byte = 0; byte < sizes[msg]; ++byte) {
                Device a, b;
                if (resume) {
                    ASSERT_TRUE(connect(a, b).a);
                }
                auto r = connect(a, b, true, [&](int i, bool, Bytes& m) {
                    if (static_cast<std::size_t>(i) == msg) m[byte] ^= 0x04;
                    return true;
                });
                ++cases;
                if (resume && msg == 4) {
                    // CONFIRM comes after both sessions: a corrupt one ends
                    // A's link (so both sessions) and A does not PRUNE; the
                    // pair resumes at the next connection.
                    ASSERT_TRUE(r.a_fail) << "message " << msg << " byte " << byte;
                    ++named[handshake::to_string(r.a_fail->error)];
                    EXPECT_GE(a.book.disk[b.id()].size(), 2u);
                    auto next = connect(a, b);
                    EXPECT_TRUE(next.a && next.b) << "message " << msg << " byte " << byte;
                    continue;
                }
                EXPECT_FALSE(r.a && r.b) << "message " << msg << " byte " << byte;
                EXPECT_TRUE(r.a_fail || r.b_fail) << "message " << msg << " byte " << byte;
                // The side that found the corruption names it; the other
                // only hears an ABORT (or, already done, a late message).
                const bool a_found = r.a_fail && r.a_fail->error != Error::PeerAborted &&
                                     r.a_fail->error != Error::Finished;
                const auto& found = a_found ? r.a_fail : r.b_fail;
                ASSERT_TRUE(found) << "message " << msg << " byte " << byte;
                ++named[handshake::to_string(found->error)];
            }
        }
        std::cout << (resume ? "resume" : "pairing") << ": " << cases
                  << " single-bit corruptions, every one refused (";
        const char* sep = "";
        for (const auto& [what, n] : named) {
            std::cout << sep << what << " " << n;
            sep = ", ";
        }
        std::cout << ")\n";
        EXPECT_EQ(named.count(handshake::to_string(Error::Finished)), 0u);
        EXPECT_EQ(named.count(handshake::to_string(Error::PeerAborted)), 0u);
    }
}

// A responder that sends a genuine certificate with a fingerprint that is
// not the one for this handshake and this recipient.  The control run with
// the prescribed fingerprint pairs, so the refusal is the fingerprint's.
TEST(Handshake, CertificateWithAnotherFingerprintIsRefused) {
    for (bool honest : {true, false}) {
        Device a;
        FreeResponder m;
        handshake::PairNonce committed{};
        random_bytes(committed);
        handshake::Initiator ini(a.identity, std::nullopt, a.book, a.replay, {}, kNow);
        auto f3 = ini.receive(m.pair2(ini.start().send.at(0), committed));
        ASSERT_EQ(f3.send.size(), 2u);
        m.pair3(f3.send[0]);
        ASSERT_TRUE(ini.receive(m.reveal(committed)).needs_approval);
        ASSERT_EQ(ini.approve(true).send.size(), 1u);  // ACCEPT
        std::optional<Hash> fp;
        if (!honest) {
            // The fingerprint of this certificate for another recipient.
            auto probe = cert::SessionCert::mint(m.identity, m.initiator, Role::Responder, *m.seed,
                                                 1, m.h, kNow - 60, 3600);
            ASSERT_TRUE(probe);
            fp = handshake::certificate_fingerprint(m.h, m.identity.public_key(),
                                                    *probe->session_public_key());
        }
        auto s = ini.receive(m.certificate(kNow, fp));
        if (honest) {
            ASSERT_TRUE(s.done) << (s.failure ? s.failure->describe() : "");
            EXPECT_TRUE(ini.take_session());
            EXPECT_EQ(a.book.disk.size(), 1u);
            EXPECT_EQ(a.replay.size(), 1u);
        } else {
            ASSERT_TRUE(s.failure);
            EXPECT_EQ(s.failure->error, Error::FingerprintMismatch);
            EXPECT_FALSE(ini.take_session());
            EXPECT_TRUE(a.book.disk.empty());
            EXPECT_EQ(a.replay.size(), 0u);  // refused before the replay cache saw it
        }
    }
}

TEST(Handshake, TruncatedAndOversizedMessagesAreRefused) {
    Device a, b;
    auto r = connect(a, b, true, [](int i, bool, Bytes& m) {
        if (i == 1) m.resize(m.size() / 2);
        return true;
    });
    ASSERT_TRUE(r.a_fail);
    EXPECT_EQ(r.a_fail->error, Error::Noise);

    Device c, d;
    auto r2 = connect(c, d, true, [](int i, bool, Bytes& m) {
        if (i == 0) m.resize(handshake::kMaxMessage + 10, 0);
        return true;
    });
    ASSERT_TRUE(r2.b_fail);
    EXPECT_EQ(r2.b_fail->error, Error::Decode);
    EXPECT_EQ(*r2.b_fail->decode_error, handshake::DecodeError::TooLong);
}

TEST(Handshake, ReplayedCertificateFromAnEarlierHandshakeIsRefused) {
    Device a, b;
    ASSERT_TRUE(connect(a, b).a);
    Bytes old_cert_a;
    connect(a, b, true, [&](int i, bool from_a, Bytes& m) {
        if (i == 3 && from_a) old_cert_a = m;
        return true;
    });
    ASSERT_FALSE(old_cert_a.empty());
    // Next connection: replace A's confirmation with the old one.
    auto r = connect(a, b, true, [&](int i, bool, Bytes& m) {
        if (i == 3) m = old_cert_a;
        return true;
    });
    EXPECT_FALSE(r.b);
    ASSERT_TRUE(r.b_fail);
    // Encrypted under the old session's keys: it does not even decrypt.
    EXPECT_EQ(r.b_fail->error, Error::Noise);
}

TEST(Handshake, ReplayedResume1DoesNotStrandThePair) {
    Device a, b;
    ASSERT_TRUE(connect(a, b).a);
    Bytes old_resume1;
    ASSERT_TRUE(connect(a, b, true, [&](int i, bool, Bytes& m) {
                    if (i == 0) old_resume1 = m;
                    return true;
                }).a);
    // An attacker replays the old RESUME_1 to B; B answers, nobody confirms.
    {
        handshake::Responder res(b.identity, b.book, b.replay, {}, kNow);
        auto s = res.receive(old_resume1);
        EXPECT_FALSE(s.done);
    }
    auto r = connect(a, b);
    ASSERT_TRUE(r.a && r.b) << (r.a_fail ? r.a_fail->describe() : "")
                            << (r.b_fail ? r.b_fail->describe() : "");
}

TEST(Handshake, PersistFailureSendsNoConfirmation) {
    Device a, b;
    ASSERT_TRUE(connect(a, b).a);
    a.book.fail_writes = true;
    auto r = connect(a, b);
    ASSERT_TRUE(r.a_fail);
    EXPECT_EQ(r.a_fail->error, Error::PersistFailed);
    // The book's own words travel with the failure, up to the daemon's log.
    EXPECT_EQ(r.a_fail->detail, "test: the write fails");
    EXPECT_NE(r.a_fail->describe().find("test: the write fails"), std::string::npos);
    EXPECT_FALSE(r.b);
    a.book.fail_writes = false;
    auto again = connect(a, b);
    EXPECT_TRUE(again.a && again.b);
}

}  // namespace
}  // namespace br::test
