/*
 * tests/model/ratchet.pml -- the two-sided ratchet commit of the resume
 * handshake (docs/PROTOCOL.md sections 5, 6 and 8), for SPIN.
 *
 * Run by tests/model/run-spin (and so by ./scripts/test, meson test
 * 'ratchet-model').  Names follow the code:
 *   transitions  OFFER, CHOOSE, ADVANCE, COMMIT   (src/core/ratchet/holdings.hpp)
 *   states       Initiator: Idle, SentResume1, AwaitPeerCert, Done, Failed
 *                Responder: Idle, AwaitConfirm, Done, Failed
 *                (src/core/handshake/engine.hpp; Crashed is the model's own:
 *                the process was killed, its volatile state is gone)
 *   messages     RESUME_1 (offered epochs), RESUME_2 (chosen epoch, and the
 *                seed its psk came from), CERT_B, CERT_A (the confirmation)
 *
 * What is abstracted:
 *   - A seed is (epoch, sid).  sid names the handshake that derived it: the
 *     pairing seed is (1, 0); seed_{e+1} = KDF(seed_e, "ratchet", h || ids)
 *     made in connection c is (e+1, c).  h covers both ephemerals, so two
 *     connections that both advance from epoch e produce DIFFERENT seeds for
 *     e+1 -- "same epoch, different seed" is representable, and the
 *     properties compare (epoch, sid), never epochs alone.
 *   - Cryptographic binding: every message carries h1 = the connection whose
 *     RESUME_1 the handshake answers (A's ephemeral) and h2 = the responder
 *     instance (B's ephemeral).  A RESUME_2 that does not answer A's own
 *     RESUME_1, or whose psk is not the seed A holds for that epoch, fails to
 *     decrypt; a CERT under other transport keys fails to decrypt.  Both end
 *     the handshake (Failed), exactly as the engines do.
 *
 * Faults, nondeterministic, at most MAXF per connection (faulty phase):
 *   loss and duplication of any message, the attacker changing the chosen
 *   epoch (sent in clear) in RESUME_2, the attacker replaying any message
 *   it recorded earlier (an old RESUME_1 to B above all; also old CERT_A,
 *   RESUME_2, CERT_B), a crash of either side at every step (volatile state
 *   lost, durable holdings kept: writes are atomic, section 10), and a failed
 *   durable write on either side.  Messages the crashed side had already sent
 *   are still delivered.  Link timeouts end a connection when both sides wait.
 *
 * Connections run one after another (two interleaved resumes of the same
 * pair are NOT modelled: each could ADVANCE/COMMIT a different e+1):
 * NCONN faulty connections, the faulty phase may stop after any of them, and
 * then one clean connection (no faults) must complete.
 *
 * Properties (assert; any violation is an error of ./pan):
 *   (a) shared: A's and B's durable holdings share an identical (epoch, sid),
 *       asserted atomically with every durable write (the only steps that
 *       change them), so it holds in every reachable state.
 *   (b) no old seed survives a completed commit: after ADVANCE A holds exactly
 *       {e, e+1}; after COMMIT B holds exactly {e+1} and nobody holds anything
 *       older than e; at all times B holds one seed and A nothing older than
 *       B's epoch - 1.
 *   (c) from every reachable end-of-connection state a clean connection
 *       completes: both sides Done, B on e+1, A on {e, e+1} sharing e+1.
 *
 * Deliberately broken variants (spin -DBROKEN_...), each must be refuted:
 *   BROKEN_EARLY_WIPE          ADVANCE keeps only e+1 (drops seed e)
 *   BROKEN_COMMIT_ON_RESUME1   B commits e+1 when it answers RESUME_1
 *   BROKEN_SEND_BEFORE_PERSIST A sends CERT_A before its ADVANCE is durable
 *   BROKEN_EPOCH_AS_ID         ADVANCE keeps an e+1 seed it already held
 *                              (epoch taken for identity: same epoch,
 *                              different seed)
 */

#ifndef NCONN
#define NCONN 3         /* faulty connections */
#endif
#ifndef MAXF
#define MAXF 2          /* faults per faulty connection */
#endif
#define MAXE (NCONN + 2)  /* highest epoch reachable: 1 + NCONN + the clean one */

mtype = { RESUME_1, RESUME_2, CERT_B, CERT_A };
mtype = { Idle, SentResume1, AwaitPeerCert, AwaitConfirm, Done, Failed, Crashed };

typedef Seed { byte e; byte sid };

/* ---- durable holdings (ascending epochs, 1 or 2 entries) ---- */
Seed a_held[2]; byte a_n;
Seed b_held[2]; byte b_n;

/* ---- engine states, for the properties and the trails ---- */
mtype a_st = Idle;
mtype b_st = Idle;

/* ---- the link: type, h1, h2, p, q ----
 * RESUME_1: h1 = A's connection, p/q = offered epochs (q = 0: one offered)
 * RESUME_2: h1, h2 = B's instance, p = chosen epoch (in clear: an attacker
 *           may change it), q = PSK(epoch, sid) of the seed it was made with
 * CERT_B, CERT_A: h1, h2 */
chan AtoB = [4] of { mtype, byte, byte, byte, byte };
chan BtoA = [4] of { mtype, byte, byte, byte, byte };

/* ---- faults ---- */
bool faulty;
byte faults;
#define FAULT (faulty && faults < MAXF)

/* the attacker: one recorded message per direction, from any earlier point */
bool ab_have; mtype ab_t; byte ab_1, ab_2, ab_3, ab_4;
bool ba_have; mtype ba_t; byte ba_1, ba_2, ba_3, ba_4;

/* the psk a RESUME_2 was made with, as one byte: (epoch, sid) */
#define PSK(e, sid) ((e) * 16 + (sid))

#define SAME(x, y) (x.e == y.e && x.sid == y.sid)
#define SHARED (SAME(a_held[0], b_held[0]) \
    || (b_n > 1 && SAME(a_held[0], b_held[1])) \
    || (a_n > 1 && SAME(a_held[1], b_held[0])) \
    || (a_n > 1 && b_n > 1 && SAME(a_held[1], b_held[1])))
/* (b), the standing part: B holds one seed, A nothing older than B's epoch - 1 */
#define NO_OLD (b_n == 1 && a_held[0].e + 1 >= b_held[0].e)

inline check_durable() {
    assert(a_n >= 1 && a_n <= 2 && b_n >= 1 && b_n <= 2);
    assert(a_n == 1 || a_held[0].e < a_held[1].e);
    assert(b_n == 1 || b_held[0].e < b_held[1].e);
    assert(a_held[a_n - 1].e <= MAXE && b_held[b_n - 1].e <= MAXE);
    assert(SHARED);     /* (a) */
    assert(NO_OLD)      /* (b) */
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
        :: AtoB!t, x1, x2, x3, x4; printf("  A -> B  %e(%d,%d,%d,%d)\n", t, x1, x2, x3, x4)
        :: FAULT -> faults++; printf("  A -> B  %e LOST\n", t)
        :: FAULT -> faults++; AtoB!t, x1, x2, x3, x4; AtoB!t, x1, x2, x3, x4;
           printf("  A -> B  %e(%d,%d,%d,%d) DUPLICATED\n", t, x1, x2, x3, x4)
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
        :: BtoA!t, x1, x2, x3, x4; printf("  B -> A  %e(%d,%d,%d,%d)\n", t, x1, x2, x3, x4)
        :: FAULT -> faults++; printf("  B -> A  %e LOST\n", t)
        :: FAULT -> faults++; BtoA!t, x1, x2, x3, x4; BtoA!t, x1, x2, x3, x4;
           printf("  B -> A  %e(%d,%d,%d,%d) DUPLICATED\n", t, x1, x2, x3, x4)
        fi
    }
}

/* ------------------------------------------------------------ Initiator (A) */
proctype Initiator(byte c) {
    Seed held[2]; byte hn;     /* held_: the holdings start() loaded */
    Seed psk;                  /* the seed of the chosen epoch */
    Seed nw;                   /* new_seed_ for chosen + 1 */
    byte chosen;               /* chosen_epoch_ */
    byte peer_b;               /* B's instance (its ephemeral) */
    byte o1, o2;               /* the offer */
    mtype t; byte h1, h2, p, q;

    /* start(): load the holdings, OFFER the epochs held */
    atomic {
        a_st = Idle;
        held[0].e = a_held[0].e; held[0].sid = a_held[0].sid;
        held[1].e = a_held[1].e; held[1].sid = a_held[1].sid;
        hn = a_n;
        o1 = held[0].e; o2 = (hn > 1 -> held[1].e : 0)
    }
    if
    :: atomic { FAULT -> faults++; a_st = Crashed; printf("  A CRASHES\n") }; goto gone
    :: skip
    fi;
OFFER:
    send_ab(RESUME_1, c, 0, o1, o2);
    a_st = SentResume1;

    do
    :: BtoA?t, h1, h2, p, q ->
dispatch:
        if
        :: t == RESUME_2 && a_st == SentResume1 ->
            atomic {
                if
                :: h1 != c -> a_st = Failed            /* answers another RESUME_1: no decrypt */
                :: h1 == c && hn > 0 && held[0].e == p -> psk.e = p; psk.sid = held[0].sid
                :: h1 == c && hn > 1 && held[1].e == p -> psk.e = p; psk.sid = held[1].sid
                :: else -> a_st = Failed                /* EpochNotOffered */
                fi;
                if
                :: a_st == Failed -> skip
                :: a_st != Failed && PSK(psk.e, psk.sid) != q -> a_st = Failed  /* psk differs: no decrypt */
                :: else ->
                    chosen = p; nw.e = p + 1; nw.sid = h2; peer_b = h2;
                    a_st = AwaitPeerCert
                fi
            }
        :: t == CERT_B && a_st == AwaitPeerCert ->
            if
            :: h1 != c || h2 != peer_b -> a_st = Failed  /* other transport keys */
            :: else ->
#ifdef BROKEN_SEND_BEFORE_PERSIST
                send_ab(CERT_A, c, peer_b, 0, 0);
                if
                :: atomic { FAULT -> faults++; a_st = Crashed; printf("  A CRASHES\n") }; break
                :: skip
                fi;
#endif
ADVANCE:
                if
                :: atomic { FAULT -> faults++; a_st = Failed; printf("  A ADVANCE write FAILS\n") }
                :: atomic {
#if defined(BROKEN_EARLY_WIPE)
                    a_held[0].e = nw.e; a_held[0].sid = nw.sid; a_n = 1;
#elif defined(BROKEN_EPOCH_AS_ID)
                    if
                    :: hn > 1 && held[1].e == nw.e -> nw.sid = held[1].sid  /* "already have e+1" */
                    :: else
                    fi;
                    a_held[0].e = psk.e; a_held[0].sid = psk.sid;
                    a_held[1].e = nw.e; a_held[1].sid = nw.sid; a_n = 2;
#else
                    /* holdings := {chosen, chosen + 1}, all else wiped */
                    a_held[0].e = psk.e; a_held[0].sid = psk.sid;
                    a_held[1].e = nw.e; a_held[1].sid = nw.sid; a_n = 2;
                    assert(a_held[0].e == chosen && a_held[1].e == chosen + 1);  /* (b) */
#endif
                    printf("  A ADVANCE: holds (%d,%d) (%d,%d)\n", a_held[0].e, a_held[0].sid,
                           (a_n > 1 -> a_held[1].e : 0), (a_n > 1 -> a_held[1].sid : 0));
                    check_durable()
                   }
                fi;
                if
                :: a_st == Failed -> skip
                :: else ->
#ifndef BROKEN_SEND_BEFORE_PERSIST
                    if   /* killed between the write and the send */
                    :: atomic { FAULT -> faults++; a_st = Crashed; printf("  A CRASHES\n") }; break
                    :: skip
                    fi;
                    send_ab(CERT_A, c, peer_b, 0, 0);
#endif
                    a_st = Done
                fi
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

/* ------------------------------------------------------------ Responder (B) */
proctype Responder(byte c) {
    byte hid;                  /* the RESUME_1 this handshake answers */
    Seed psk;                  /* CHOOSE's seed */
    Seed nw;                   /* new_seed_: (chosen + 1, this instance) */
    mtype t; byte h1, h2, p, q;

    b_st = Idle;
    do
    :: AtoB?t, h1, h2, p, q ->
dispatch:
        if
        :: t == RESUME_1 && b_st == Idle ->
CHOOSE:
            atomic {   /* the highest offered epoch held; no durable change */
                psk.e = 0;
                if
                :: (b_held[0].e == p || (q != 0 && b_held[0].e == q)) ->
                    psk.e = b_held[0].e; psk.sid = b_held[0].sid
                :: else
                fi;
                if
                :: (b_n > 1 && b_held[1].e > psk.e &&
                    (b_held[1].e == p || (q != 0 && b_held[1].e == q))) ->
                    psk.e = b_held[1].e; psk.sid = b_held[1].sid  /* DEAD-IN-REAL */
                :: else
                fi;
                if
                :: psk.e == 0 -> b_st = Failed            /* NoCommonEpoch */
                :: else -> hid = h1; nw.e = psk.e + 1; nw.sid = c
                fi;
                printf("  B CHOOSE: epoch %d\n", psk.e)
            }
            if
            :: b_st == Failed -> skip
            :: else ->
#ifdef BROKEN_COMMIT_ON_RESUME1
                if
                :: atomic { FAULT -> faults++; b_st = Failed }
                :: atomic { b_held[0].e = nw.e; b_held[0].sid = nw.sid; b_n = 1;
                            printf("  B COMMIT (on RESUME_1): holds (%d,%d)\n", nw.e, nw.sid);
                            check_durable() }
                fi;
#endif
                if
                :: b_st == Failed -> skip
                :: else ->
                    p = psk.e; q = PSK(psk.e, psk.sid);
                    if   /* the chosen epoch travels in clear: tampered */
                    :: atomic { FAULT -> faults++; select(p : 1 .. MAXE);
                                printf("  attacker sets RESUME_2's epoch to %d\n", p) }
                    :: skip
                    fi;
                    send_ba(RESUME_2, hid, c, p, q);
                    if
                    :: atomic { FAULT -> faults++; b_st = Crashed; printf("  B CRASHES\n") }
                    :: skip
                    fi;
                    if
                    :: b_st == Crashed -> skip
                    :: else -> send_ba(CERT_B, hid, c, 0, 0); b_st = AwaitConfirm
                    fi
                fi
            fi
        :: t == CERT_A && b_st == AwaitConfirm ->
            if
            :: h1 != hid || h2 != c -> b_st = Failed        /* other transport keys */
            :: else ->
COMMIT:
                if
                :: atomic { FAULT -> faults++; b_st = Failed; printf("  B COMMIT write FAILS\n") }
                :: atomic {
                    /* holdings := {chosen + 1}, seed_chosen wiped */
                    b_held[0].e = nw.e; b_held[0].sid = nw.sid;
                    b_held[1].e = 0; b_held[1].sid = 0; b_n = 1;
                    printf("  B COMMIT: holds (%d,%d)\n", b_held[0].e, b_held[0].sid);
                    check_durable();
                    /* (b): nothing older than e = nw.e - 1 anywhere */
                    assert(a_held[0].e + 1 >= nw.e);
                    b_st = Done
                   }
                fi
            fi
        :: else -> b_st = Failed                           /* UnexpectedMessage */
        fi;
        if
        :: b_st == Failed || b_st == Done || b_st == Crashed -> break
        :: else
        fi
    :: atomic { FAULT -> faults++; b_st = Crashed; printf("  B CRASHES\n") }; break
    :: atomic { FAULT && ab_have -> faults++;             /* attacker replays to B */
                t = ab_t; h1 = ab_1; h2 = ab_2; p = ab_3; q = ab_4;
                printf("  attacker -> B  old %e(%d,%d,%d,%d)\n", t, h1, h2, p, q) }; goto dispatch
    :: timeout -> break
    od
}

/* ------------------------------------------------------------ connections */
inline connection(cc, f) {
    atomic {
        /* a new link: nothing of the last one is in flight */
        do
        :: AtoB?_, _, _, _, _
        :: BtoA?_, _, _, _, _
        :: empty(AtoB) && empty(BtoA) -> break
        od;
        faulty = f; faults = 0;
        printf("connection %d (faulty %d): A holds (%d,%d) (%d,%d), B holds (%d,%d)\n", cc,
               f, a_held[0].e, a_held[0].sid, (a_n > 1 -> a_held[1].e : 0),
               (a_n > 1 -> a_held[1].sid : 0), b_held[0].e, b_held[0].sid);
        run Initiator(cc); run Responder(cc)
    }
    (_nr_pr == 1)
}

init {
    byte c = 1;
    byte e0;
    atomic {   /* after pairing: both hold {(1, seed_1)} */
        a_held[0].e = 1; a_held[0].sid = 0; a_n = 1;
        b_held[0].e = 1; b_held[0].sid = 0; b_n = 1;
        check_durable()
    }
    do
    :: c <= NCONN -> connection(c, true); c++
    :: break
    od;

    /* (c): a clean connection from here must complete the resume */
    e0 = b_held[0].e;
    connection(c, false);
    assert(a_st == Done && b_st == Done);
    assert(b_n == 1 && b_held[0].e == e0 + 1);
    assert(a_n == 2 && a_held[0].e == e0 && SAME(a_held[1], b_held[0]))
}
