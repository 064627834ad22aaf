// SPDX-License-Identifier: MIT
#include "core/handshake/pump.hpp"

namespace br::handshake {

std::string PumpFailure::describe() const {
    switch (kind) {
        case Kind::Handshake:
            return "handshake failed: " + (handshake ? handshake->describe() : std::string("?"));
        case Kind::Framing:
            return std::string("framing error ") +
                   (framing ? frame::to_string(*framing) : "unknown");
        case Kind::Transport:
            return "the transport refused a fragment";
        case Kind::NoHandshake:
            return "a message with no handshake to take it";
        case Kind::NoSession:
            return "the engine reported done without a session";
    }
    return "unknown";
}

std::string PumpFailure::name() const {
    switch (kind) {
        case Kind::Handshake:
            return handshake ? handshake->name() : std::string("Unknown");
        case Kind::Framing:
            return std::string("Frame.") + (framing ? frame::name(*framing) : "Unknown");
        case Kind::Transport:
            return "Transport";
        case Kind::NoHandshake:
            return "NoHandshake";
        case Kind::NoSession:
            return "DoneWithoutSession";
    }
    return "Unknown";
}

Pump::Pump(PumpTransport transport, PumpEvents events)
    : transport_(std::move(transport)), events_(std::move(events)) {}

void Pump::start(std::unique_ptr<Initiator> engine) {
    responder_.reset();
    initiator_ = std::move(engine);
    ++engines_;
    rx_.reset();
    state_ = State::Handshaking;
    handle(initiator_->start());
}

void Pump::serve(std::unique_ptr<Responder> engine) {
    initiator_.reset();
    responder_ = std::move(engine);
    ++engines_;
    state_ = State::Handshaking;
}

void Pump::set_att_mtu(std::size_t att_mtu) {
    if (transport_.att_mtu) transport_.att_mtu = att_mtu;
}

std::optional<DeviceId> Pump::peer() const {
    if (initiator_) return initiator_->peer();
    if (responder_) return responder_->peer();
    return std::nullopt;
}

void Pump::on_fragment(ByteView fragment) {
    if (state_ == State::Failed) return;
    auto msg = rx_.feed(fragment);
    if (!msg) {
        fail(PumpFailure::frame(msg.error()));
        return;
    }
    if (msg->has_value()) receive(**msg);
}

bool Pump::needs_new_engine(const std::optional<Message>& decoded) const {
    if (!initiator_ && !responder_) return true;
    // A finished responder keeps the session's own messages; anything else
    // is the central's next handshake (a rekey).
    return responder_ && responder_->state() == Responder::State::Done &&
           !(decoded && decoded->type == MessageType::Bond);
}

void Pump::receive(ByteView message) {
    if (state_ == State::Failed) return;
    std::optional<Message> decoded;
    if (auto d = decode(message)) decoded = std::move(*d);
    if (needs_new_engine(decoded)) {
        const auto before = engines_;
        if (events_.idle_message) events_.idle_message(decoded);
        if (state_ == State::Failed) return;
        if (engines_ == before) {
            fail(PumpFailure::no_handshake());
            return;
        }
    }
    handle(initiator_ ? initiator_->receive(message) : responder_->receive(message));
}

void Pump::approve(bool approved) {
    if (state_ != State::Approving) return;
    state_ = State::Handshaking;
    handle(initiator_ ? initiator_->approve(approved) : responder_->approve(approved));
}

bool Pump::send_bond(std::uint32_t passkey) {
    if (state_ != State::Ready) return false;
    auto sealed = initiator_ ? initiator_->seal_bond(passkey) : responder_->seal_bond(passkey);
    return sealed && send_message(*sealed);
}

bool Pump::send_message(ByteView message) {
    if (state_ == State::Failed) return false;
    if (!transport_.att_mtu) {
        if (transport_.send(message)) return true;
        fail(PumpFailure::transport());
        return false;
    }
    auto frags = frame::fragment(message, *transport_.att_mtu);
    if (!frags) {
        fail(PumpFailure::frame(frags.error()));
        return false;
    }
    for (const auto& f : *frags) {
        if (!transport_.send(f)) {
            fail(PumpFailure::transport());
            return false;
        }
    }
    return true;
}

void Pump::fail(const PumpFailure& why) {
    if (state_ == State::Failed) return;
    state_ = State::Failed;
    rx_.reset();
    if (events_.failed) events_.failed(why);
}

// One Step, in the engine's order: its messages first (an ABORT goes out
// before the failure is reported), then the one thing it asks of the owner.
void Pump::handle(Step step) {
    for (const auto& m : step.send)
        if (!send_message(m)) return;
    if (step.failure) {
        fail(PumpFailure::of(*step.failure));
        return;
    }
    if (step.needs_approval) {
        state_ = State::Approving;
        const std::string code =
            initiator_ ? initiator_->pending_short_code() : responder_->pending_short_code();
        if (events_.approval_needed)
            events_.approval_needed(code);
        else
            approve(false);
        return;
    }
    if (step.bond_passkey) {
        if (events_.bond) events_.bond(*step.bond_passkey);
        return;
    }
    if (step.confirmed) {
        if (events_.confirmed) events_.confirmed();
        return;
    }
    if (!step.done) return;
    auto s = initiator_ ? initiator_->take_session() : responder_->take_session();
    if (!s) {
        fail(PumpFailure::no_session());
        return;
    }
    state_ = State::Ready;
    if (events_.session) events_.session(std::move(*s));
}

}  // namespace br::handshake
