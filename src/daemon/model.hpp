// SPDX-License-Identifier: MIT
// The daemon as the management API sees it.
//
// src/daemon/api/ (the org.blueratchet D-Bus objects) is written against this
// interface only; src/daemon/manager/ implements it on top of the protocol core
// and the BlueZ glue.  Everything here runs on the daemon's single event-loop
// thread: no locking, and no call may block.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/util/expected.hpp"

namespace br::daemon {

struct AdapterView {
    std::string name;       // "hci0"
    std::string address;    // "AA:BB:CC:DD:EE:FF"
    std::string device_id;  // this adapter's identity, base64url (43 chars)
    bool powered = false;
    std::string role;  // "peripheral", "central" or "both"
    bool pairing_window_open = false;
    std::uint32_t pairing_window_remaining = 0;  // seconds
};

struct PeerView {
    std::string adapter;    // "hci0"
    std::string device_id;  // base64url
    std::string id_hex;     // lowercase hex (used in object paths)
    std::string address;    // last known BLE address, may be ""
    std::string alias;
    std::string role;  // the peer's role: "central" or "peripheral"
    std::uint32_t epoch = 0;
    std::int64_t created_unix = 0;
    std::int64_t last_seen_unix = 0;
    bool connected = false;
};

struct SessionView {
    std::string adapter;
    std::string peer_id;  // base64url
    std::string peer_id_hex;
    std::string address;
    std::string kind;  // "pair" or "resume"
    std::string role;  // our role: "initiator" or "responder"
    std::uint32_t epoch = 0;
    std::uint32_t not_before = 0;
    std::uint32_t not_after = 0;
    std::string fingerprint;  // lowercase hex, 64 chars
    std::string short_code;   // 6 digits
    std::string state;        // "live" or "invalidated"
    std::string reason;       // invalidation reason, "" while live
};

// A first contact waiting for an operator's verdict (confirm policy).
struct PendingApproval {
    std::string adapter;
    std::string peer_id;
    std::string address;
    std::string short_code;
    std::uint32_t expires_in = 0;  // seconds
    std::string role;              // ours: "responder" (peripheral) or "initiator" (central)
};

// An LE bond the agent refused: the reason in one line.
struct BondRefusal {
    std::string adapter;
    std::string peer_id;  // "" if no session identified the peer
    std::string address;
    std::string reason;
};

// A connection attempt that ended without a session, for a reason a user
// needs to see (Manager1.AttemptFailed; docs/API.md lists the reasons).
struct AttemptFailure {
    std::string adapter;
    std::string peer_id;  // base64url; "" when the attempt ended before the peer was known
    std::string address;
    // Refused, ApprovalExpired, TurnedAway, HandshakeFailed, HandshakeTimeout,
    // IdentityBusy, NoSession or LinkLost.
    std::string reason;
    // The named error the handshake ended with ("Noise.DecryptFailed",
    // "Frame.OutOfOrder", "PeerAborted.NotApproved", "NotApproved"); "" when
    // no handshake error ended it (a timeout, the rate limit).
    std::string error;
    std::string detail;  // one line for a person
};

// An allocator that wipes (explicit_bzero) every buffer it releases: a
// vector using it leaves nothing behind when it grows or is destroyed.
template <typename T>
struct WipingAllocator {
    using value_type = T;
    WipingAllocator() = default;
    template <typename U>
    WipingAllocator(const WipingAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
    void deallocate(T* p, std::size_t n) noexcept {
        ::explicit_bzero(p, n * sizeof(T));
        std::allocator<T>{}.deallocate(p, n);
    }
    friend bool operator==(const WipingAllocator&, const WipingAllocator&) { return true; }
};

// What Export answers: it may be the session's private key (issue #10,
// item 5: a copy found in a core dump), so its buffer is wiped when freed.
using ExportBytes = std::vector<std::uint8_t, WipingAllocator<std::uint8_t>>;

enum class ExportFormat { Pem, Der };
enum class ExportWhat { Certificate, PeerCertificate, PrivateKey };

// Errors the API maps to named D-Bus errors (org.blueratchet.Error.<Name>).
enum class ApiError { NotFound, InvalidArgument, NotPermitted, Failed };
struct ApiFailure {
    ApiError error;
    std::string message;  // one clear line
};

// What a Model call answers: its value, or a named error (the core's
// Expected, with ApiFailure as the error).
template <typename T>
using ApiResult = Expected<T, ApiFailure>;
inline Unexpected<ApiFailure> api_failure(ApiError e, std::string message) {
    return {ApiFailure{e, std::move(message)}};
}

class Model {
  public:
    virtual ~Model() = default;

    virtual std::vector<AdapterView> adapters() const = 0;
    virtual std::vector<PeerView> peers() const = 0;
    virtual std::vector<SessionView> sessions() const = 0;
    virtual std::vector<PendingApproval> pending_approvals() const = 0;

    // seconds == 0 closes the window.
    virtual ApiResult<bool> set_pairing_window(const std::string& adapter,
                                               std::uint32_t seconds) = 0;
    virtual ApiResult<bool> forget_peer(const std::string& adapter, const std::string& peer_id) = 0;
    virtual ApiResult<bool> invalidate_session(const std::string& adapter,
                                               const std::string& peer_id) = 0;
    virtual ApiResult<ExportBytes> export_session(const std::string& adapter,
                                                  const std::string& peer_id, ExportWhat what,
                                                  ExportFormat format) = 0;
    virtual ApiResult<bool> decide_approval(const std::string& adapter, const std::string& peer_id,
                                            bool approve) = 0;

    // --- session channels (docs/PROTOCOL.md 8.3) ---
    // A service an application offers: `deliver` hands it the socket of each
    // channel a peer opens to it (and may refuse: false).  `owner` is the
    // caller's bus name; all of its services go with owner_gone().
    using ChannelDeliver =
        std::function<bool(const std::string& service, const std::string& adapter,
                           const std::string& peer_id, int fd)>;
    virtual ApiResult<bool> register_service(const std::string& service, const std::string& owner,
                                             ChannelDeliver deliver) = 0;
    virtual ApiResult<bool> unregister_service(const std::string& service,
                                               const std::string& owner) = 0;
    virtual void owner_gone(const std::string& owner) = 0;
    // Opens a channel to `peer_id`'s `service` for the application at
    // `app_fd` (taken: closed on failure); `done` answers once the peer
    // accepted, or with why not.
    virtual void open_channel(const std::string& adapter, const std::string& peer_id,
                              const std::string& service, int app_fd,
                              std::function<void(ApiResult<bool>)> done) = 0;

    // Change notifications, set by the API layer; called on the loop thread.
    struct Listener {
        std::function<void()> adapters_changed;
        std::function<void(const PeerView&)> peer_added;
        std::function<void(const PeerView&)> peer_changed;
        std::function<void(const std::string& adapter, const std::string& id_hex)> peer_removed;
        std::function<void(const SessionView&)> session_minted;
        std::function<void(const SessionView&)> session_invalidated;  // view.reason set
        std::function<void(const PendingApproval&)> approval_requested;
        std::function<void(const BondRefusal&)> bond_refused;
        std::function<void(const AttemptFailure&)> attempt_failed;
    };
    void set_listener(Listener l) { listener_ = std::move(l); }

  protected:
    Listener listener_;
};

}  // namespace br::daemon
