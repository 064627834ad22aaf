// SPDX-License-Identifier: MIT
#include "sim/link.hpp"

namespace br::sim {

void Link::send_fragment(int from, ByteView fragment) {
    if (from != last_sender_) {
        ++flights_;
        last_sender_ = from;
    }
    auto& st = stats_[from];
    if (fragment.size() >= frame::kFirstHeaderLen && (fragment[0] & frame::kFlagFirst)) {
        ++st.messages;
        st.message_bytes += static_cast<std::size_t>(fragment[1]) << 8 | fragment[2];
    }
    ++st.fragments;
    st.air_bytes += fragment.size() + frame::kAttOverhead;
    std::bernoulli_distribution lost(params_.loss);
    if (params_.loss > 0 && lost(rng_)) {
        ++st.lost_fragments;
        return;
    }
    queue_.push(InFlight{now_ms_ + params_.latency_ms, order_++, 1 - from,
                         Bytes(fragment.begin(), fragment.end())});
}

std::optional<Link::Arrival> Link::next() {
    if (queue_.empty()) return std::nullopt;
    InFlight f = queue_.top();
    queue_.pop();
    if (f.at_ms > now_ms_) now_ms_ = f.at_ms;
    return Arrival{f.to, std::move(f.fragment)};
}

}  // namespace br::sim
