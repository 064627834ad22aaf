// SPDX-License-Identifier: MIT
// Decodes arbitrary bytes as a peer record (public part and with seeds), an
// identity record and a clock record.  Invariants: no crash or overrun, and
// whatever decodes re-encodes to the same bytes (the format is canonical);
// a version 1 peer record (written by protocol 1.0 builds) re-encodes as
// version 2 and decodes back to the same record.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/store/records.hpp"
#include "core/time/clock.hpp"

using namespace br;
using namespace br::store;

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in(data, size);

    auto info = decode_peer_info(in);
    auto rec = decode_peer_record(in);
    check(info.has_value() == rec.has_value());
    if (rec) {
        check(info->alias == rec->info.alias && info->id == rec->info.id);
        check(rec->seeds.size() == rec->info.epochs.size());
        check(is_valid_seed_shape(rec->info.epochs));
        auto again = encode_peer_record(*rec);
        check(again.has_value());
        const bool version1 = size >= 6 && in[4] == 0 && in[5] == 1;
        if (!version1) {
            check(again->size() == size && ct_equal(again->view(), in));
        } else {
            auto back = decode_peer_record(again->view());
            check(back.has_value() && back->info.epochs == rec->info.epochs &&
                  back->info.alias == rec->info.alias);
            for (std::size_t k = 0; k < rec->seeds.size(); ++k)
                check(ct_equal(back->seeds[k].seed.view(), rec->seeds[k].seed.view()));
        }
    } else {
        check(!rec.error().message().empty());
    }

    auto id = decode_identity_record(in);
    if (id) {
        SensitiveBytes again = encode_identity_record(id->key, id->created_unix);
        check(ct_equal(again.view(), in));
    }

    auto t = time::decode_clock_record(in);
    if (t) check(time::encode_clock_record(*t) == Bytes(in.begin(), in.end()));
    return 0;
}
