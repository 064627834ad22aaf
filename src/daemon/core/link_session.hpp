// One BLE connection between us and a peer, as the blueratchet handshake
// sees it: a reassembler for what the peer sends, the handshake engine of
// our role, and the handshake deadline.  The transport (GATT client sockets
// or GATT server writes/notifications) is hidden behind LinkIo.
//
// The link is "central" (we are the BLE central: Initiator) or "peripheral"
// (Responder).  A link can run several handshakes in its life: the first
// one when it comes up and a resume for each rekey (OnExpiry=rekey).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/frame/frame.hpp"
#include "core/handshake/engine.hpp"
#include "daemon/core/adapter_state.hpp"
#include "daemon/event_loop.hpp"

namespace br::daemon {

struct LinkIo {
    // Sends one fragment as one ATT value; false when the transport failed.
    std::function<bool(ByteView fragment)> send;
    std::size_t att_mtu = frame::kMinAttMtu;
};

class LinkSession {
  public:
    enum class Role { Initiator, Responder };
    struct Hooks {
        // A handshake finished: the session is ready.
        std::function<void(LinkSession&, handshake::Session)> on_session;
        // The handshake (or the framing) failed: the caller drops the link.
        std::function<void(LinkSession&, const std::string& why)> on_failure;
        // First contact, either role, once both sides know the 6-digit code:
        // asks our approval policy; the verdict comes later through
        // approval_verdict() (never from inside this call).
        std::function<void(LinkSession&, const std::string& short_code)> approve;
        // A 1.1 resume as initiator: the peripheral confirmed its commit and
        // we dropped every older seed.
        std::function<void(LinkSession&)> confirmed;
        // The peer's BOND: the passkey its bluetoothd asked its agent about.
        std::function<void(LinkSession&, std::uint32_t passkey)> bond;
        // Responder: may a first contact (PAIR_1) start on this link now?
        // No: the central is told Busy and the link fails before any DH.
        std::function<bool(LinkSession&)> admit_first_contact;
    };

    LinkSession(std::uint64_t id, AdapterState& adapter, std::string device_path,
                std::string address, Role role, LinkIo io, Hooks hooks,
                const handshake::Settings& settings);

    // Initiator: starts a handshake (a resume when `peer` is known, else a
    // pairing; `in_1_0` resumes in protocol 1.0, for a peer that refused
    // 1.1).  Returns false if the first flight could not be sent.
    bool start(std::optional<handshake::DeviceId> peer, bool in_1_0 = false);
    void on_fragment(ByteView fragment);
    void set_mtu(std::size_t mtu) { io_.att_mtu = mtu; }
    // The approval policy's verdict on the first contact waiting for it
    // (either role); ignored if the link is no longer waiting.
    void approval_verdict(bool approved);
    bool awaiting_approval() const;
    // Sends our BOND (the passkey our bluetoothd asked about) over the live
    // session; false if this link has no 1.1 session to carry it.
    bool send_bond(std::uint32_t passkey);
    // The initiator's last handshake was refused the way a protocol 1.0
    // responder refuses 1.1 (see handshake::Initiator).
    bool peer_may_speak_only_1_0() const {
        return initiator_ && initiator_->peer_may_speak_only_1_0();
    }

    std::uint64_t id() const { return id_; }
    Role role() const { return role_; }
    AdapterState& adapter() { return adapter_; }
    const std::string& device_path() const { return device_path_; }
    const std::string& address() const { return address_; }
    bool handshaking() const { return handshaking_; }
    bool failed() const { return failed_; }
    // A first contact ran here and produced no session (for the rate limit).
    bool first_contact_failed() const { return first_contact_ && !succeeded_; }
    // The peer's identity once a handshake told us (or the one we resume with).
    const std::optional<handshake::DeviceId>& peer() const { return peer_; }

    // The handshake deadline timer, owned by the core, and when it fires.
    EventLoop::TimerId deadline = 0;
    std::chrono::steady_clock::time_point deadline_at{};
    // The plugin host's id of the approval this link waits for (0: none).
    std::uint64_t approval = 0;

  private:
    void handle(handshake::Step step);
    bool send_message(const Bytes& message);
    void fail(const std::string& why);

    std::uint64_t id_;
    AdapterState& adapter_;
    std::string device_path_;
    std::string address_;
    Role role_;
    LinkIo io_;
    Hooks hooks_;
    handshake::Settings settings_;
    frame::Reassembler rx_;
    std::unique_ptr<handshake::Initiator> initiator_;
    std::unique_ptr<handshake::Responder> responder_;
    std::optional<handshake::DeviceId> peer_;
    bool handshaking_ = false;
    bool failed_ = false;
    bool first_contact_ = false;  // responder: a PAIR_1 started a handshake here
    bool succeeded_ = false;      // a session came out of this link
};

}  // namespace br::daemon
