/* SPDX-License-Identifier: MIT */
/*
 * tests/model/ratchet.pml -- the two-sided ratchet commit of the resume
 * handshake, protocol 1.1 (docs/PROTOCOL.md sections 5, 6 and 8;
 * design notes: issue #10), for SPIN.
 *
 * Run by tests/model/run-spin (and so by ./scripts/test, meson test
 * 'ratchet-model').  Names follow the code:
 *   transitions  OFFER, CHOOSE, ADVANCE, COMMIT, PRUNE (src/core/ratchet/holdings.hpp)
 *   states       Initiator: Idle, SentResume1, AwaitPeerCert,
 *                           AwaitCommitConfirm, Done, Failed
 *                Responder: Idle, AwaitResumeCert, Done, Failed
 *                (src/core/handshake/engine.hpp; Crashed is the model's own:
 *                the process was killed, its volatile state is gone)
 *   messages     RESUME_1 (the distinct epochs A holds), RESUME_2 (no clear
 *                epoch: only the psk = (epoch, sid) it was made with),
 *                CERT_B, CERT_A, CONFIRM (B -> A once COMMIT is durable)
 *
 * The rules (S = the seed RESUME_2 decrypted with, S' = (epoch(S) + 1, new)):
 *   A  OFFER    send the distinct epochs held, ascending (1 or 2)
 *   B  CHOOSE   its one seed, if its epoch was offered (else NoCommonEpoch);
 *               no durable change
 *   A  ADVANCE  valid CERT_B, durable before CERT_A:
 *               H := [S] ++ keep ++ [S'], keep = the last-created seed of
 *               H with epoch > epoch(S), if any
 *   B  COMMIT   valid CERT_A, durable before CONFIRM: H_B := [S']
 *   A  PRUNE    valid CONFIRM, durable: H := the seeds of H with epoch > epoch(S)
 *
 * What is abstracted:
 *   - A seed is (epoch, sid).  sid names the connection whose handshake
 *     derived it: the pairing seed is (1, 0); seed_{e+1} = KDF(seed_e,
 *     "ratchet", h || ids) made in connection c is (e+1, c).  h covers both
 *     ephemerals, so two connections that both advance from epoch e make
 *     DIFFERENT seeds for e+1 -- "same epoch, different seed" is
 *     representable, and every property compares (epoch, sid), never epochs
 *     alone.  A's list is ordered by (epoch, sid): ascending epochs, equal
 *     epochs in creation order (sids grow with time).
 *   - Cryptographic binding: every message carries h1 = the connection whose
 *     RESUME_1 the handshake answers (A's ephemeral) and h2 = the responder
 *     instance (its ephemeral).  RESUME_2 carries the psk it was made with;
 *     A trial-decrypts with every seed it holds: a RESUME_2 made with a psk A
 *     does not hold, or answering another RESUME_1, fails (DecryptFailed).
 *     A CERT or CONFIRM under other transport keys fails to decrypt.  All end
 *     the handshake (Failed), as the engines do.
 *   - A's engine loads its holdings at start(); only A's own writes change
 *     them and no connection overlaps another, so the model reads A's
 *     durable holdings where the engine reads its copy.
 *
 * Faults, nondeterministic, at most MAXF per faulty connection:
 *   loss and duplication of any message, the attacker replaying any message
 *   it recorded earlier (an old RESUME_1 to B above all; also old RESUME_2,
 *   CERTs, CONFIRM), a crash of either side at every step (volatile state
 *   lost, durable holdings kept: writes are atomic, section 10), a failed
 *   durable write on either side (ADVANCE, COMMIT, PRUNE).  Messages the
 *   crashed side had already sent are still delivered.  Link timeouts end a
 *   connection when both sides wait; a missing CONFIRM is not an error, A
 *   keeps what ADVANCE wrote.
 *
 * The thief:
 *   - Theft: at most once, at any step before the clean connections
 *     (including in the middle of a faulty connection), the thief copies
 *     B's DURABLE holdings (never volatile state).  Those change only at
 *     COMMIT, so any copy is one of the values they took, and the model
 *     records them all (b_hist) instead of choosing the moment of the theft:
 *     a passive thief may hold any of them, and (d) is checked against every
 *     one at once; an active thief picks the value it stole when its
 *     connection starts (any value B held until then).  An attacker never
 *     wipes: the thief keeps the stolen seed even after it COMMITs.
 *   - Active thief: after the theft, one faulty connection may be
 *     A <-> thief instead of A <-> B: the thief runs the responder's logic
 *     (CHOOSE, COMMIT into its own holdings, CONFIRM) with faults allowed.
 *
 * Connections run one after another: up to NCONN faulty connections (the
 * faulty phase may stop after any of them), then two clean connections
 * (no faults, no thief).
 *
 * Properties (assert; any violation is an error of ./pan).  "B is tracked"
 * (TRACK_B) unless an active thief connection started without (e)'s
 * precondition: A cannot tell B from an exact copy, so a thief that resumes
 * from B's current seed may strand B (the residual, SECURITY.md section 2).
 *   (a) shared: while B is tracked, A's and B's durable holdings share an
 *       identical (epoch, sid); asserted atomically with every durable write
 *       (the only steps that change them), so it holds in every reachable
 *       state.
 *   (b) shape: B (and the thief) hold one current seed; A holds 1..3 seeds,
 *       strictly ordered by (epoch, sid), all epochs m or m+1 for some m, at
 *       most 2 with the same epoch, nothing older than B's epoch - 1; after
 *       COMMIT the responder holds exactly [S'].
 *   (c) from every reachable end-of-faulty-phase state with B tracked, a
 *       clean connection completes: both Done, B moved one epoch on, A
 *       received CONFIRM and pruned (it holds B's seed plus at most one
 *       sibling of the same epoch); a SECOND clean connection then leaves A
 *       holding exactly [B's seed].
 *   (d) R1: after the first clean connection (B tracked), no seed the thief
 *       holds or could have copied (any value B's holdings took before that
 *       connection) is held by A or B.
 *   (e) in the thief's connection: R2 at each of A's durable writes: every
 *       seed A held before the write with epoch > epoch(S) is still held,
 *       except that when A held two such seeds ADVANCE may replace the newer
 *       one (the documented bound).  And: if at its start A held a seed
 *       shared with B that is newer than every seed the thief holds, A
 *       still shares a seed with B after the thief's connection ((a) at
 *       every write in it), and the following clean connection locks the
 *       thief out ((d)).  With one thief connection, of two successors of S
 *       only the newer can be B's (the older one's chooser never committed
 *       it, or B would have chosen it), which is why ADVANCE keeps the
 *       last-created one.
 *
 * Deliberately broken variants (spin -DBROKEN_...), each must be refuted:
 *   BROKEN_EARLY_WIPE          ADVANCE keeps only S'                     (a)
 *   BROKEN_COMMIT_ON_RESUME1   B commits S' when it answers RESUME_1     (a)
 *   BROKEN_SEND_BEFORE_PERSIST A sends CERT_A before ADVANCE is durable  (a)
 *   BROKEN_EPOCH_AS_ID         ADVANCE takes an (epoch(S)+1) seed it
 *                              already holds for S' (same epoch taken
 *                              for the same seed)                       (a)
 *   BROKEN_NO_CONFIRM          A never prunes (protocol 1.0)             (d)
 *   BROKEN_REPLACE_NEWER       ADVANCE := [S, S'] (1.0: drops a newer
 *                              successor, audit item 1)                  (e)
 *   BROKEN_PRUNE_ON_CERT       A prunes at CERT_B, not on CONFIRM        (a)
 *   BROKEN_KEEP_OLDEST         ADVANCE keeps the FIRST-created seed newer
 *                              than S (an earlier draft of 1.1): a thief
 *                              answering after two faulty resumes
 *                              replaces the seed B committed             (e)
 *
 * Witnesses (spin -DWITNESS_...): each asserts (w) that a scenario never
 * happens, so each must be refuted: the scenario is reachable, and a run
 * through it passed every property up to the end of the second clean
 * connection (so the checks guarded by TRACK_B are not vacuous):
 *   WITNESS_THIEF_LOCKED_OUT   the thief's connection, with (e)'s
 *                              precondition, ends with A pruning on the
 *                              thief's CONFIRM (the design's example
 *                              [e, p] -> [e, p, t] -> [p, t])
 *   WITNESS_R2_KEPT            the thief's connection ends with A holding
 *                              [S, B's seed, the thief's S']
 *   WITNESS_THREE_SEEDS        the faulty phase ends with A holding 3 seeds
 *   WITNESS_STRANDED           (the residual) a thief without (e)'s
 *                              precondition leaves A sharing nothing with B
 *
 * Not modelled: two concurrent resumes of one pair (each could ADVANCE and
 * COMMIT a different S'; the daemon must not run them at once), reordering
 * (L2CAP is in order), ABORT (it only ends a handshake, as a crash of its
 * receiver does), pairing (the model starts from [(1,0)] on both sides),
 * version negotiation (1.0 fallback, pinning), the cryptography itself, the
 * store's own atomicity (section 10, taken as given), B's legacy two-seed
 * record, more than one thief connection (the documented residual).
 */

#ifndef NCONN
#define NCONN 3         /* faulty connections */
#endif
#ifndef MAXF
#define MAXF 2          /* faults per faulty connection */
#endif
#define MAXE (NCONN + 3)  /* highest epoch reachable: 1 + NCONN + 2 clean */
#if NCONN > 12
#error "PSK() packs (epoch, sid) into one byte: sid must stay below 16"
#endif

mtype = { RESUME_1, RESUME_2, CERT_B, CERT_A, CONFIRM };
mtype = { Idle, SentResume1, AwaitPeerCert, AwaitCommitConfirm, AwaitResumeCert,
          Done, Failed, Crashed };

typedef Seed { byte e; byte sid };

#define B 0             /* responders: the real B ... */
#define T 1             /* ... and the thief */

/* ---- durable holdings ---- */
Seed a_held[3]; byte a_n;  /* A: 1..3 seeds, ordered by (epoch, sid); unused = (0,0) */
Seed r_held[2];            /* [B]: B's one seed; [T]: the thief's current seed */

/* ---- the thief ---- */
byte b_hist[MAXE + 1];     /* b_hist[e]: the sid of the seed B held at epoch e, i.e.
                              every value B's durable holdings took: what a thief
                              may have copied */
Seed t_kept;               /* what the active thief stole (it never wipes it) */
byte tconn;                /* the thief's connection: 0 not yet, 1 running, 2 over */
bool tguard;               /* (e)'s precondition, at the start of the thief's connection */

#if defined(WITNESS_THIEF_LOCKED_OUT) || defined(WITNESS_R2_KEPT) || defined(WITNESS_THREE_SEEDS)
#define WITNESS
bool seen;                 /* the witness's scenario happened */
#endif

/* ---- engine states, for the properties and the trails ---- */
mtype a_st = Idle;
mtype r_st = Idle;         /* the responder of this connection (B or the thief) */

/* ---- the link: type, h1, h2, p, q ----
 * RESUME_1: h1 = A's connection, p/q = offered epochs (q = 0: one offered)
 * RESUME_2: h1, h2 = the responder's instance, q = PSK(epoch, sid) of the
 *           seed it was made with (NOT in clear: nothing an attacker can edit)
 * CERT_B, CERT_A: h1, h2;  CONFIRM: h1, h2, p = the committed epoch */
chan AtoB = [4] of { mtype, byte, byte, byte, byte };
chan BtoA = [4] of { mtype, byte, byte, byte, byte };

/* ---- faults ---- */
bool faulty;               /* the faulty phase (false: the clean connections) */
byte faults;
#define FAULT (faulty && faults < MAXF)

/* the attacker: one recorded message per direction, from any earlier point */
bool ab_have; mtype ab_t; byte ab_1, ab_2, ab_3, ab_4;
bool ba_have; mtype ba_t; byte ba_1, ba_2, ba_3, ba_4;

/* the psk a RESUME_2 was made with, as one byte: (epoch, sid) */
#define PSK(e, sid) ((e) * 16 + (sid))

#define SAME(x, y) (x.e == y.e && x.sid == y.sid)
#define LESS(x, y) (x.e < y.e || (x.e == y.e && x.sid < y.sid))
#define A_HOLDS(x) ((a_n > 0 && SAME(a_held[0], x)) || (a_n > 1 && SAME(a_held[1], x)) \
    || (a_n > 2 && SAME(a_held[2], x)))
#define SHARED A_HOLDS(r_held[B])
#define TRACK_B (tconn == 0 || tguard)
#define A_ZERO(i) (a_held[i].e == 0 && a_held[i].sid == 0)

inline check_durable() {
    assert(a_n >= 1 && a_n <= 3);                                 /* (b) */
    assert(a_n < 2 || LESS(a_held[0], a_held[1]));                /* (b) ordered */
    assert(a_n < 3 || LESS(a_held[1], a_held[2]));                /* (b) ordered */
    assert(a_held[a_n - 1].e <= a_held[0].e + 1);                 /* (b) epochs m, m+1 */
    assert(a_n < 3 || a_held[0].e != a_held[2].e);                /* (b) <= 2 per epoch */
    assert((a_n > 1 || A_ZERO(1)) && (a_n > 2 || A_ZERO(2)));     /* (b) */
    assert(a_held[0].e >= 1 && a_held[a_n - 1].e <= MAXE);        /* (b) */
    assert(r_held[B].e >= 1 && r_held[B].e <= MAXE && r_held[T].e <= MAXE); /* (b) */
    assert(a_held[0].e + 1 >= r_held[B].e);                       /* (b) nothing older than B's - 1 */
    assert(tconn == 1 || !TRACK_B || SHARED);                     /* (a) */
    assert(tconn != 1 || !tguard || SHARED)                       /* (e) shared with B */
}

/* Sends one message; in the faulty phase it may be lost or duplicated, and
 * the attacker may record it. */
inline send_ab(t, x1, x2, x3, x4) {
    atomic {
        if
        :: faulty -> ab_have = true; ab_t = t; ab_1 = x1; ab_2 = x2; ab_3 = x3; ab_4 = x4
        :: skip
        fi;
        if
        :: AtoB!t, x1, x2, x3, x4; printf("  A -> %c  %e(%d,%d,%d,%d)\n", rn, t, x1, x2, x3, x4)
        :: FAULT -> faults++; printf("  A -> %c  %e LOST\n", rn, t)
        :: FAULT -> faults++; AtoB!t, x1, x2, x3, x4; AtoB!t, x1, x2, x3, x4;
           printf("  A -> %c  %e(%d,%d,%d,%d) DUPLICATED\n", rn, t, x1, x2, x3, x4)
        fi
    }
}
inline send_ba(t, x1, x2, x3, x4) {
    atomic {
        if
        :: faulty -> ba_have = true; ba_t = t; ba_1 = x1; ba_2 = x2; ba_3 = x3; ba_4 = x4
        :: skip
        fi;
        if
        :: BtoA!t, x1, x2, x3, x4; printf("  %c -> A  %e(%d,%d,%d,%d)\n", rn, t, x1, x2, x3, x4)
        :: FAULT -> faults++; printf("  %c -> A  %e LOST\n", rn, t)
        :: FAULT -> faults++; BtoA!t, x1, x2, x3, x4; BtoA!t, x1, x2, x3, x4;
           printf("  %c -> A  %e(%d,%d,%d,%d) DUPLICATED\n", rn, t, x1, x2, x3, x4)
        fi
    }
}

/* (e) R2, at A's durable writes in the thief's connection: every seed held
 * before the write (before[0 .. bn-1]) with epoch > epoch(S) is still held;
 * only ADVANCE (adv) may replace the first (older) of two such seeds
 * (BROKEN_KEEP_OLDEST: the second, newer one). */
#ifndef BROKEN_KEEP_OLDEST
#define R2_BOUND (k == 1 && bn == 3 && before[1].e > s.e)
#else
#define R2_BOUND (k == 2)
#endif
inline r2_check(adv) {
    if
    :: tconn == 1 ->
        i = 0; k = 0;
        do
        :: i < bn ->
            if
            :: before[i].e > s.e -> k++;
                assert(A_HOLDS(before[i]) || (adv && R2_BOUND))  /* (e) R2 */
            :: else
            fi;
            i++
        :: else -> break
        od
    :: else
    fi
}

/* A's durable holdings -> before[], bn (for (e)) */
inline snapshot() {
    before[0].e = a_held[0].e; before[0].sid = a_held[0].sid;
    before[1].e = a_held[1].e; before[1].sid = a_held[1].sid;
    before[2].e = a_held[2].e; before[2].sid = a_held[2].sid;
    bn = a_n
}
inline forget() {  /* transient locals back to 0: fewer distinct states */
    before[0].e = 0; before[0].sid = 0; before[1].e = 0; before[1].sid = 0;
    before[2].e = 0; before[2].sid = 0; bn = 0; i = 0; k = 0
}
#define A_HELD a_held[0].e, a_held[0].sid, a_held[1].e, a_held[1].sid, a_held[2].e, a_held[2].sid

/* PRUNE: H := the seeds of H with epoch > epoch(S) */
inline prune() {
    snapshot();
    a_n = 0; i = 0;
    do
    :: i < bn && before[i].e > s.e ->
        a_held[a_n].e = before[i].e; a_held[a_n].sid = before[i].sid; a_n++; i++
    :: i < bn && before[i].e <= s.e -> i++
    :: else -> break
    od;
    i = a_n;
    do
    :: i < 3 -> a_held[i].e = 0; a_held[i].sid = 0; i++
    :: else -> break
    od;
    assert(a_n >= 1 && SAME(a_held[a_n - 1], nw));                 /* (b) S' kept */
    printf("  A PRUNE: holds (%d,%d) (%d,%d) (%d,%d)\n", A_HELD);
    r2_check(false);
    check_durable();
    forget()
}

/* ------------------------------------------------------------ Initiator (A) */
proctype Initiator(byte c; byte rn) {
    Seed s;                    /* S: the seed RESUME_2 decrypted with */
    Seed nw;                   /* S' = (epoch(S) + 1, the responder's instance) */
    byte peer;                 /* the responder's instance (its ephemeral) */
    Seed before[3]; byte bn;   /* A's holdings before a write, for (e) */
    byte i, k;
    byte o1, o2;               /* the offer */
    mtype t; byte h1, h2, p, q;

    /* start(): load the holdings, OFFER the distinct epochs held */
    d_step {
        a_st = Idle;
        o1 = a_held[0].e;
        o2 = (a_held[a_n - 1].e != o1 -> a_held[a_n - 1].e : 0)
    }
    if
    :: atomic { FAULT -> faults++; a_st = Crashed; printf("  A CRASHES\n") }; goto gone
    :: skip
    fi;
OFFER:
    send_ab(RESUME_1, c, 0, o1, o2);
    d_step { o1 = 0; o2 = 0; a_st = SentResume1 }

    do
    :: BtoA?t, h1, h2, p, q ->
dispatch:
        if
        :: t == RESUME_2 && a_st == SentResume1 ->
            d_step {   /* trial decryption with every seed held */
                s.e = 0;
                i = 0;
                do
                :: h1 == c && i < a_n && PSK(a_held[i].e, a_held[i].sid) == q ->
                    s.e = a_held[i].e; s.sid = a_held[i].sid; break
                :: h1 == c && i < a_n && PSK(a_held[i].e, a_held[i].sid) != q -> i++
                :: else -> break
                od;
                i = 0;
                if
                :: s.e == 0 -> a_st = Failed    /* DecryptFailed: another RESUME_1, or a psk not held */
                :: else -> nw.e = s.e + 1; nw.sid = h2; peer = h2; a_st = AwaitPeerCert;
                    printf("  A decrypts RESUME_2 with (%d,%d)\n", s.e, s.sid)
                fi
            }
        :: t == CERT_B && a_st == AwaitPeerCert ->
            if
            :: h1 != c || h2 != peer -> a_st = Failed  /* other transport keys */
            :: else ->
#ifdef BROKEN_SEND_BEFORE_PERSIST
                send_ab(CERT_A, c, peer, 0, 0);
                if
                :: atomic { FAULT -> faults++; a_st = Crashed; printf("  A CRASHES\n") }; break
                :: skip
                fi;
#endif
ADVANCE:
                if
                :: atomic { FAULT -> faults++; a_st = Failed; printf("  A ADVANCE write FAILS\n") }
                :: d_step {
                    snapshot();
                    /* keep: the last-created seed held with epoch > epoch(S)
                     * (BROKEN_KEEP_OLDEST: the first one); k = its index + 1 */
                    k = 0; i = 0;
                    do
#ifndef BROKEN_KEEP_OLDEST
                    :: i < bn && before[i].e > s.e -> k = i + 1; i++    /* the last one */
#else
                    :: i < bn && before[i].e > s.e -> k = i + 1; break
#endif
                    :: i < bn && before[i].e <= s.e -> i++
                    :: else -> break
                    od;
                    a_held[0].e = s.e; a_held[0].sid = s.sid;
#if defined(BROKEN_EARLY_WIPE)
                    a_held[0].e = nw.e; a_held[0].sid = nw.sid;
                    a_held[1].e = 0; a_held[1].sid = 0; a_n = 1;
#elif defined(BROKEN_REPLACE_NEWER)
                    a_held[1].e = nw.e; a_held[1].sid = nw.sid; a_n = 2;
#elif defined(BROKEN_EPOCH_AS_ID)
                    if   /* "already have epoch(S) + 1": taken for S' */
                    :: k > 0 -> nw.e = before[k - 1].e; nw.sid = before[k - 1].sid
                    :: else
                    fi;
                    a_held[1].e = nw.e; a_held[1].sid = nw.sid; a_n = 2;
#else
                    if
                    :: k > 0 ->
                        a_held[1].e = before[k - 1].e; a_held[1].sid = before[k - 1].sid;
                        a_held[2].e = nw.e; a_held[2].sid = nw.sid; a_n = 3
                    :: else ->
                        a_held[1].e = nw.e; a_held[1].sid = nw.sid; a_n = 2
                    fi;
                    assert(SAME(a_held[0], s) && SAME(a_held[a_n - 1], nw));  /* (b) */
#endif
                    i = a_n;
                    do
                    :: i < 3 -> a_held[i].e = 0; a_held[i].sid = 0; i++
                    :: else -> break
                    od;
                    printf("  A ADVANCE: holds (%d,%d) (%d,%d) (%d,%d)\n", A_HELD);
                    r2_check(true);
                    check_durable();
                    forget()
                   }
                fi;
#ifdef BROKEN_PRUNE_ON_CERT
                if
                :: a_st != Failed -> d_step { prune() }
                :: else
                fi;
#endif
                if
                :: a_st == Failed -> skip
                :: else ->
#ifndef BROKEN_SEND_BEFORE_PERSIST
                    if   /* killed between the write and the send */
                    :: atomic { FAULT -> faults++; a_st = Crashed; printf("  A CRASHES\n") }; break
                    :: skip
                    fi;
                    send_ab(CERT_A, c, peer, 0, 0);
#endif
                    a_st = AwaitCommitConfirm   /* A's session is ready */
                fi
            fi
        :: t == CONFIRM && a_st == AwaitCommitConfirm ->
            if
            :: h1 != c || h2 != peer -> a_st = Failed  /* other transport keys */
            :: else ->
                assert(p == nw.e);      /* only this handshake's responder can send it */
#ifdef BROKEN_NO_CONFIRM
                a_st = Done             /* 1.0: A never prunes */
#else
PRUNE:
                if
                :: atomic { FAULT -> faults++; a_st = Failed; printf("  A PRUNE write FAILS\n") }
                :: d_step { prune(); a_st = Done }
                fi
#endif
            fi
        :: else -> a_st = Failed                        /* UnexpectedMessage */
        fi;
        if
        :: a_st == Failed || a_st == Done -> break
        :: else
        fi
    :: atomic { FAULT -> faults++; a_st = Crashed; printf("  A CRASHES\n") }; break
    :: atomic { FAULT && ba_have -> faults++;             /* attacker replays to A */
                t = ba_t; h1 = ba_1; h2 = ba_2; p = ba_3; q = ba_4;
                printf("  attacker -> A  old %e(%d,%d,%d,%d)\n", t, h1, h2, p, q) }; goto dispatch
    :: timeout -> break                                  /* the link timed out */
    od;
gone:
    skip
}

/* ------------------------------------- Responder (the real B, or the thief) */
proctype Responder(byte c; byte who; byte rn) {
    byte hid;                  /* the RESUME_1 this handshake answers */
    Seed s;                    /* CHOOSE's seed */
    Seed nw;                   /* S' = (epoch(S) + 1, this instance) */
    mtype t; byte h1, h2, p, q;

    do
    :: AtoB?t, h1, h2, p, q ->
dispatch:
        if
        :: t == RESUME_1 && r_st == Idle ->
CHOOSE:
            d_step {   /* its one seed, if its epoch was offered; no durable change */
                if
                :: r_held[who].e == p || (q != 0 && r_held[who].e == q) ->
                    s.e = r_held[who].e; s.sid = r_held[who].sid;
                    hid = h1; nw.e = s.e + 1; nw.sid = c;
                    printf("  %c CHOOSE: (%d,%d)\n", rn, s.e, s.sid)
                :: else -> r_st = Failed;            /* NoCommonEpoch */
                    printf("  %c: NoCommonEpoch\n", rn)
                fi
            }
            if
            :: r_st == Failed -> skip
            :: else ->
#ifdef BROKEN_COMMIT_ON_RESUME1
                if
                :: atomic { FAULT -> faults++; r_st = Failed }
                :: d_step { r_held[who].e = nw.e; r_held[who].sid = nw.sid;
                            if :: who == B -> b_hist[nw.e] = nw.sid :: else fi;
                            printf("  %c COMMIT (on RESUME_1): holds (%d,%d)\n", rn, nw.e, nw.sid);
                            check_durable() }
                fi;
#endif
                if
                :: r_st == Failed -> skip
                :: else ->
                    send_ba(RESUME_2, hid, c, 0, PSK(s.e, s.sid));
                    if
                    :: atomic { FAULT -> faults++; r_st = Crashed; printf("  %c CRASHES\n", rn) }
                    :: skip
                    fi;
                    if
                    :: r_st == Crashed -> skip
                    :: else -> send_ba(CERT_B, hid, c, 0, 0); r_st = AwaitResumeCert
                    fi
                fi
            fi
        :: t == CERT_A && r_st == AwaitResumeCert ->
            if
            :: h1 != hid || h2 != c -> r_st = Failed        /* other transport keys */
            :: else ->
COMMIT:
                if
                :: atomic { FAULT -> faults++; r_st = Failed; printf("  %c COMMIT write FAILS\n", rn) }
                :: d_step {
                    r_held[who].e = nw.e; r_held[who].sid = nw.sid;
                    if
                    :: who == B -> b_hist[nw.e] = nw.sid   /* a value a thief may copy */
                    :: else
                    fi;
                    printf("  %c COMMIT: holds (%d,%d)\n", rn, nw.e, nw.sid);
                    assert(nw.e == s.e + 1 && nw.sid == c);               /* (b) exactly [S'] */
                    check_durable()
                   }
                fi;
                if
                :: r_st == Failed -> skip
                :: else ->
                    if   /* killed between the write and the send */
                    :: atomic { FAULT -> faults++; r_st = Crashed; printf("  %c CRASHES\n", rn) }
                    :: skip
                    fi;
                    if
                    :: r_st == Crashed -> skip
                    :: else -> send_ba(CONFIRM, hid, c, nw.e, 0); r_st = Done
                    fi
                fi
            fi
        :: else -> r_st = Failed                           /* UnexpectedMessage */
        fi;
        if
        :: r_st == Failed || r_st == Done || r_st == Crashed -> break
        :: else
        fi
    :: atomic { FAULT -> faults++; r_st = Crashed; printf("  %c CRASHES\n", rn) }; break
    :: atomic { FAULT && ab_have -> faults++;             /* attacker replays to the responder */
                t = ab_t; h1 = ab_1; h2 = ab_2; p = ab_3; q = ab_4;
                printf("  attacker -> %c  old %e(%d,%d,%d,%d)\n", rn, t, h1, h2, p, q) }; goto dispatch
    :: timeout -> break
    od
}

/* ------------------------------------------------------------ connections */
inline connection(cc, who) {
    atomic {
        /* a new link: nothing of the last one is in flight */
        do
        :: AtoB?_, _, _, _, _
        :: BtoA?_, _, _, _, _
        :: empty(AtoB) && empty(BtoA) -> break
        od;
        faults = 0; a_st = Idle; r_st = Idle;
        printf("connection %d (faulty %d) A <-> %c: A holds (%d,%d) (%d,%d) (%d,%d), B (%d,%d), thief (%d,%d)+(%d,%d)\n",
               cc, faulty, (who == B -> 'B' : 'T'),
               a_held[0].e, a_held[0].sid, a_held[1].e, a_held[1].sid, a_held[2].e, a_held[2].sid,
               r_held[B].e, r_held[B].sid, r_held[T].e, r_held[T].sid, t_kept.e, t_kept.sid);
        run Initiator(cc, (who == B -> 'B' : 'T'));
        run Responder(cc, who, (who == B -> 'B' : 'T'))
    }
    (_nr_pr == 1)
}

init {
    byte c = 1;
    byte e0, i;
    Seed s;
    d_step {   /* after pairing: both hold [(1, 0)] */
        a_held[0].e = 1; a_held[0].sid = 0; a_n = 1;
        r_held[B].e = 1; r_held[B].sid = 0;
        b_hist[1] = 0;
        faulty = true;
        check_durable()
    }
    do
    :: c <= NCONN ->
        if
        :: connection(c, B)
        :: tconn == 0 ->
            atomic {   /* the thief: a copy of any value B's holdings took so far */
                select(i : 1 .. r_held[B].e);
                t_kept.e = i; t_kept.sid = b_hist[i];
                r_held[T].e = i; r_held[T].sid = b_hist[i];
                printf("  the thief copied B's holdings when they were (%d,%d)\n", t_kept.e, t_kept.sid)
            }
            d_step {   /* (e)'s precondition */
                i = 0;   /* A's seeds newer than the thief's start at i */
                do
                :: i < a_n && a_held[i].e <= r_held[T].e -> i++
                :: else -> break
                od;
                tguard = ((i < a_n && SAME(a_held[i], r_held[B]))
                       || (i + 1 < a_n && SAME(a_held[i + 1], r_held[B]))
                       || (i + 2 < a_n && SAME(a_held[i + 2], r_held[B])));
                i = 0; tconn = 1;
                printf("  the thief's connection; (e)'s precondition: %d\n", tguard)
            }
            connection(c, T);
            tconn = 2;
#if defined(WITNESS_THIEF_LOCKED_OUT)
            seen = (tguard && a_st == Done);
#elif defined(WITNESS_R2_KEPT)
            seen = (tguard && a_n == 3 && SAME(a_held[1], r_held[B]));
#elif defined(WITNESS_STRANDED)
            assert(SHARED);                                         /* (w) */
#endif
            assert(!tguard || SHARED)                               /* (e) */
        fi;
        c++
    :: break
    od;

    /* B stranded by an active thief (the residual): nothing left to check */
    if
    :: !TRACK_B -> goto fin
    :: else
    fi;

#ifdef WITNESS_THREE_SEEDS
    seen = (a_n == 3);
#endif
    /* (c): a clean connection from here must complete the resume */
    faulty = false;
    e0 = r_held[B].e;
    connection(c, B);
    /* (d) R1: A and B hold nothing the thief holds or may have copied */
    i = 1;
    do
    :: i <= e0 ->
        s.e = i; s.sid = b_hist[i];
        assert(!A_HOLDS(s) && !SAME(r_held[B], s));                  /* (d) */
        i++
    :: else -> break
    od;
    assert(tconn == 0 || (!A_HOLDS(r_held[T]) && !SAME(r_held[B], r_held[T])));  /* (d) */
    assert(a_st == Done && r_st == Done);                            /* (c) */
    assert(r_held[B].e == e0 + 1 && SHARED);                         /* (c) */
    assert(a_held[0].e == r_held[B].e && a_held[a_n - 1].e == r_held[B].e
           && a_n <= 2);                                             /* (c) B's + <= 1 sibling */
    /* ... and a second one leaves A holding exactly [B's seed] */
    c++;
    connection(c, B);
    assert(a_st == Done && r_st == Done);                            /* (c) */
    assert(a_n == 1 && SAME(a_held[0], r_held[B]));                  /* (c) */
#ifdef WITNESS
    assert(!seen);                                                   /* (w) */
#endif
fin:
    skip
}
