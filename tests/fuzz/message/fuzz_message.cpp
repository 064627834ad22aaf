// The handshake's wire codec (core/handshake/messages.hpp) on arbitrary bytes.
//
// Invariants, each an abort() the fuzzer reports:
//   decode(): whatever it accepts re-encodes to exactly the input (the codec
//     is canonical, so nothing is silently dropped or normalised), has a body
//     of 1..kMaxBody bytes, and an Abort carries a known reason;
//   decode_offer(): same canonical round trip, 1..kMaxOfferedEpochs epochs;
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

constexpr MessageType kTypes[] = {MessageType::Pair1,  MessageType::Pair2,   MessageType::Pair3,
                                  MessageType::Reveal, MessageType::Resume1, MessageType::Resume2,
                                  MessageType::Cert,   MessageType::Abort};

bool same(const Message& a, const Message& b) {
    return a.type == b.type && a.epoch == b.epoch && a.body == b.body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in(data, size);
    const Bytes input(in.begin(), in.end());

    // decode: canonical round trip.
    if (auto m = decode(in)) {
        check(!m->body.empty() && m->body.size() <= kMaxBody);
        check(m->type == MessageType::Resume2 || m->epoch == 0);
        if (m->type == MessageType::Abort) {
            check(m->body.size() == 1);
            check(to_string(static_cast<AbortReason>(m->body[0])) != nullptr);
        }
        check(encode(*m) == input);
        auto again = decode(encode(*m));
        check(again.has_value() && same(*again, *m));
    } else {
        check(to_string(m.error()) != nullptr);
    }

    // decode_offer: canonical round trip.
    if (auto o = decode_offer(in)) {
        check(!o->epochs.empty() && o->epochs.size() <= kMaxOfferedEpochs);
        check(encode_offer(*o) == input);
    }

    // encode -> decode for a message the input describes: type, epoch, body.
    if (size >= 5) {
        Reader r(in);
        Message m;
        m.type = kTypes[r.u8() % std::size(kTypes)];
        const std::uint32_t epoch = r.u32be();
        if (m.type == MessageType::Resume2) m.epoch = epoch;
        ByteView body = r.take(r.remaining());
        if (m.type == MessageType::Abort) body = body.first(std::min<std::size_t>(body.size(), 1));
        m.body.assign(body.begin(), body.end());
        const bool valid = !m.body.empty() && m.body.size() <= kMaxBody &&
                           (m.type != MessageType::Abort || (m.body[0] >= 1 && m.body[0] <= 5));
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
        auto back = decode_offer(encode_offer(o));
        check(back.has_value() && back->initiator_id == o.initiator_id && back->epochs == o.epochs);
    }
    return 0;
}
