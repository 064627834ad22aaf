// SPDX-License-Identifier: MIT
#include "daemon/manager/connection.hpp"

#include <algorithm>

#include "core/util/peer_id.hpp"
#include "daemon/log.hpp"
#include "daemon/shown.hpp"

namespace br::daemon {

namespace {

std::chrono::milliseconds seconds_ms(std::int64_t s) {
    return std::chrono::milliseconds(std::max<std::int64_t>(s, 0) * 1000);
}

std::string id_text(const handshake::DeviceId& id) {
    return PeerId(id).base64url();
}

}  // namespace

const char* to_string(CloseReason r) {
    switch (r) {
        case CloseReason::LinkLost:
            return "LinkLost";
        case CloseReason::Replaced:
            return "Replaced";
        case CloseReason::AdapterGone:
            return "AdapterGone";
        case CloseReason::BluezGone:
            return "BluezGone";
        case CloseReason::Shutdown:
            return "Shutdown";
        case CloseReason::HandshakeFailed:
            return "HandshakeFailed";
        case CloseReason::TurnedAway:
            return "TurnedAway";
        case CloseReason::IdentityBusy:
            return "IdentityBusy";
        case CloseReason::HandshakeTimeout:
            return "HandshakeTimeout";
        case CloseReason::NoSession:
            return "NoSession";
        case CloseReason::BondTimeout:
            return "BondTimeout";
        case CloseReason::BondMismatch:
            return "BondMismatch";
        case CloseReason::Expired:
            return "Expired";
        case CloseReason::NoRekey:
            return "NoRekey";
        case CloseReason::Revoked:
            return "Revoked";
    }
    return "Unknown";
}

bool disconnects(CloseReason r) {
    switch (r) {
        case CloseReason::LinkLost:
        case CloseReason::Replaced:
        case CloseReason::AdapterGone:
        case CloseReason::BluezGone:
        case CloseReason::Shutdown:
            return false;  // the link is gone already, or is not ours to end
        default:
            return true;
    }
}

Connection::Connection(std::uint64_t id, Owner& owner, Loop& loop, AdapterState& adapter,
                       std::string device_path, std::string address, LinkRole role, LinkIo io,
                       const handshake::Settings& settings, Timing timing)
    : id_(id),
      owner_(owner),
      loop_(loop),
      adapter_(adapter),
      device_path_(std::move(device_path)),
      address_(std::move(address)),
      role_(role),
      settings_(settings),
      timing_(timing),
      pump_(handshake::PumpTransport{std::move(io.send), io.att_mtu}, pump_events()),
      state_(State::Waiting) {
    if (role_ == LinkRole::Peripheral) {
        // No session, no service: the central has this long to get one.
        service_due_ = loop_.now() + std::chrono::seconds(timing_.handshake_timeout_seconds);
        rearm();
    }
}

Connection::~Connection() {
    loop_.cancel(timer_);
}

handshake::PumpEvents Connection::pump_events() {
    handshake::PumpEvents ev;
    ev.approval_needed = [this](const std::string& code) {
        state_ = State::Approving;
        if (auto p = pump_.peer()) peer_ = *p;
        owner_.approval_needed(*this, code);
    };
    ev.session = [this](handshake::Session s) { on_session(std::move(s)); };
    ev.confirmed = [this] {
        log::info("ratchet confirmed adapter=", adapter_.name, " address=", address_,
                  ": the peripheral committed the new seed; every older one is wiped");
    };
    ev.bond = [this](std::uint32_t passkey) {
        peer_passkey_ = passkey;
        try_bond();
    };
    ev.failed = [this](const handshake::PumpFailure& f) { on_failure(f); };
    ev.idle_message = [this](const std::optional<handshake::Message>& m) { serve_next(m); };
    return ev;
}

// --- handshakes -------------------------------------------------------------

void Connection::begin_handshake() {
    state_ = State::Handshaking;
    handshake_due_ = loop_.now() + std::chrono::seconds(timing_.handshake_timeout_seconds);
    adapter_.book.set_now(adapter_.now());
    rearm();
}

void Connection::start(std::optional<handshake::DeviceId> peer, bool in_1_0) {
    if (role_ != LinkRole::Central || state_ == State::Closed) return;
    peer_ = peer;
    if (peer && !owner_.claim_identity(*this, *peer)) {
        close(CloseReason::IdentityBusy, "another handshake with this identity is in progress");
        return;
    }
    if (peer) claimed_ = peer;
    begin_handshake();
    auto engine = std::make_unique<handshake::Initiator>(adapter_.identity, peer, adapter_.book,
                                                         adapter_.replay, settings_,
                                                         adapter_.handshake_now());
    if (in_1_0) engine->resume_in_1_0();
    pump_.start(std::move(engine));
    check_claim();
}

// Peripheral: a message that no engine takes starts the central's next
// handshake (its first, or a rekey's resume).
void Connection::serve_next(const std::optional<handshake::Message>& decoded) {
    if (role_ != LinkRole::Peripheral || state_ == State::Closed) return;
    if (decoded && decoded->type == handshake::MessageType::Pair1) {
        first_contact_ = true;
        if (!owner_.admit_first_contact(*this)) {
            // Before any cryptography: an unauthenticated "busy" and out.
            (void)pump_.send_message(handshake::encode_abort(handshake::AbortReason::Busy));
            first_contact_ = false;  // turned away: it cost nothing, it counts nothing
            close(CloseReason::TurnedAway,
                  "first contact turned away: too many refused first contacts in the last minute");
            return;
        }
    }
    begin_handshake();
    pump_.serve(std::make_unique<handshake::Responder>(
        adapter_.identity, adapter_.book, adapter_.replay, settings_, adapter_.handshake_now()));
}

void Connection::on_fragment(ByteView fragment, std::optional<std::size_t> att_mtu) {
    if (state_ == State::Closed) return;
    if (role_ == LinkRole::Peripheral && !central_wrote_) {
        // The central's first write: what the log has always called the start.
        central_wrote_ = true;
        log::info("handshake start adapter=", adapter_.name, " device=", address_,
                  " role=responder");
    }
    if (att_mtu) pump_.set_att_mtu(*att_mtu);
    pump_.on_fragment(fragment);
    check_claim();
}

// Once the running handshake knows the peer's identity, it holds it: a
// second connection with the same identity (two addresses, one of them a
// copy of the device's state) is refused before either side commits a seed
// (PROTOCOL.md section 6: ADVANCE and COMMIT come later in both flights).
void Connection::check_claim() {
    if (state_ != State::Handshaking && state_ != State::Approving) return;
    if (claimed_) return;
    auto p = pump_.peer();
    if (!p) return;
    peer_ = *p;
    if (!owner_.claim_identity(*this, *p)) {
        // The peripheral says why (PROTOCOL.md 8.1: Busy); a central drops
        // the link without an ABORT, as on any failure not its refusal.
        if (role_ == LinkRole::Peripheral)
            (void)pump_.send_message(handshake::encode_abort(handshake::AbortReason::Busy));
        close(CloseReason::IdentityBusy, "another handshake with this identity is in progress");
        return;
    }
    claimed_ = *p;
}

void Connection::approve(bool approved) {
    if (state_ != State::Approving) return;
    state_ = State::Handshaking;
    pump_.approve(approved);
}

void Connection::on_session(handshake::Session s) {
    handshake_due_.reset();
    service_due_.reset();
    rekey_due_.reset();
    claimed_.reset();
    // The peer's certificate was accepted, so its not_before is a time that
    // has passed: the last-known-good clock may rise to it (a device without
    // a real-time clock learns the time from its peers this way).
    adapter_.clock.observe(s.peer.not_before);
    retire_session(InvalidationReason::Replaced);  // a rekey: the older session ends now
    peer_ = s.peer_id;
    session_ = std::move(s);
    ever_live_ = true;
    state_ = State::Live;
    const std::int64_t left =
        static_cast<std::int64_t>(session_->not_after()) - adapter_.clock.now();
    expiry_due_ = loop_.now() + seconds_ms(left);
    rearm();
    owner_.session_minted(*this, *session_);
    try_bond();
}

void Connection::on_failure(const handshake::PumpFailure& f) {
    if (state_ == State::Closed) return;
    if (!peer_)
        if (auto p = pump_.peer()) peer_ = *p;  // the failure's report names the peer if known
    std::string why;
    switch (f.kind) {
        case handshake::PumpFailure::Kind::Handshake:
            // PersistFailed carries the store's own words (path and errno,
            // "No space left on device"): what an operator acts on.
            why = "handshake failed: " + (f.handshake ? f.handshake->describe() : std::string());
            break;
        case handshake::PumpFailure::Kind::NoHandshake:
            why = role_ == LinkRole::Central
                      ? "a message from the peripheral before any handshake started"
                      : f.describe();
            break;
        default:
            why = f.describe();
    }
    const auto* ini = pump_.initiator();
    if (ini && ini->peer_may_speak_only_1_0() && peer_ && adapter_.speaks_1_0.insert(*peer_).second)
        log::warning("peer ", id_text(*peer_), " address=", address_,
                     " refused protocol 1.1 the way a 1.0 build does: the next connection resumes"
                     " in 1.0 (until this daemon restarts; upgrade the peer to get 1.1's"
                     " protections)");
    log::warning("handshake failed adapter=", adapter_.name, " device=", address_,
                 " role=", role_ == LinkRole::Central ? "initiator" : "responder", " reason=\"",
                 why, "\": disconnecting");
    failure_ = f.name();
    close(CloseReason::HandshakeFailed, why);
}

// --- the LE bond, bound to the session (protocol 1.1, docs/SECURITY.md) -----

void Connection::confirm_bond(std::uint32_t passkey, std::function<void(bool)> reply,
                              Loop::Clock::time_point due) {
    if (state_ == State::Closed) {
        reply(false);
        return;
    }
    if (bond_) {
        auto old = std::move(bond_->reply);
        bond_.reset();
        old(false);
    }
    cancelled_passkey_.reset();
    bond_ = PendingBond{std::move(reply), passkey, false};
    bond_due_ = due;
    rearm();
    try_bond();
    if (bond_ && !bond_->sent) {
        const auto left = std::chrono::duration_cast<std::chrono::seconds>(due - loop_.now());
        log::info("LE bond deferred device=", cut(device_path_), ": waiting up to ", left.count(),
                  " s for the blueratchet session");
    }
}

// bluetoothd withdrew its question (agent Cancel), typically because the
// peer's side of SMP failed first: its daemon saw the passkeys differ and
// refused.  If our passkey already went out, the peer's may still arrive
// over the session (it sent it before refusing), and a difference is the
// same evidence of someone between the LE links on this side too
// (compare_late_passkey).
void Connection::cancel_bond() {
    if (!bond_) return;
    if (bond_->sent) cancelled_passkey_ = bond_->passkey;
    answer_bond(false);
}

// Sends our passkey once the link has a live session, and answers once both
// are known.  A relay of a known pair's resume cannot make two bonds of its
// own look alike: LE numeric comparison gives its two halves different
// passkeys.
void Connection::try_bond() {
    if (!bond_) return compare_late_passkey();
    if (!live()) return;
    const std::string peer = peer_text();
    if (session_->version != handshake::Version::V1_1) {
        log::warning("LE bond refused device=", cut(device_path_), " peer=", peer,
                     ": the pair still speaks protocol 1.0, which cannot bind a bond to its"
                     " session");
        owner_.bond_refused(*this, "the peer speaks protocol 1.0");
        answer_bond(false);
        return;
    }
    if (!bond_->sent) {
        if (!pump_.send_bond(bond_->passkey)) {
            owner_.bond_refused(*this, "could not send our passkey to the peer");
            answer_bond(false);
            return;
        }
        bond_->sent = true;
        log::info("LE bond passkey sent device=", cut(device_path_), " peer=", peer,
                  ": waiting for the peer's");
    }
    if (!peer_passkey_) return;
    const std::uint32_t theirs = *peer_passkey_;
    const std::uint32_t ours = bond_->passkey;
    peer_passkey_.reset();
    if (theirs == ours) {
        log::info("LE bond confirmed device=", cut(device_path_), " peer=", peer,
                  " epoch=", session_->epoch,
                  ": both bluetoothds asked about the same passkey, carried inside the session");
        answer_bond(true);
        return;
    }
    // Different passkeys mean this connection is not the peer's own LE link:
    // someone relays it.  The session is still end to end, but the link is
    // known to be attacked, so it ends here, on both sides alike.
    log::warning("LE bond refused device=", cut(device_path_), " peer=", peer,
                 ": passkeys differ (ours ", ours, ", the peer's ", theirs,
                 "): someone is between the two LE links; disconnecting");
    owner_.bond_refused(*this, "passkeys differ: ours " + std::to_string(ours) + ", the peer's " +
                                   std::to_string(theirs));
    answer_bond(false);
    close(CloseReason::BondMismatch, "LE bond passkeys differ");
}

void Connection::compare_late_passkey() {
    if (!cancelled_passkey_ || !peer_passkey_ || !live()) return;
    const std::uint32_t ours = *cancelled_passkey_, theirs = *peer_passkey_;
    cancelled_passkey_.reset();
    peer_passkey_.reset();
    const std::string peer = peer_text();
    if (theirs == ours) {
        log::info("LE bond cancelled by bluetoothd device=", cut(device_path_), " peer=", peer,
                  ": although both bluetoothds asked about the same passkey");
        return;
    }
    log::warning("LE bond refused device=", cut(device_path_), " peer=", peer,
                 ": passkeys differ (ours ", ours, ", the peer's ", theirs,
                 "): someone is between the two LE links (bluetoothd had cancelled its question:"
                 " the peer refused first); disconnecting");
    owner_.bond_refused(*this, "passkeys differ: ours " + std::to_string(ours) + ", the peer's " +
                                   std::to_string(theirs));
    close(CloseReason::BondMismatch, "LE bond passkeys differ");
}

void Connection::answer_bond(bool ok) {
    if (!bond_) return;
    auto reply = std::move(bond_->reply);
    bond_.reset();
    bond_due_.reset();
    rearm();
    log::info("pairing ", ok ? "confirmed" : "rejected", " device=", cut(device_path_),
              ok ? ": the peer's passkey matched over the session" : "");
    reply(ok);
}

// --- sessions and their end -------------------------------------------------

void Connection::retire_session(InvalidationReason reason) {
    if (!live()) return;
    session_->invalidate(reason);
    expiry_due_.reset();
    if (state_ == State::Live) state_ = State::Lapsed;
    rearm();
    owner_.session_invalidated(*this, *session_, reason);
}

void Connection::on_expiry() {
    if (!live()) return;
    retire_session(InvalidationReason::Expired);
    const std::string peer = peer_text();
    if (timing_.on_expiry == OnExpiry::Disconnect) {
        log::info("session expired adapter=", adapter_.name, " peer=", peer,
                  ": disconnecting (OnExpiry=disconnect)");
        close(CloseReason::Expired, "session expired");
        return;
    }
    if (role_ == LinkRole::Central) {
        log::info("session expired adapter=", adapter_.name, " peer=", peer,
                  ": rekeying over the live link (resume)");
        start(peer_, false);
        return;
    }
    // Peripheral: the central rekeys; it gets a bounded grace.
    log::info("session expired adapter=", adapter_.name, " peer=", peer, ": waiting ",
              timing_.handshake_timeout_seconds, " s for the central's resume");
    rekey_due_ = loop_.now() + std::chrono::seconds(timing_.handshake_timeout_seconds);
    rearm();
}

void Connection::close(CloseReason reason, const std::string& why) {
    if (state_ == State::Closed) return;
    closed_from_ = state_;
    // First the keys.
    retire_session(reason == CloseReason::Revoked ? InvalidationReason::Revoked
                                                  : InvalidationReason::LinkLost);
    state_ = State::Closed;
    loop_.cancel(timer_);
    timer_ = 0;
    service_due_.reset();
    handshake_due_.reset();
    expiry_due_.reset();
    rekey_due_.reset();
    claimed_.reset();
    if (bond_) answer_bond(false);
    owner_.closed(*this, reason, why);
}

// --- the one timer ----------------------------------------------------------
//
//   deadline     armed                         when it passes
//   bond_due_    confirm_bond()                BondTimeout (answer no, disconnect)
//   handshake    a handshake starts            HandshakeTimeout (disconnect)
//   service      peripheral link up            NoSession, unless a session came
//   expiry       a session is minted           invalidate (Expired), then rekey,
//                                              wait for the central's, or disconnect
//   rekey        peripheral, session expired   NoRekey (disconnect)

void Connection::rearm() {
    loop_.cancel(timer_);
    timer_ = 0;
    if (state_ == State::Closed) return;
    std::optional<Loop::Clock::time_point> next;
    for (const auto& due : {bond_due_, handshake_due_, service_due_, expiry_due_, rekey_due_})
        if (due && (!next || *due < *next)) next = due;
    if (!next) return;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*next - loop_.now());
    timer_ = loop_.add_timer(std::max(left, std::chrono::milliseconds(0)), [this] {
        timer_ = 0;
        on_deadline();
    });
}

void Connection::on_deadline() {
    const auto now = loop_.now();
    const auto passed = [now](const std::optional<Loop::Clock::time_point>& d) {
        return d && *d <= now;
    };
    const auto secs = timing_.handshake_timeout_seconds;
    // A loop that wakes late (a busy CPU) can find several deadlines passed
    // at once.  The bond's gives way to the link's if the link's passed
    // first: a peripheral's NoSession deadline is armed at the connection
    // and the bond's at RequestConfirmation, typically 0.1 s later, so the
    // link had no session first.  Between the link's two, a handshake under
    // way is the better reason (they are often microseconds apart).
    const auto before_bond = [&](const std::optional<Loop::Clock::time_point>& d) {
        return passed(d) && *d < *bond_due_;
    };
    if (passed(bond_due_) && !before_bond(handshake_due_) && !before_bond(service_due_)) {
        const bool had_session = bond_ && bond_->sent;
        log::warning(
            "LE bond rejected device=", cut(device_path_),
            had_session ? ": the peer sent no passkey within " : ": no blueratchet session within ",
            secs, " s; disconnecting");
        owner_.bond_refused(*this, had_session ? "the peer never sent its passkey"
                                               : "no blueratchet session in time");
        close(CloseReason::BondTimeout, "pairing confirmation timeout");
        return;
    }
    if (passed(handshake_due_)) {
        log::warning("handshake timeout adapter=", adapter_.name, " device=", address_, " after ",
                     secs, " s: disconnecting (no session, no service)");
        close(CloseReason::HandshakeTimeout, "handshake timeout");
        return;
    }
    if (passed(service_due_)) {
        log::warning("no session within ", secs, " s device=", address_,
                     ": disconnecting (no session, no service)");
        close(CloseReason::NoSession, "no session in time");
        return;
    }
    if (passed(expiry_due_)) on_expiry();
    if (state_ != State::Closed && passed(rekey_due_)) {
        log::warning("no rekey from the central adapter=", adapter_.name, " peer=", peer_text(),
                     ": disconnecting");
        close(CloseReason::NoRekey, "no rekey");
        return;
    }
    rearm();
}

std::string Connection::peer_text() const {
    return peer_ ? id_text(*peer_) : std::string("?");
}

}  // namespace br::daemon
