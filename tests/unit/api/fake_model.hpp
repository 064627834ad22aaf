// SPDX-License-Identifier: MIT
// A small in-memory br::daemon::Model for exercising the API on a real bus.
// Its mutators notify the listener the way the Manager does.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/util/peer_id.hpp"
#include "daemon/model.hpp"

namespace br::test {

using namespace br::daemon;

inline std::string make_id(std::uint8_t seed) {
    PeerId::Bytes32 bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = static_cast<std::uint8_t>(seed + i * 7);
    return PeerId(bytes).base64url();
}

inline std::string hex_of(const std::string& b64) {
    auto id = PeerId::from_base64url(b64);
    return id ? id->hex() : std::string();
}

class FakeModel : public Model {
  public:
    FakeModel() {
        adapters_.push_back({"hci0", "00:11:22:33:44:55", make_id(200), true, "both", false, 0});
        add_peer_silently("hci0", make_id(1), "AA:BB:CC:00:00:01", "kitchen-sensor");
        add_peer_silently("hci0", make_id(2), "AA:BB:CC:00:00:02", "door");
    }

    // --- Model ---
    std::vector<AdapterView> adapters() const override { return adapters_; }
    std::vector<PeerView> peers() const override { return peers_; }
    std::vector<SessionView> sessions() const override { return sessions_; }
    std::vector<PendingApproval> pending_approvals() const override { return approvals_; }

    ApiResult<bool> set_pairing_window(const std::string& adapter, std::uint32_t seconds) override {
        if (throw_everything) throw std::runtime_error("simulated core failure");
        for (auto& a : adapters_) {
            if (a.name != adapter) continue;
            a.pairing_window_open = seconds > 0;
            a.pairing_window_remaining = seconds;
            if (listener_.adapters_changed) listener_.adapters_changed();
            return true;
        }
        return api_failure(ApiError::NotFound, "no adapter " + adapter);
    }

    ApiResult<bool> forget_peer(const std::string& adapter, const std::string& peer_id) override {
        if (throw_everything) throw std::runtime_error("simulated core failure");
        auto it = find_peer(adapter, peer_id);
        if (it == peers_.end())
            return api_failure(ApiError::NotFound, "no peer " + peer_id + " on " + adapter);
        end_session(adapter, peer_id, "forgotten");
        std::string hex = it->id_hex;
        peers_.erase(it);
        if (listener_.peer_removed) listener_.peer_removed(adapter, hex);
        return true;
    }

    ApiResult<bool> invalidate_session(const std::string& adapter,
                                       const std::string& peer_id) override {
        if (throw_everything) throw std::runtime_error("simulated core failure");
        if (!end_session(adapter, peer_id, "invalidated")) {
            return api_failure(ApiError::NotFound, "no live session with " + peer_id);
        }
        return true;
    }

    ApiResult<ExportBytes> export_session(const std::string& adapter, const std::string& peer_id,
                                          ExportWhat what, ExportFormat format) override {
        if (throw_everything) throw std::runtime_error("simulated core failure");
        auto it = std::find_if(sessions_.begin(), sessions_.end(), [&](const SessionView& s) {
            return s.adapter == adapter && s.peer_id == peer_id;
        });
        if (it == sessions_.end()) {
            return api_failure(ApiError::NotFound, "no live session");
        }
        std::string body = std::string(what == ExportWhat::Certificate       ? "CERT"
                                       : what == ExportWhat::PeerCertificate ? "PEERCERT"
                                                                             : "KEY") +
                           (format == ExportFormat::Pem ? "-PEM" : "-DER") + ":" + peer_id;
        return ExportBytes(body.begin(), body.end());
    }

    ApiResult<bool> decide_approval(const std::string& adapter, const std::string& peer_id,
                                    bool approve) override {
        if (throw_everything) throw 42;  // not even a std::exception
        auto it = std::find_if(approvals_.begin(), approvals_.end(), [&](const PendingApproval& p) {
            return p.adapter == adapter && p.peer_id == peer_id;
        });
        if (it == approvals_.end()) {
            return api_failure(ApiError::NotFound, "no pending approval for " + peer_id);
        }
        approvals_.erase(it);
        decisions.push_back(peer_id + (approve ? ":approved" : ":rejected"));
        return true;
    }

    // Session channels: a peer whose daemon offers "echo" (anything else is
    // NoSuchService); what it sends first names the service.  A channel's
    // socket stays open until the session ends.
    ApiResult<bool> register_service(const std::string& service, const std::string& owner,
                                     ChannelDeliver deliver) override {
        if (services_.count(service))
            return api_failure(ApiError::NotPermitted, "service " + service + " is taken");
        services_[service] = {owner, std::move(deliver)};
        return true;
    }
    ApiResult<bool> unregister_service(const std::string& service,
                                       const std::string& owner) override {
        auto it = services_.find(service);
        if (it == services_.end() || it->second.first != owner)
            return api_failure(ApiError::NotFound, "no service " + service + " of yours");
        services_.erase(it);
        return true;
    }
    void owner_gone(const std::string& owner) override {
        gone.push_back(owner);
        for (auto it = services_.begin(); it != services_.end();)
            it = it->second.first == owner ? services_.erase(it) : std::next(it);
    }
    void open_channel(const std::string& adapter, const std::string& peer_id,
                      const std::string& service, int app_fd,
                      std::function<void(ApiResult<bool>)> done) override {
        auto live = std::find_if(sessions_.begin(), sessions_.end(), [&](const SessionView& v) {
            return v.adapter == adapter && v.peer_id == peer_id;
        });
        if (live == sessions_.end()) {
            ::close(app_fd);
            return done(api_failure(ApiError::NotFound, "no live session with " + peer_id));
        }
        if (service != "echo") {
            ::close(app_fd);
            return done(
                api_failure(ApiError::Failed, "the peer refused the service: NoSuchService"));
        }
        std::string hello = "opened " + service + "\n";
        if (::write(app_fd, hello.data(), hello.size()) < 0) {
        }
        channel_fds.push_back(app_fd);
        done(true);
    }

    // --- test controls (call on the loop thread) ---
    // The peer opens a channel to our `service`: its application gets a
    // socket on which the peer already said hello.  False: refused.
    bool deliver(const std::string& service) {
        auto it = services_.find(service);
        if (it == services_.end()) return false;
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return false;
        std::string hello = "hello from the peer\n";
        if (::write(sv[1], hello.data(), hello.size()) < 0) {
        }
        channel_fds.push_back(sv[1]);
        return it->second.second(service, "hci0", make_id(1), sv[0]);
    }
    void mint(const std::string& adapter, const std::string& peer_id, const std::string& kind) {
        SessionView s;
        s.adapter = adapter;
        s.peer_id = peer_id;
        s.peer_id_hex = hex_of(peer_id);
        s.address = "AA:BB:CC:00:00:99";
        s.kind = kind;
        s.role = "responder";
        s.epoch = 7;
        s.not_before = 1700000000;
        s.not_after = 1700003600;
        s.fingerprint = std::string(64, 'f');
        s.short_code = "123456";
        s.state = "live";
        sessions_.push_back(s);
        if (listener_.session_minted) listener_.session_minted(s);
    }
    void fail_attempt(const std::string& adapter, const std::string& address) {
        AttemptFailure f{adapter,
                         "",
                         address,
                         "HandshakeFailed",
                         "Noise.DecryptFailed",
                         "handshake failed: noise handshake failed: decryption failed"};
        if (listener_.attempt_failed) listener_.attempt_failed(f);
    }
    void request_approval(const std::string& adapter, const std::string& peer_id) {
        PendingApproval p{adapter, peer_id, "AA:BB:CC:00:00:77", "654321", 20, "responder"};
        approvals_.push_back(p);
        if (listener_.approval_requested) listener_.approval_requested(p);
    }
    void disconnect(const std::string& adapter, const std::string& peer_id) {
        end_session(adapter, peer_id, "disconnected");
    }
    void rename_peer(const std::string& peer_id, const std::string& alias) {
        for (auto& p : peers_) {
            if (p.device_id != peer_id) continue;
            p.alias = alias;
            p.connected = true;
            if (listener_.peer_changed) listener_.peer_changed(p);
        }
    }
    void add_adapter(const std::string& name) {
        adapters_.push_back({name, "00:11:22:33:44:66", make_id(201), false, "central", false, 0});
        if (listener_.adapters_changed) listener_.adapters_changed();
    }

    bool throw_everything = false;
    std::vector<std::string> decisions;
    std::vector<int> channel_fds;   // the peer's ends of the channels
    std::vector<std::string> gone;  // owners whose services went with them
    ~FakeModel() override {
        for (int fd : channel_fds) ::close(fd);
    }

    // A newly stored peer, announced as the manager does.
    void add_peer(const std::string& adapter, const std::string& id, const std::string& addr) {
        add_peer_silently(adapter, id, addr, "");
        if (listener_.peer_added) listener_.peer_added(peers_.back());
    }

  private:
    void add_peer_silently(const std::string& adapter, const std::string& id,
                           const std::string& addr, const std::string& alias) {
        PeerView p;
        p.adapter = adapter;
        p.device_id = id;
        p.id_hex = hex_of(id);
        p.address = addr;
        p.alias = alias;
        p.role = "central";
        p.epoch = 3;
        p.created_unix = 1700000000;
        p.last_seen_unix = 1700000100;
        peers_.push_back(p);
    }
    std::vector<PeerView>::iterator find_peer(const std::string& adapter, const std::string& id) {
        return std::find_if(peers_.begin(), peers_.end(), [&](const PeerView& p) {
            return p.adapter == adapter && p.device_id == id;
        });
    }
    bool end_session(const std::string& adapter, const std::string& peer_id,
                     const std::string& reason) {
        auto it = std::find_if(sessions_.begin(), sessions_.end(), [&](const SessionView& s) {
            return s.adapter == adapter && s.peer_id == peer_id;
        });
        if (it == sessions_.end()) return false;
        SessionView v = *it;
        sessions_.erase(it);
        v.state = "invalidated";
        v.reason = reason;
        if (listener_.session_invalidated) listener_.session_invalidated(v);
        return true;
    }

    std::vector<AdapterView> adapters_;
    std::vector<PeerView> peers_;
    std::vector<SessionView> sessions_;
    std::vector<PendingApproval> approvals_;
    std::map<std::string, std::pair<std::string, ChannelDeliver>> services_;
};

}  // namespace br::test
