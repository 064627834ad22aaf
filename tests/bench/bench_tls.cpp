// SPDX-License-Identifier: MIT
// bench_tls: what OpenSSL's TLS 1.3 handshake with mutual certificate
// authentication costs each side, and what a TLS 1.3 PSK resumption costs,
// measured like bench_core's engine sides so scripts/bench can put them in
// one table: both sides run in this thread over memory BIOs, each side's
// calls (SSL_new .. SSL_free) are timed with the thread CPU clock, and the
// side's total is the iteration time (UseManualTime).  The configuration is
// in tls_handshake.hpp.
//
//   tls13_mutual/{client,server}  full handshake, both certificates verified
//   tls13_psk/{client,server}     resumption with the last ticket received
//                                 (psk_dhe_ke: X25519 again, no certificates),
//                                 the server issuing one new ticket each time
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "tls_handshake.hpp"

namespace br::bench {
namespace {

void full(benchmark::State& st, bool client) {
    tls::Endpoints ends(0);
    for (auto _ : st) {
        const tls::Result r = ends.handshake();
        if (!r.ok) {
            st.SkipWithError("handshake failed");
            break;
        }
        st.SetIterationTime(client ? r.client_seconds : r.server_seconds);
    }
}

void psk(benchmark::State& st, bool client) {
    tls::Endpoints ends(1);
    tls::SessionPtr session;
    if (!ends.handshake(nullptr, &session).ok || !session) {
        st.SkipWithError("the first full handshake failed");
        return;
    }
    for (auto _ : st) {
        tls::SessionPtr next;
        const tls::Result r = ends.handshake(session.get(), &next);
        if (!r.ok || !r.resumed || !next) {
            st.SkipWithError("resumption failed or was not accepted");
            break;
        }
        session = std::move(next);
        st.SetIterationTime(client ? r.client_seconds : r.server_seconds);
    }
}

}  // namespace
}  // namespace br::bench

int main(int argc, char** argv) {
    using namespace br::bench;
    namespace bm = benchmark;
    const auto us = bm::kMicrosecond;
    bm::RegisterBenchmark("tls13_mutual/client", full, true)->UseManualTime()->Unit(us);
    bm::RegisterBenchmark("tls13_mutual/server", full, false)->UseManualTime()->Unit(us);
    bm::RegisterBenchmark("tls13_psk/client", psk, true)->UseManualTime()->Unit(us);
    bm::RegisterBenchmark("tls13_psk/server", psk, false)->UseManualTime()->Unit(us);
    bm::Initialize(&argc, argv);
    if (bm::ReportUnrecognizedArguments(argc, argv)) return 1;
    bm::RunSpecifiedBenchmarks();
    bm::Shutdown();
    return 0;
}
