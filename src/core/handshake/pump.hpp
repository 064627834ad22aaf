// SPDX-License-Identifier: MIT
// The message pump of one link: whatever carries blueratchet messages
// between two devices (the daemon's GATT links, the simulator's in-memory
// link, the bus tier's peer tool, the benchmarks and the tests) runs its
// handshakes through one of these.
//
// A Pump holds the handshake engine of the link's current handshake and
// turns each Step the engine returns into effects: the messages go out
// through the transport's send callback in order (cut into fragments first
// when the transport is framed, docs/PROTOCOL.md section 3, and fragments
// coming in are reassembled), and what the owner must act on is reported
// through PumpEvents: a first contact waiting for a verdict, a finished
// session, the initiator's CONFIRM, the peer's BOND, a failure.  It does no
// I/O of its own and reads no clock, like the engines: the owner feeds it
// and decides (approval policy, admission of first contacts, deadlines).
//
// Contract.  Events are called from inside receive()/on_fragment()/start()/
// approve(), after the step's messages were sent; an event may call back
// into the pump (approve() from approval_needed, serve() from
// idle_message), but must not destroy it.  Once failed() was reported the
// pump is dead: it sends nothing and ignores input until a new engine is
// installed with start() or serve().  A finished engine stays installed:
// the session's own messages (CONFIRM, BOND) still go through it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/frame/frame.hpp"
#include "core/handshake/engine.hpp"

namespace br::handshake {

// Why a link's pump stopped.
struct PumpFailure {
    enum class Kind {
        Handshake,    // the engine failed (handshake says why)
        Framing,      // the peer's fragments broke the framing (framing says why)
        Transport,    // the send callback refused a message or fragment
        NoHandshake,  // a message arrived with no handshake to take it
        NoSession,    // the engine reported done without a session (a bug)
    };
    Kind kind = Kind::Handshake;
    std::optional<Failure> handshake;
    std::optional<frame::FrameError> framing;

    static PumpFailure of(const Failure& f) { return {Kind::Handshake, f, std::nullopt}; }
    static PumpFailure frame(frame::FrameError e) { return {Kind::Framing, std::nullopt, e}; }
    static PumpFailure transport() { return {Kind::Transport, std::nullopt, std::nullopt}; }
    static PumpFailure no_handshake() { return {Kind::NoHandshake, std::nullopt, std::nullopt}; }
    static PumpFailure no_session() { return {Kind::NoSession, std::nullopt, std::nullopt}; }
    std::string describe() const;
    // A stable name: the engine's (Failure::name()), "Frame.<FrameError>",
    // "Transport", "NoHandshake" or "DoneWithoutSession".
    std::string name() const;
};

struct PumpEvents {
    // A first contact (either role) waits for our verdict: show `short_code`
    // and call approve() once the approval policy has decided.
    std::function<void(const std::string& short_code)> approval_needed;
    // The handshake finished: the session is the owner's now.
    std::function<void(Session)> session;
    // Initiator of a 1.1 resume: the responder confirmed its COMMIT and the
    // older seeds are wiped.
    std::function<void()> confirmed;
    // The peer's BOND: the passkey its bluetoothd asked about.
    std::function<void(std::uint32_t passkey)> bond;
    // The pump stopped; the owner drops the link.
    std::function<void(const PumpFailure&)> failed;
    // A message arrived while no handshake can take it: none was installed,
    // or the responder's last one is finished and this is not a session
    // message (the central starts a new handshake: a rekey).  The owner may
    // install a Responder with serve() from here; the message then goes to
    // it.  Otherwise the pump fails with NoHandshake.  `decoded` is nullopt
    // for bytes that are no message at all (the new engine reports that).
    std::function<void(const std::optional<Message>& decoded)> idle_message;
};

// How the link carries messages.
struct PumpTransport {
    // Sends one fragment (framed) or one whole message; false when the
    // transport failed.
    std::function<bool(ByteView)> send;
    // Framed (GATT): messages are cut at this ATT_MTU and input comes as
    // fragments (on_fragment).  nullopt: whole messages both ways (receive).
    std::optional<std::size_t> att_mtu;
};

class Pump {
  public:
    enum class State {
        Idle,         // no engine yet, or a new one is due (responder: next message)
        Handshaking,  // the engine is running
        Approving,    // a first contact waits for approve()
        Ready,        // the session came out; session messages keep flowing
        Failed,       // stopped: nothing goes in or out until a new engine
    };

    Pump(PumpTransport transport, PumpEvents events);

    // Installs an initiator and sends its first flight.
    void start(std::unique_ptr<Initiator> engine);
    // Installs the responder that takes the next message.
    void serve(std::unique_ptr<Responder> engine);

    // Framed transports: one fragment from the peer.
    void on_fragment(ByteView fragment);
    // Whole-message transports (or an already reassembled message).
    void receive(ByteView message);
    // The verdict on the first contact waiting in Approving; ignored otherwise.
    void approve(bool approved);
    // Our BOND over the live session; false (nothing sent) without one.
    bool send_bond(std::uint32_t passkey);
    // A message outside any engine (an unauthenticated ABORT before any DH).
    bool send_message(ByteView message);
    // Stops the pump as if `why` had happened (reported through failed()).
    void fail(const PumpFailure& why);

    void set_att_mtu(std::size_t att_mtu);
    State state() const { return state_; }
    // The initiator of the current (or last) handshake, if we initiate.
    Initiator* initiator() { return initiator_.get(); }
    const Initiator* initiator() const { return initiator_.get(); }
    // The peer's identity once the engine knows it.
    std::optional<DeviceId> peer() const;

  private:
    void handle(Step step);
    // True when the message needs a new engine (see PumpEvents::idle_message).
    bool needs_new_engine(const std::optional<Message>& decoded) const;

    PumpTransport transport_;
    PumpEvents events_;
    frame::Reassembler rx_;
    std::unique_ptr<Initiator> initiator_;
    std::unique_ptr<Responder> responder_;
    State state_ = State::Idle;
    std::uint64_t engines_ = 0;  // engines installed so far: tells a new one apart
};

}  // namespace br::handshake
