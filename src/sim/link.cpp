#include "sim/link.hpp"

namespace br::sim {

bool Link::send(int from, ByteView message) {
    auto fragments = frame::fragment(message, params_.att_mtu);
    if (!fragments) return false;
    if (from != last_sender_) {
        ++flights_;
        last_sender_ = from;
    }
    auto& st = stats_[from];
    ++st.messages;
    st.message_bytes += message.size();
    std::bernoulli_distribution lost(params_.loss);
    for (auto& f : *fragments) {
        ++st.fragments;
        st.air_bytes += f.size() + frame::kAttOverhead;
        if (params_.loss > 0 && lost(rng_)) {
            ++st.lost_fragments;
            continue;
        }
        queue_.push(InFlight{now_ms_ + params_.latency_ms, order_++, 1 - from, std::move(f)});
    }
    return true;
}

std::optional<Link::Arrival> Link::next() {
    if (queue_.empty()) return std::nullopt;
    InFlight f = queue_.top();
    queue_.pop();
    if (f.at_ms > now_ms_) now_ms_ = f.at_ms;
    return Arrival{f.to, std::move(f.fragment)};
}

}  // namespace br::sim
