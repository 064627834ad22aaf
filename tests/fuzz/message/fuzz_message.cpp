// SPDX-License-Identifier: MIT
// The handshake's wire codec (core/handshake/messages.hpp) on arbitrary bytes.
//
// Invariants, each an abort() the fuzzer reports:
//   decode(): whatever it accepts re-encodes to exactly the input (the codec
//     is canonical, so nothing is silently dropped or normalised), is at most
//     kMaxMessage bytes with a non-empty body;
//   decode_offer(): same canonical round trip, 1..kMaxOfferedEpochs epochs,
//     strictly ascending and none zero;
//   encode() of a message built from the input decodes back to it, and
//     encode_offer() of an offer built from the input decodes back to it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/handshake/messages.hpp"

using namespace br;
using namespace br::handshake;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

constexpr MessageType kTypes[] = {
    MessageType::Pair1,   MessageType::Pair2,      MessageType::Pair3,      MessageType::Reveal,
    MessageType::Accept,  MessageType::Resume1V10, MessageType::Resume2V10, MessageType::Resume1,
    MessageType::Resume2, MessageType::Cert,       MessageType::Confirm,    MessageType::Bond,
    MessageType::Abort};

bool same(const Message& a, const Message& b) {
    return a.type == b.type && a.epoch == b.epoch && a.body == b.body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in(data, size);
    const Bytes input(in.begin(), in.end());

    // decode: canonical round trip.
    if (auto m = decode(in)) {
        check(!m->body.empty() && size <= kMaxMessage);
        check(m->type == MessageType::Resume2V10 || m->epoch == 0);
        if (m->type == MessageType::Abort)
            check(to_string(static_cast<AbortReason>(m->body[0])) != nullptr);
        check(encode(*m) == input);
        auto again = decode(encode(*m));
        check(again.has_value() && same(*again, *m));
    } else {
        check(to_string(m.error()) != nullptr);
    }

    // decode_offer: canonical round trip.
    if (auto o = decode_offer(in)) {
        check(!o->epochs.empty() && o->epochs.size() <= kMaxOfferedEpochs);
        for (std::size_t i = 0; i < o->epochs.size(); ++i)
            check(o->epochs[i] != 0 && (i == 0 || o->epochs[i] > o->epochs[i - 1]));
        check(encode_offer(*o) == input);
    }

    // encode -> decode for a message the input describes: type, epoch, body.
    if (size >= 5) {
        Reader r(in);
        Message m;
        m.type = kTypes[r.u8() % std::size(kTypes)];
        const std::uint32_t epoch = r.u32be();
        if (m.type == MessageType::Resume2V10) m.epoch = epoch;
        ByteView body = r.take(r.remaining());
        m.body.assign(body.begin(), body.end());
        const std::size_t header = m.type == MessageType::Resume2V10 ? 6 : 2;
        const bool valid = !m.body.empty() && header + m.body.size() <= kMaxMessage;
        auto back = decode(encode(m));
        check(back.has_value() == valid);
        if (back) check(same(*back, m));
    }

    // encode_offer -> decode_offer for an offer the input describes.
    if (size >= 33) {
        ResumeOffer o;
        std::copy(in.begin(), in.begin() + 32, o.initiator_id.begin());
        Reader r(in.subspan(32));
        const std::size_t n = 1 + r.u8() % kMaxOfferedEpochs;
        for (std::size_t i = 0; i < n; ++i) o.epochs.push_back(r.u32be());
        bool ascending = true;
        for (std::size_t i = 0; i < n; ++i)
            ascending = ascending && o.epochs[i] != 0 && (i == 0 || o.epochs[i] > o.epochs[i - 1]);
        auto back = decode_offer(encode_offer(o));
        check(back.has_value() == ascending);
        if (back) check(back->initiator_id == o.initiator_id && back->epochs == o.epochs);
    }
    return 0;
}
