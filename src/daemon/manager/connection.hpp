// SPDX-License-Identifier: MIT
// One BLE connection between one of our adapters and a peer device, from
// the moment the link is up (link_up) to the moment it ends (close): the
// only object that knows what is happening on that link.
//
// It owns the link's I/O (LinkIo: GATT server notifications or the GATT
// client's sockets, the same to it), the message pump (reassembler, the
// handshake engine of our role, fragmenter), the one timer of the link, the
// agent's pending LE bond confirmation, and the session the link minted.
// It reports upward through Connection::Owner (the Manager), which keeps the
// connections by device and the sessions by (adapter, peer).
//
// Contract.  Every way a connection ends goes through close(reason): it
// wipes the session (InvalidationReason follows from the CloseReason),
// answers a pending bond confirmation (no), forgets the identity it
// claimed, cancels its timer and then tells the owner, which disconnects the
// device if the reason asks for it (disconnects()) and destroys the
// connection later, never from inside a call into it.  After close() the
// connection takes no input and sends nothing.  The one timer is armed at
// the earliest of the deadlines that apply in the current state (table in
// connection.cpp, on_deadline()); none of them is a separate timer object.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/frame/frame.hpp"
#include "core/handshake/pump.hpp"
#include "core/time/clock.hpp"
#include "daemon/config.hpp"
#include "daemon/loop.hpp"
#include "daemon/manager/adapter_state.hpp"

namespace br::daemon {

// How a connection reaches the peer: one fragment per ATT value.
struct LinkIo {
    std::function<bool(ByteView fragment)> send;  // false: the transport failed
    std::size_t att_mtu = frame::kMinAttMtu;
};

// Our BLE role on the link, which fixes our handshake role: the central
// initiates (docs/DAEMON.md, "who initiates").
enum class LinkRole { Central, Peripheral };

enum class CloseReason {
    LinkLost,          // Connected=false, the device object went away, the sockets hung up
    Replaced,          // a new connection to the same device came up
    AdapterGone,       // the adapter was removed
    BluezGone,         // bluetoothd left the bus
    Shutdown,          // the daemon is stopping
    HandshakeFailed,   // the handshake or the framing failed (the detail says how)
    TurnedAway,        // a first contact over the rate limit (ABORT Busy before any DH)
    IdentityBusy,      // another connection runs a handshake with the same identity
    HandshakeTimeout,  // a handshake did not finish within HandshakeTimeout
    NoSession,         // peripheral: no session within HandshakeTimeout of the connection
    BondTimeout,       // the agent's confirmation found no session, or no peer BOND, in time
    BondMismatch,      // the LE bond's passkeys differ: someone is between the LE links
    Expired,           // the session expired with OnExpiry=disconnect
    NoRekey,           // peripheral: the session expired and the central did not rekey
    Revoked,           // ForgetPeer or InvalidateSession
};
const char* to_string(CloseReason r);
// Whether the owner ends the BLE connection too ("no session, no service").
bool disconnects(CloseReason r);

class Connection {
  public:
    enum class State {
        Waiting,      // peripheral: up, no handshake yet (the central writes first)
        Handshaking,  // a handshake runs (the first, or a rekey's resume)
        Approving,    // a first contact waits for our approval policy's verdict
        Live,         // a session is live
        Lapsed,       // the session expired; peripheral: waiting for the central's rekey
        Closed,       // ended: see close()
    };

    // What a connection asks of, and reports to, the manager.
    class Owner {
      public:
        virtual ~Owner() = default;
        // A first contact waits for our verdict (either role): ask the
        // approval policy and call approve() later, never from inside.
        virtual void approval_needed(Connection& c, const std::string& short_code) = 0;
        // Peripheral: may a first contact (PAIR_1) start now?  No: the
        // central hears ABORT(Busy) and the connection closes (TurnedAway).
        virtual bool admit_first_contact(Connection& c) = 0;
        // One handshake per identity at a time (per adapter): false when
        // another connection already runs one with `peer`.
        virtual bool claim_identity(Connection& c, const handshake::DeviceId& peer) = 0;
        virtual void session_minted(Connection& c, const handshake::Session& s) = 0;
        // The session was wiped (it stays readable: ids, certificates).
        virtual void session_invalidated(Connection& c, const handshake::Session& s,
                                         InvalidationReason reason) = 0;
        virtual void bond_refused(Connection& c, const std::string& reason) = 0;
        // close() ran: the session is wiped, the confirmation answered.
        virtual void closed(Connection& c, CloseReason reason, const std::string& why) = 0;
    };

    struct Timing {
        std::uint32_t handshake_timeout_seconds = 10;
        OnExpiry on_expiry = OnExpiry::Rekey;
    };

    Connection(std::uint64_t id, Owner& owner, Loop& loop, AdapterState& adapter,
               std::string device_path, std::string address, LinkRole role, LinkIo io,
               const handshake::Settings& settings, Timing timing);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Central: runs a handshake (a resume when `peer` is known, else a first
    // contact; `in_1_0` resumes in protocol 1.0 for a peer that refused 1.1).
    void start(std::optional<handshake::DeviceId> peer, bool in_1_0);
    // One ATT value from the peer; `att_mtu` when the transport tells it
    // with each value (GATT server writes).
    void on_fragment(ByteView fragment, std::optional<std::size_t> att_mtu = std::nullopt);
    // The approval policy's verdict on the first contact in Approving.
    void approve(bool approved);
    // The agent's RequestConfirmation for this device: `reply` is answered
    // (true only when the peer's BOND carries the same passkey over this
    // link's 1.1 session) before `due`, or no.
    void confirm_bond(std::uint32_t passkey, std::function<void(bool)> reply,
                      Loop::Clock::time_point due);
    // The bond confirmation, answered no (the agent's Cancel, bluetoothd gone).
    void cancel_bond();
    // Wipes the live session (another link of the same peer minted a newer
    // one); the link stays up.
    void retire_session(InvalidationReason reason);
    void close(CloseReason reason, const std::string& why);

    std::uint64_t id() const { return id_; }
    State state() const { return state_; }
    LinkRole role() const { return role_; }
    AdapterState& adapter() { return adapter_; }
    const AdapterState& adapter() const { return adapter_; }
    const std::string& device_path() const { return device_path_; }
    const std::string& address() const { return address_; }
    // The peer's identity, once a handshake told us (or the one we resume).
    const std::optional<handshake::DeviceId>& peer() const { return peer_; }
    // The identity this connection's running handshake holds (claim_identity).
    const std::optional<handshake::DeviceId>& claimed() const { return claimed_; }
    // The session this link minted last (live, or wiped once invalidated).
    const handshake::Session* session() const { return session_ ? &*session_ : nullptr; }
    // The PSM the peer's daemon takes session channels on (learnt over GATT;
    // 0: unknown, or it offers none).
    std::uint16_t peer_psm() const { return peer_psm_; }
    void set_peer_psm(std::uint16_t psm) { peer_psm_ = psm; }
    bool live() const { return session_ && !session_->invalidated(); }
    // A first contact ran here and produced no session (the rate limit counts it).
    bool first_contact_failed() const { return first_contact_ && !ever_live_; }
    // A session came out of this link (a handshake finished here once).
    bool ever_live() const { return ever_live_; }
    // The state close() found the connection in (Closed until then).
    State closed_from() const { return closed_from_; }
    // The named error of the failure that closed it (PumpFailure::name(),
    // e.g. "Noise.DecryptFailed"); "" unless it closed with HandshakeFailed.
    const std::string& failure() const { return failure_; }
    // When the running handshake times out (nullopt: none runs).
    std::optional<Loop::Clock::time_point> handshake_due() const { return handshake_due_; }
    // The manager's ticket for the approval this connection waits for (0: none).
    std::uint64_t approval_ticket = 0;
    // Why the manager decided this attempt ends (its approval verdict, the
    // rate limit, the identity claim), reported when the connection closes
    // (Manager1.AttemptFailed); empty reason: none decided.
    struct AttemptNote {
        std::string reason, detail;
    };
    AttemptNote attempt_note;

  private:
    struct PendingBond {
        std::function<void(bool)> reply;
        std::uint32_t passkey = 0;  // what our bluetoothd asked about
        bool sent = false;          // our BOND went out over the session
    };

    handshake::PumpEvents pump_events();
    void begin_handshake();
    void serve_next(const std::optional<handshake::Message>& decoded);
    void check_claim();
    void on_session(handshake::Session s);
    void on_failure(const handshake::PumpFailure& f);
    void try_bond();
    void compare_late_passkey();
    void answer_bond(bool ok);
    void on_expiry();
    void on_deadline();
    void rearm();
    std::string peer_text() const;

    std::uint64_t id_;
    std::uint16_t peer_psm_ = 0;
    Owner& owner_;
    Loop& loop_;
    AdapterState& adapter_;
    std::string device_path_;
    std::string address_;
    LinkRole role_;
    handshake::Settings settings_;
    Timing timing_;
    handshake::Pump pump_;
    State state_;
    State closed_from_ = State::Closed;
    std::string failure_;
    std::optional<handshake::DeviceId> peer_;
    std::optional<handshake::DeviceId> claimed_;
    std::optional<handshake::Session> session_;
    std::optional<PendingBond> bond_;
    std::optional<std::uint32_t> peer_passkey_;       // the peer's BOND, until ours is known
    std::optional<std::uint32_t> cancelled_passkey_;  // ours, sent, then bluetoothd cancelled
    bool first_contact_ = false;                      // a PAIR_1 started a handshake here
    bool ever_live_ = false;                          // a session came out of this link
    bool central_wrote_ = false;                      // peripheral: the central has written
    // The deadlines of the one timer (on_deadline() says what each does).
    std::optional<Loop::Clock::time_point> service_due_;    // peripheral, until a session
    std::optional<Loop::Clock::time_point> handshake_due_;  // while a handshake runs
    std::optional<Loop::Clock::time_point> bond_due_;       // while a confirmation waits
    std::optional<Loop::Clock::time_point> expiry_due_;     // while the session is live
    std::optional<Loop::Clock::time_point> rekey_due_;      // peripheral, Lapsed
    Loop::TimerId timer_ = 0;
};

}  // namespace br::daemon
