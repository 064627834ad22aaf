#include "daemon/core/link_session.hpp"

#include "daemon/log.hpp"

namespace br::daemon {

LinkSession::LinkSession(std::uint64_t id, AdapterState& adapter, std::string device_path,
                         std::string address, Role role, LinkIo io, Hooks hooks,
                         const handshake::Settings& settings)
    : id_(id),
      adapter_(adapter),
      device_path_(std::move(device_path)),
      address_(std::move(address)),
      role_(role),
      io_(std::move(io)),
      hooks_(std::move(hooks)),
      settings_(settings) {}

bool LinkSession::start(std::optional<handshake::DeviceId> peer, bool in_1_0) {
    if (role_ != Role::Initiator || failed_) return false;
    peer_ = peer;
    auto now = adapter_.handshake_now();
    adapter_.book.set_now(adapter_.now());
    initiator_ = std::make_unique<handshake::Initiator>(adapter_.identity, peer, adapter_.book,
                                                        adapter_.replay, settings_, now);
    if (in_1_0) initiator_->resume_in_1_0();
    rx_.reset();
    handshaking_ = true;
    handle(initiator_->start());
    return !failed_;
}

void LinkSession::on_fragment(ByteView fragment) {
    if (failed_) return;
    auto msg = rx_.feed(fragment);
    if (!msg) {
        fail(std::string("framing error ") + frame::to_string(msg.error()));
        return;
    }
    if (!msg->has_value()) return;
    const Bytes& m = **msg;
    if (role_ == Role::Initiator) {
        if (!initiator_) {
            fail("a message from the peripheral before any handshake started");
            return;
        }
        handle(initiator_->receive(m));
        return;
    }
    // Responder: a new handshake starts with a message while none is in
    // progress (the first one, or the central's resume for a rekey); a
    // finished one keeps taking the session's own messages (BOND).
    const auto decoded = handshake::decode(m);
    const bool session_message = decoded && decoded->type == handshake::MessageType::Bond;
    if (!responder_ ||
        (responder_->state() == handshake::Responder::State::Done && !session_message)) {
        if (decoded && decoded->type == handshake::MessageType::Pair1) {
            first_contact_ = true;
            if (hooks_.admit_first_contact && !hooks_.admit_first_contact(*this)) {
                // Before any cryptography: an unauthenticated "busy" and out.
                (void)send_message(handshake::encode_abort(handshake::AbortReason::Busy));
                first_contact_ = false;  // turned away: it cost nothing, it counts nothing
                fail(
                    "first contact turned away: too many refused first contacts in the last "
                    "minute");
                return;
            }
        }
        auto now = adapter_.handshake_now();
        adapter_.book.set_now(adapter_.now());
        responder_ = std::make_unique<handshake::Responder>(adapter_.identity, adapter_.book,
                                                            adapter_.replay, settings_, now);
        handshaking_ = true;
    }
    handle(responder_->receive(m));
}

bool LinkSession::awaiting_approval() const {
    if (failed_) return false;
    if (role_ == Role::Initiator)
        return initiator_ && initiator_->state() == handshake::Initiator::State::AwaitingApproval;
    return responder_ && responder_->state() == handshake::Responder::State::AwaitingApproval;
}

void LinkSession::approval_verdict(bool approved) {
    if (!awaiting_approval()) return;
    handle(role_ == Role::Initiator ? initiator_->approve(approved)
                                    : responder_->approve(approved));
}

bool LinkSession::send_bond(std::uint32_t passkey) {
    if (failed_) return false;
    if (role_ == Role::Initiator ? !initiator_ : !responder_) return false;
    auto sealed =
        role_ == Role::Initiator ? initiator_->seal_bond(passkey) : responder_->seal_bond(passkey);
    return sealed && send_message(*sealed);
}

bool LinkSession::send_message(const Bytes& message) {
    auto frags = frame::fragment(message, io_.att_mtu);
    if (!frags) {
        fail(std::string("cannot frame a message: ") + frame::to_string(frags.error()));
        return false;
    }
    for (const auto& f : *frags) {
        if (!io_.send(f)) {
            fail("the transport refused a fragment");
            return false;
        }
    }
    return true;
}

void LinkSession::handle(handshake::Step step) {
    for (const auto& m : step.send)
        if (!send_message(m)) return;
    if (step.needs_approval && !step.failure) {
        // Both sides know the code now; the verdict is our approval policy's
        // (a plugin, maybe an operator comparing the code).
        if (role_ == Role::Initiator) {
            if (auto p = initiator_->peer()) peer_ = *p;
        } else if (auto p = responder_->peer()) {
            peer_ = *p;
        }
        if (!hooks_.approve) {
            approval_verdict(false);
            return;
        }
        hooks_.approve(*this, role_ == Role::Initiator ? initiator_->pending_short_code()
                                                       : responder_->pending_short_code());
        return;
    }
    if (step.bond_passkey) {
        if (hooks_.bond) hooks_.bond(*this, *step.bond_passkey);
        return;
    }
    if (step.confirmed) {
        if (hooks_.confirmed) hooks_.confirmed(*this);
        return;
    }
    if (step.failure) {
        std::string why = "handshake failed: " + step.failure->describe();
        // The store's own words (path and errno, "No space left on device")
        // are what an operator needs to act on.
        if (step.failure->error == handshake::Error::PersistFailed &&
            !adapter_.book.last_error().empty())
            why += ": " + adapter_.book.last_error();
        fail(why);
        return;
    }
    if (!step.done) return;
    std::optional<handshake::Session> s;
    if (role_ == Role::Initiator) {
        s = initiator_->take_session();
    } else {
        s = responder_->take_session();
    }
    handshaking_ = false;
    if (!s) {
        fail("the engine reported done without a session");
        return;
    }
    peer_ = s->peer_id;
    succeeded_ = true;
    if (hooks_.on_session) hooks_.on_session(*this, std::move(*s));
}

void LinkSession::fail(const std::string& why) {
    if (failed_) return;
    failed_ = true;
    handshaking_ = false;
    rx_.reset();
    if (hooks_.on_failure) hooks_.on_failure(*this, why);
}

}  // namespace br::daemon
