// SPDX-License-Identifier: MIT
// The org.blueratchet management API on the system bus, written against
// br::daemon::Model (daemon/model.hpp).  Interfaces: dbus/*.xml.
//
//   /org/blueratchet                              Manager1 + ObjectManager
//   /org/blueratchet/<adapter>                    Adapter1
//   /org/blueratchet/<adapter>/peer_<hex>         Peer1
//   /org/blueratchet/<adapter>/peer_<hex>/session Session1
//
// The manager is an sdbus-c++ object; everything at and under an adapter's
// path is served by sd-bus from fallback vtables and a node enumerator on
// that path (adapter_node.hpp), so 10,000 stored peers cost no object each.
//
// Construct it on the loop thread once the connection exists (requesting the
// bus name is the caller's business); it installs itself as the model's
// listener and keeps the objects in step with the model from then on.  Every
// handler answers: model failures become org.blueratchet.Error.<Name>, any
// other exception org.blueratchet.Error.Failed.  Nothing here blocks; the one
// bus call the API makes itself (the caller's uid, before exporting a private
// key) is asynchronous.
#pragma once

#include <sdbus-c++/IConnection.h>

#include <memory>
#include <string>

#include "daemon/loop.hpp"
#include "daemon/model.hpp"

namespace br::daemon {

class Api {
  public:
    Api(sdbus::IConnection& conn, Loop& loop, Model& model);
    ~Api();  // clears the model's listener and removes every object
    Api(const Api&) = delete;
    Api& operator=(const Api&) = delete;

    static std::string adapter_path(const std::string& adapter);
    static std::string peer_path(const std::string& adapter, const std::string& id_hex);
    static std::string session_path(const std::string& adapter, const std::string& id_hex);

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace br::daemon
