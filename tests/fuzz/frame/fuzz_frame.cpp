// SPDX-License-Identifier: MIT
// Feeds splits of the input into a Reassembler.  The first input byte picks
// the split sizes (seeded stride), the rest is the fragment stream; a second
// pass treats the input as length-prefixed fragments so that the fuzzer can
// control every boundary.  Invariants: the buffer never exceeds kMaxMessage,
// a delivered message has 1..kMaxMessage bytes, and fragment() output always
// reassembles to its input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/frame/frame.hpp"

using namespace br;
using namespace br::frame;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void feed_one(Reassembler& r, ByteView f) {
    auto res = r.feed(f);
    check(r.buffered() <= kMaxMessage);
    if (res && res->has_value()) {
        check(!(*res)->empty() && (*res)->size() <= kMaxMessage);
        check(!r.in_progress());
    }
    if (!res) check(!r.in_progress() && to_string(res.error()) != nullptr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    ByteView in(data, size);

    // Pass 1: fixed-stride splits (stride 1..64 from the first byte).
    {
        Reassembler r;
        const std::size_t stride = 1 + (in[0] % 64);
        ByteView rest = in.subspan(1);
        for (std::size_t pos = 0; pos < rest.size(); pos += stride) {
            feed_one(r, rest.subspan(pos, std::min(stride, rest.size() - pos)));
        }
    }
    // Pass 2: u8 length-prefixed fragments.
    {
        Reassembler r(1 + in[0] % 64);
        Reader rd(in.subspan(1));
        while (rd.remaining() > 0) {
            const std::size_t n = rd.u8();
            ByteView f = rd.take(std::min<std::size_t>(n, rd.remaining()));
            feed_one(r, f);
        }
    }
    // Pass 3: the input as a message, round-tripped at an input-chosen MTU.
    {
        const std::size_t mtu = kMinAttMtu + in[0] % (kMaxAttMtu - kMinAttMtu + 1);
        ByteView msg = in.subspan(0, std::min(in.size(), kMaxMessage));
        auto fs = fragment(msg, mtu);
        check(fs.has_value());
        Reassembler r;
        std::optional<Bytes> got;
        for (const Bytes& f : *fs) {
            check(f.size() <= mtu - kAttOverhead);
            auto res = r.feed(f);
            check(res.has_value());
            if (res->has_value()) got = std::move(**res);
        }
        check(got.has_value() && *got == Bytes(msg.begin(), msg.end()));
    }
    return 0;
}
