// SPDX-License-Identifier: MIT
/* blueratchetd plugin ABI, version 1.  docs/PLUGINS.md describes it in full.
 *
 * A plugin is a shared object in the daemon's plugin directory
 * (<libdir>/blueratchet/plugins/<name>.so) that exports one C symbol:
 *
 *     const struct br_plugin* blueratchet_plugin_v1(void);
 *
 * The daemon dlopen()s the plugins its configuration names, calls that
 * symbol, and refuses the plugin (naming the file and the reason) if the
 * symbol is missing, abi_version is not BLUERATCHET_PLUGIN_ABI_VERSION, the
 * name is not the file's name, a callback its kind needs is NULL, or init()
 * fails or does not return within the call timeout.
 *
 * Threading: every callback of one plugin runs on that plugin's own worker
 * thread, one at a time, in the order the events happened; never on the
 * daemon's event-loop thread.  A callback that does not return within
 * br_host.call_timeout_ms marks the plugin misbehaving: it is disabled for
 * the rest of the daemon's life (a pending approval is refused, hooks are
 * skipped).  The functions in struct br_host may be called from any thread
 * between init() and the return of fini().
 *
 * Every pointer handed to a callback is valid only during that call: copy
 * what you keep.  Strings are NUL-terminated UTF-8, never NULL unless the
 * field says so.
 */
#ifndef BLUERATCHET_PLUGIN_H
#define BLUERATCHET_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BLUERATCHET_PLUGIN_ABI_VERSION 1
#define BLUERATCHET_PLUGIN_SYMBOL "blueratchet_plugin_v1"

/* Export the entry point with default visibility whatever -fvisibility says. */
#if defined(__GNUC__)
#define BLUERATCHET_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define BLUERATCHET_PLUGIN_EXPORT
#endif

/* Verdicts on a first contact. */
enum br_verdict {
    BR_REJECT = 0,
    BR_APPROVE = 1,
    BR_PENDING = 2 /* approve() only: the verdict comes later, through host->approval_decide() */
};

/* br_plugin.flags: what the plugin is for (at least one kind). */
#define BR_PLUGIN_APPROVAL 0x1u /* decides first contacts: [General] Approval = <name> */
#define BR_PLUGIN_SESSION_HOOKS                                      \
    0x2u /* told of mints and invalidations: [Plugins] Load = <name> \
          */
/* Flag: hand this plugin the session's private key (br_session_info.key_pem).
 * Without it key_pem is always NULL. */
#define BR_PLUGIN_WANTS_PRIVATE_KEY 0x100u

/* host->log() levels (journald priorities). */
enum br_log_level { BR_LOG_ERROR = 3, BR_LOG_WARNING = 4, BR_LOG_INFO = 6, BR_LOG_DEBUG = 7 };

/* One "Key = value" line of the plugin's [Plugin:<name>] section. */
struct br_kv {
    const char* key;
    const char* value;
};

/* A first contact waiting for an approval id's verdict.  Ids are never reused. */
typedef uint64_t br_approval_id;

/* What the daemon offers a plugin.  One instance per plugin, valid from
 * init() until fini() returns. */
struct br_host {
    uint32_t abi_version;     /* BLUERATCHET_PLUGIN_ABI_VERSION */
    uint32_t call_timeout_ms; /* a callback running longer disables the plugin */
    const char* plugin_name;  /* the name the daemon loaded it as */
    const char* plugin_path;  /* the file */

    /* One log line, prefixed by the daemon with "plugin <name>: ". */
    void (*log)(const struct br_host* host, int level, const char* message);

    /* The verdict on a first contact approve() answered BR_PENDING for:
     * BR_APPROVE or BR_REJECT.  Any thread, once.  Returns 0 if accepted,
     * -1 if the id is unknown or already decided (timed out, link lost),
     * -2 for a bad verdict. */
    int (*approval_decide)(const struct br_host* host, br_approval_id id, int verdict);

    /* Shortens how long the daemon waits for a pending approval (never
     * lengthens it beyond br_first_contact.timeout_seconds).  Call it from
     * approve() before returning BR_PENDING so that `blueratchetctl monitor`
     * shows the right expiry.  Returns 0, or -1 for an unknown id. */
    int (*approval_set_timeout)(const struct br_host* host, br_approval_id id, uint32_t seconds);
};

/* A peer's first contact, as either side sees it once the peer's identity
 * and the short code are known: since protocol 1.1 both the responder (the
 * BLE peripheral) and the initiator (the central) ask their approval plugin,
 * and a pairing needs both verdicts. */
struct br_first_contact {
    const char* adapter;               /* "hci0" */
    const char* adapter_address;       /* "AA:BB:CC:DD:EE:FF" */
    const char* peer_id;               /* the peer's identity, base64url (43 characters) */
    const char* peer_id_hex;           /* the same, lowercase hex (64 characters) */
    const char* address;               /* the peer's BLE address ("" if unknown) */
    const char* short_code;            /* 6 digits both users can compare */
    int pairing_window_open;           /* 1 while the adapter's pairing window is open */
    uint32_t pairing_window_remaining; /* seconds */
    uint32_t timeout_seconds;          /* the daemon refuses a pending approval after this long */
    const char* role;                  /* ours: "responder" (peripheral) or "initiator" (central);
                                          appended in protocol 1.1, ABI version unchanged */
};

/* A session certificate pair, on mint and on invalidation. */
struct br_session_info {
    const char* adapter;
    const char* adapter_address;
    const char* peer_id;     /* base64url */
    const char* peer_id_hex; /* lowercase hex */
    const char* address;     /* the peer's BLE address */
    const char* kind;        /* "pair" or "resume" */
    const char* role;        /* our role: "initiator" or "responder" */
    uint32_t epoch;
    const char* fingerprint; /* lowercase hex, 64 characters, the same on both sides */
    const char* short_code;
    int64_t not_before; /* unix seconds */
    int64_t not_after;
    const char* cert_pem;      /* our session certificate, PEM "CERTIFICATE" */
    const char* peer_cert_pem; /* the peer's, PEM "CERTIFICATE" */
    /* SECRET: our session private key, PEM "PRIVATE KEY" (PKCS#8).  NULL
     * unless flags has BR_PLUGIN_WANTS_PRIVATE_KEY, and always NULL in
     * session_invalidated() (the key is wiped by then).  The daemon wipes
     * its copy after the call; wipe yours when you are done. */
    const char* key_pem;
};

struct br_plugin {
    uint32_t abi_version; /* BLUERATCHET_PLUGIN_ABI_VERSION */
    const char* name;     /* must equal the file name without ".so" */
    uint32_t flags;       /* BR_PLUGIN_* */

    /* Required.  `config` holds the [Plugin:<name>] section (n_config
     * entries, in file order).  Returns 0 and sets *state, or non-zero with
     * a one-line reason in `error` (error_size bytes, NUL-terminated). */
    int (*init)(const struct br_host* host, const struct br_kv* config, size_t n_config,
                void** state, char* error, size_t error_size);

    /* BR_PLUGIN_APPROVAL: required.  BR_APPROVE, BR_REJECT, or BR_PENDING
     * (then the verdict comes through host->approval_decide(id)). */
    int (*approve)(void* state, const struct br_first_contact* contact, br_approval_id id);

    /* Optional: an operator's verdict (`blueratchetctl approve|reject`) on a
     * pending approval of this plugin.  The plugin answers through
     * host->approval_decide(id).  Without it, operators cannot decide. */
    void (*operator_verdict)(void* state, br_approval_id id, int verdict);

    /* Optional: a pending approval ended without the plugin's verdict
     * (timeout, link lost, daemon stopping); the id is dead. */
    void (*approval_cancelled)(void* state, br_approval_id id);

    /* BR_PLUGIN_SESSION_HOOKS: at least one of the two.  Mints reach the
     * hook plugins one after the other, in [Plugins] Load order;
     * invalidations reach each plugin at once, and only for sessions it
     * was told were minted.  `reason` is LinkLost, Expired, Revoked,
     * Replaced or Shutdown. */
    void (*session_minted)(void* state, const struct br_session_info* session);
    void (*session_invalidated)(void* state, const struct br_session_info* session,
                                const char* reason);

    /* Optional: the daemon is stopping (or the plugin is being refused
     * after init()); free everything.  Not called on a disabled plugin. */
    void (*fini)(void* state);
};

typedef const struct br_plugin* (*br_plugin_entry_v1)(void);

#ifdef __cplusplus
}
#endif

#endif /* BLUERATCHET_PLUGIN_H */
