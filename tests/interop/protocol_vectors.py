#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Independent re-implementation of blueratchet protocol 1.1 (docs/PROTOCOL.md)
that recomputes tests/vectors/protocol/handshake-1.1.txt from its inputs.

Written from the document only (plus the Noise Protocol Framework, rev 34),
by an implementer who did not read the C++ sources: it is the check that
an outsider can implement the protocol from PROTOCOL.md (issue #10), and it
fails if the document, the vectors or the engines drift apart.  Meson test
'protocol-vectors-independent'.
Primitives: python3-cryptography (X25519, ChaCha20-Poly1305, Ed25519 verify),
hashlib/hmac; Ed25519 point arithmetic for blinding is implemented here.
Usage: check_vectors.py [path-to-vectors]
"""
import base64
import hashlib
import hmac
import re
import struct
import sys
import datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization
from cryptography.exceptions import InvalidSignature, InvalidTag

DEFAULT_VECTORS = str(__import__("pathlib").Path(__file__).resolve().parent.parent
                      / "vectors" / "protocol" / "handshake-1.1.txt")


class ProtocolError(Exception):
    pass


def sha256(*parts):
    return hashlib.sha256(b"".join(parts)).digest()


def sha512(*parts):
    return hashlib.sha512(b"".join(parts)).digest()


def u32(n):
    return struct.pack(">I", n)


# ---------------------------------------------------------------- edwards25519
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _inv(x):
    return pow(x, P - 2, P)


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * _inv(D * y * y + 1) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


# extended coordinates (X, Y, Z, T)
IDENT = (0, 1, 1, 0)
_By = 4 * _inv(5) % P
_Bx = _recover_x(_By, 0)
BASE = (_Bx, _By, 1, _Bx * _By % P)


def pt_add(p1, p2):
    X1, Y1, Z1, T1 = p1
    X2, Y2, Z2, T2 = p2
    A = (Y1 - X1) * (Y2 - X2) % P
    B = (Y1 + X1) * (Y2 + X2) % P
    C = T1 * 2 * D * T2 % P
    Dd = Z1 * 2 * Z2 % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def pt_mul(s, pt):
    q = IDENT
    while s > 0:
        if s & 1:
            q = pt_add(q, pt)
        pt = pt_add(pt, pt)
        s >>= 1
    return q


def pt_eq(p1, p2):
    return ((p1[0] * p2[2] - p2[0] * p1[2]) % P == 0
            and (p1[1] * p2[2] - p2[1] * p1[2]) % P == 0)


def pt_encode(pt):
    zi = _inv(pt[2])
    x, y = pt[0] * zi % P, pt[1] * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def pt_decode(b):
    if len(b) != 32:
        return None
    v = int.from_bytes(b, "little")
    y = v & ((1 << 255) - 1)
    x = _recover_x(y, v >> 255)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def identity_point_ok(b):
    """Section 2 / 7.2: a canonical point, not small order, in the prime-order subgroup."""
    pt = pt_decode(b)
    if pt is None or pt_encode(pt) != b:
        return None
    if pt_eq(pt_mul(8, pt), IDENT):
        return None
    if not pt_eq(pt_mul(L, pt), IDENT):
        return None
    return pt


def clamp_scalar(b32):
    a = bytearray(b32)
    a[0] &= 248
    a[31] &= 127
    a[31] |= 64
    return int.from_bytes(bytes(a), "little")


def ed25519_expand(seed):
    hsh = sha512(seed)
    return clamp_scalar(hsh[:32]), hsh[32:]


def ed25519_public(seed):
    a, _ = ed25519_expand(seed)
    return pt_encode(pt_mul(a, BASE))


def ed25519_sign_expanded(a, prefix, pub, msg):
    r = int.from_bytes(sha512(prefix, msg), "little") % L
    R = pt_encode(pt_mul(r, BASE))
    k = int.from_bytes(sha512(R, pub, msg), "little") % L
    S = (r + k * a) % L
    return R + S.to_bytes(32, "little")


def ed25519_sign(seed, msg):
    a, prefix = ed25519_expand(seed)
    return ed25519_sign_expanded(a, prefix, ed25519_public(seed), msg)


def ed25519_verify(pub, msg, sig):
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
        return True
    except (InvalidSignature, ValueError):
        return False


# ---------------------------------------------------------------- section 2: X25519 form
def x25519_public_from_ed(pub):
    v = int.from_bytes(pub, "little")
    y = (v & ((1 << 255) - 1)) % P
    u = (1 + y) * _inv((1 - y) % P) % P
    return u.to_bytes(32, "little")


def x25519_secret_from_ed_seed(seed):
    return sha512(seed)[:32]


def x25519_pub(secret):
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def dh(secret, pub):
    out = X25519PrivateKey.from_private_bytes(secret).exchange(X25519PublicKey.from_public_bytes(pub))
    if out == bytes(32):
        raise ProtocolError("LowOrderPoint")
    return out


# ---------------------------------------------------------------- section 1: KDF
def hkdf_rfc5869(salt, ikm, info, n):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]


def KDF(key, label, context, n=32):
    return hkdf_rfc5869(b"blueratchet/1", key, label.encode() + b"\x00" + context, n)


# ---------------------------------------------------------------- Noise (rev 34)
def noise_hkdf(ck, ikm, n):
    temp = hmac.new(ck, ikm, hashlib.sha256).digest()
    outs, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac.new(temp, prev + bytes([i]), hashlib.sha256).digest()
        outs.append(prev)
    return outs


class CipherState:
    def __init__(self, k=None):
        self.k, self.n = k, 0

    def _nonce(self):
        return b"\x00" * 4 + struct.pack("<Q", self.n)

    def encrypt(self, ad, pt):
        if self.k is None:
            return pt
        ct = ChaCha20Poly1305(self.k).encrypt(self._nonce(), pt, ad)
        self.n += 1
        return ct

    def decrypt(self, ad, ct):
        if self.k is None:
            return ct
        try:
            pt = ChaCha20Poly1305(self.k).decrypt(self._nonce(), ct, ad)
        except InvalidTag:
            raise ProtocolError("Noise: DecryptFailed")
        self.n += 1
        return pt


class SymmetricState:
    def __init__(self, name):
        nb = name.encode()
        self.h = nb + bytes(32 - len(nb)) if len(nb) <= 32 else sha256(nb)
        self.ck = self.h
        self.cs = CipherState()

    def copy(self):
        c = SymmetricState.__new__(SymmetricState)
        c.h, c.ck = self.h, self.ck
        c.cs = CipherState(self.cs.k)
        c.cs.n = self.cs.n
        return c

    def mix_hash(self, data):
        self.h = sha256(self.h, data)

    def mix_key(self, ikm):
        self.ck, k = noise_hkdf(self.ck, ikm, 2)
        self.cs = CipherState(k)

    def mix_key_and_hash(self, ikm):
        self.ck, th, k = noise_hkdf(self.ck, ikm, 3)
        self.mix_hash(th)
        self.cs = CipherState(k)

    def encrypt_and_hash(self, pt):
        ct = self.cs.encrypt(self.h, pt)
        self.mix_hash(ct)
        return ct

    def decrypt_and_hash(self, ct):
        pt = self.cs.decrypt(self.h, ct)
        self.mix_hash(ct)
        return pt

    def split3(self):
        k1, k2, third = noise_hkdf(self.ck, b"", 3)
        return CipherState(k1), CipherState(k2), third


class Handshake:
    """Noise HandshakeState for the two patterns used (XX and IKpsk2)."""
    PATTERNS = {
        "XX": ([], [["e"], ["e", "ee", "s", "es"], ["s", "se"]]),
        "IKpsk2": ([("r", "s")], [["e", "es", "s", "ss"], ["e", "ee", "se", "psk"]]),
    }

    def __init__(self, pattern, initiator, prologue, s, e, rs=None, psk=None):
        self.ss = SymmetricState("Noise_%s_25519_ChaChaPoly_SHA256" % pattern)
        self.ss.mix_hash(prologue)
        self.initiator = initiator
        self.psk_mode = "psk" in pattern
        self.s = s                     # secret
        self.s_pub = x25519_pub(s)
        self.e = e                     # ephemeral secret (fixed, from the vectors)
        self.e_pub = None
        self.rs, self.re = rs, None
        self.psk = psk
        pre, self.msgs = self.PATTERNS[pattern]
        for who, tok in pre:           # only "<- s" here
            assert tok == "s"
            # the pre-message is the responder's static
            self.ss.mix_hash(self.rs if initiator else self.s_pub)
        self.idx = 0

    def _dh(self, tok):
        a, b = tok[0], tok[1]          # first letter: initiator's key, second: responder's
        if self.initiator:
            mine, theirs = (self.e if a == "e" else self.s), (self.re if b == "e" else self.rs)
        else:
            mine, theirs = (self.e if b == "e" else self.s), (self.re if a == "e" else self.rs)
        return dh(mine, theirs)

    def write(self, payload):
        out = b""
        for tok in self.msgs[self.idx]:
            if tok == "e":
                self.e_pub = x25519_pub(self.e)
                out += self.e_pub
                self.ss.mix_hash(self.e_pub)
                if self.psk_mode:
                    self.ss.mix_key(self.e_pub)
            elif tok == "s":
                out += self.ss.encrypt_and_hash(self.s_pub)
            elif tok == "psk":
                self.ss.mix_key_and_hash(self.psk)
            else:
                self.ss.mix_key(self._dh(tok))
        out += self.ss.encrypt_and_hash(payload)
        self.idx += 1
        return out

    def read(self, msg, psk_candidates=None):
        """Reads a message; with psk_candidates, trial-decrypts (section 5):
        tokens before psk once, then psk + payload AEAD on a copy per candidate.
        Returns (payload, index of the candidate that worked)."""
        pos = 0
        toks = self.msgs[self.idx]
        for i, tok in enumerate(toks):
            if tok == "e":
                self.re = msg[pos:pos + 32]
                pos += 32
                self.ss.mix_hash(self.re)
                if self.psk_mode:
                    self.ss.mix_key(self.re)
            elif tok == "s":
                ln = 48 if self.ss.cs.k is not None else 32
                self.rs = self.ss.decrypt_and_hash(msg[pos:pos + ln])
                pos += ln
            elif tok == "psk":
                assert i == len(toks) - 1
                cands = psk_candidates if psk_candidates is not None else [self.psk]
                for ci, cand in enumerate(cands):
                    trial = self.ss.copy()
                    trial.mix_key_and_hash(cand)
                    try:
                        pt = trial.decrypt_and_hash(msg[pos:])
                    except ProtocolError:
                        continue
                    self.ss, self.psk = trial, cand
                    self.idx += 1
                    return pt, ci
                raise ProtocolError("Noise: DecryptFailed")
            else:
                self.ss.mix_key(self._dh(tok))
        pt = self.ss.decrypt_and_hash(msg[pos:])
        self.idx += 1
        return pt, None

    @property
    def h(self):
        return self.ss.h

    def split(self):
        c1, c2, third = self.ss.split3()
        # initiator sends with c1, receives with c2
        return (c1, c2, third) if self.initiator else (c2, c1, third)


# ---------------------------------------------------------------- section 8 messages
T_PAIR_1, T_PAIR_2, T_PAIR_3, T_REVEAL, T_ACCEPT = 0x01, 0x02, 0x03, 0x04, 0x05
T_RESUME_1, T_RESUME_2, T_CERT, T_CONFIRM = 0x13, 0x14, 0x20, 0x21


def frame(t, body):
    m = bytes([1, t]) + body
    assert len(m) <= 1024
    return m


def unframe(m, t):
    if len(m) < 3 or m[0] != 1 or m[1] != t:
        raise ProtocolError("Decode/UnexpectedMessage")
    return m[2:]


# ---------------------------------------------------------------- section 7 certificates
def der_len(n):
    if n < 128:
        return bytes([n])
    if n < 256:
        return b"\x81" + bytes([n])
    return b"\x82" + n.to_bytes(2, "big")


def der(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def der_int_pos(n):
    b = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")
    if b[0] & 0x80:
        b = b"\x00" + b
    return der(0x02, b)


def der_time(t):
    dt = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    if dt.year <= 2049:
        return der(0x17, dt.strftime("%y%m%d%H%M%SZ").encode())
    return der(0x18, dt.strftime("%Y%m%d%H%M%SZ").encode())


ED25519_ALG = bytes.fromhex("300506032b6570")
OID_PRIVATE = bytes.fromhex("69e5ede0cceab2b293bbb0d28197bbd59cb614")


def oid_from_uuid_arc(n):
    """X.690 encoding of OID 2.25.n (first subidentifier 2*40+25 = 105)."""
    def base128(v):
        out = [v & 0x7f]
        v >>= 7
        while v:
            out.append(0x80 | (v & 0x7f))
            v >>= 7
        return bytes(reversed(out))
    return base128(2 * 40 + 25) + base128(n)


def x509_name(subject_id):
    cn = b"blueratchet " + base64.urlsafe_b64encode(subject_id).rstrip(b"=")
    atv = der(0x30, der(0x06, bytes.fromhex("550403")) + der(0x0c, cn))
    return der(0x30, der(0x31, atv))


def compact_fields(c):
    return dict(version=c[0], epoch=int.from_bytes(c[1:5], "big"),
                not_before=int.from_bytes(c[5:9], "big"), not_after=int.from_bytes(c[9:13], "big"),
                subject_id=c[13:45], peer_id=c[45:77], session_pk=c[77:109], binding=c[109:125],
                delegation_sig=c[125:189], self_sig=c[189:253])


def tbs_certificate(c):
    """DER TBSCertificate (7.5, format 2) for the compact form c (self_sig ignored)."""
    f = compact_fields(c)
    assert f["version"] == 2
    d = sha256(b"blueratchet/1 serial", c[:189])
    serial = bytes([(d[0] & 0x7f) | 0x40]) + d[1:16]
    name = x509_name(f["subject_id"])
    spki = der(0x30, ED25519_ALG + der(0x03, b"\x00" + f["session_pk"]))
    ext_bc = der(0x30, der(0x06, bytes.fromhex("551d13")) + der(0x01, b"\xff") + der(0x04, der(0x30, b"")))
    ext_ku = der(0x30, der(0x06, bytes.fromhex("551d0f")) + der(0x01, b"\xff")
                 + der(0x04, der(0x03, bytes.fromhex("0780"))))
    eku = der(0x30, der(0x06, bytes.fromhex("2b06010505070301")) + der(0x06, bytes.fromhex("2b06010505070302")))
    ext_eku = der(0x30, der(0x06, bytes.fromhex("551d25")) + der(0x04, eku))
    ext_ski = der(0x30, der(0x06, bytes.fromhex("551d0e")) + der(0x04, der(0x04, sha256(f["session_pk"])[:20])))
    priv = der(0x30, der_int_pos(f["version"]) + der_int_pos(f["epoch"]) + der(0x04, f["peer_id"])
               + der(0x04, f["binding"]) + der(0x04, f["delegation_sig"]))
    ext_br = der(0x30, der(0x06, OID_PRIVATE) + der(0x04, priv))
    exts = der(0xa3, der(0x30, ext_bc + ext_ku + ext_eku + ext_ski + ext_br))
    tbs = der(0x30,
              der(0xa0, der_int_pos(2))
              + der(0x02, serial)
              + ED25519_ALG
              + name
              + der(0x30, der_time(f["not_before"]) + der_time(f["not_after"]))
              + name
              + spki
              + exts)
    return tbs, serial


def x509_der(c):
    tbs, _ = tbs_certificate(c)
    return der(0x30, tbs + ED25519_ALG + der(0x03, b"\x00" + c[189:253]))


def blind_t(param):
    t = bytearray(sha512(b"Derive temporary signing key", param)[:32])
    t[0] &= 248
    t[31] &= 63
    t[31] |= 64
    return int.from_bytes(bytes(t), "little")


def ids_of(role_initiator, own_id, peer_id):
    return own_id + peer_id if role_initiator else peer_id + own_id


def mint(owner_seed, peer_id, owner_is_initiator, seed, epoch, h, not_before, not_after):
    owner_id = ed25519_public(owner_seed)
    ids = ids_of(owner_is_initiator, owner_id, peer_id)
    binding = h[:16]
    sk_seed = KDF(seed, "session key", ids + u32(epoch) + owner_id + owner_seed)
    param = KDF(seed, "delegation blind", ids + u32(epoch) + owner_id)
    session_pk = ed25519_public(sk_seed)
    # 7.2 blinding
    t = blind_t(param)
    a, prefix = ed25519_expand(owner_seed)
    A_blind = pt_encode(pt_mul(t, pt_decode(owner_id)))
    a_blind = a * t % L
    prefix_blind = sha512(b"Derive temporary signing key hash input", prefix)[:32]
    dmsg = (b"blueratchet/1 delegation\x00" + session_pk + u32(epoch) + u32(not_before)
            + u32(not_after) + binding)
    dsig = ed25519_sign_expanded(a_blind, prefix_blind, A_blind, dmsg)
    c = (b"\x02" + u32(epoch) + u32(not_before) + u32(not_after) + owner_id + peer_id
         + session_pk + binding + dsig)
    tbs, _ = tbs_certificate(c + bytes(64))
    c += ed25519_sign(sk_seed, tbs)
    assert len(c) == 253
    return c, session_pk


def verify_cert(c, expected_subject, own_id, own_is_initiator, seed, epoch, h, now):
    """7.7 checks 1-11 (the replay cache, check 12, is per-daemon state)."""
    if len(c) != 253:
        raise ProtocolError("BadLength")
    f = compact_fields(c)
    if f["version"] != 2:
        raise ProtocolError("UnsupportedVersion")
    if f["subject_id"] != expected_subject:
        raise ProtocolError("WrongSubject")
    if f["peer_id"] != own_id:
        raise ProtocolError("WrongPeer")
    if f["epoch"] != epoch or epoch == 0:
        raise ProtocolError("WrongEpoch")
    if f["binding"] != h[:16]:
        raise ProtocolError("WrongBinding")
    if not (f["not_before"] < f["not_after"] and f["not_after"] - f["not_before"] <= 604800):
        raise ProtocolError("BadValidity")
    if now < f["not_before"]:
        raise ProtocolError("NotYetValid")
    if now >= f["not_after"]:
        raise ProtocolError("Expired")
    tbs, _ = tbs_certificate(c)
    if not ed25519_verify(f["session_pk"], tbs, f["self_sig"]):
        raise ProtocolError("BadSelfSignature")
    pt = identity_point_ok(expected_subject)
    if pt is None:
        raise ProtocolError("BadDelegation")
    ids = ids_of(not own_is_initiator, expected_subject, own_id)   # subject's role
    param = KDF(seed, "delegation blind", ids + u32(epoch) + expected_subject)
    A_blind = pt_encode(pt_mul(blind_t(param), pt))
    dmsg = (b"blueratchet/1 delegation\x00" + f["session_pk"] + u32(epoch) + u32(f["not_before"])
            + u32(f["not_after"]) + f["binding"])
    if not ed25519_verify(A_blind, dmsg, f["delegation_sig"]):
        raise ProtocolError("BadDelegation")
    return f


def cert_fingerprint(h, recipient_id, sender_session_pk):
    return sha256(b"blueratchet/1 cert fingerprint", h, recipient_id, sender_session_pk)


def session_fingerprint(h, ids, spk_a, spk_b):
    return sha256(b"blueratchet/1 fingerprint", h, ids, spk_a, spk_b)


def code6(b8):
    return "%06d" % (int.from_bytes(b8[:8], "big") % 1000000)


def check_identity(received_id, rs, own_id, stored_peers=()):
    """Section 2."""
    if identity_point_ok(received_id) is None or x25519_public_from_ed(received_id) != rs:
        raise ProtocolError("IdentityMismatch")
    if x25519_public_from_ed(received_id) == x25519_public_from_ed(own_id):
        raise ProtocolError("SelfPairing")
    neg = received_id[:31] + bytes([received_id[31] ^ 0x80])
    if neg in stored_peers and received_id not in stored_peers:
        raise ProtocolError("NegatedIdentity")


# ---------------------------------------------------------------- devices
class Device:
    def __init__(self, id_seed, now, validity, backdate):
        self.id_seed = id_seed
        self.id = ed25519_public(id_seed)
        self.x_secret = x25519_secret_from_ed_seed(id_seed)
        assert x25519_pub(self.x_secret) == x25519_public_from_ed(self.id)
        self.now, self.validity, self.backdate = now, validity, backdate
        self.peers = {}   # peer id -> list of (epoch, seed)

    def mint(self, peer_id, is_initiator, seed, epoch, h):
        nb = self.now - self.backdate
        na = self.now + self.validity
        return mint(self.id_seed, peer_id, is_initiator, seed, epoch, h, nb, na)


def send_cert(dev, peer_id, is_init, seed, epoch, h, cs):
    compact, spk = dev.mint(peer_id, is_init, seed, epoch, h)
    fp = cert_fingerprint(h, peer_id, spk)
    return frame(T_CERT, cs.encrypt(b"", compact + fp)), spk


def recv_cert(dev, msg, peer_id, is_init, seed, epoch, h, cs):
    pt = cs.decrypt(b"", unframe(msg, T_CERT))
    if len(pt) != 253 + 32:
        raise ProtocolError("Decode")
    compact, fp = pt[:253], pt[253:]
    spk = compact[77:109]
    if not hmac.compare_digest(fp, cert_fingerprint(h, dev.id, spk)):
        raise ProtocolError("FingerprintMismatch")
    verify_cert(compact, peer_id, dev.id, is_init, seed, epoch, h, dev.now)
    return spk


def run_pairing(A, B, eA, eB, nonce_A, nonce_B):
    msgs = []
    # PAIR_1
    ha = Handshake("XX", True, b"blueratchet/1.1 pair", A.x_secret, eA)
    msgs.append(frame(T_PAIR_1, ha.write(b"\x01")))
    # B reads PAIR_1
    hb = Handshake("XX", False, b"blueratchet/1.1 pair", B.x_secret, eB)
    pl, _ = hb.read(unframe(msgs[-1], T_PAIR_1))
    if pl != b"\x01":
        raise ProtocolError("UnsupportedVersion")
    commit_B = sha256(b"blueratchet/1 pair commit", nonce_B)
    msgs.append(frame(T_PAIR_2, hb.write(B.id + commit_B)))
    # A reads PAIR_2
    pl, _ = ha.read(unframe(msgs[-1], T_PAIR_2))
    if len(pl) != 64:
        raise ProtocolError("Decode")
    id_B, commit_seen = pl[:32], pl[32:]
    check_identity(id_B, ha.rs, A.id)
    msgs.append(frame(T_PAIR_3, ha.write(A.id + nonce_A)))
    hA = ha.h
    sendA, recvA, thirdA = ha.split()
    ids = A.id + id_B
    seedA = KDF(thirdA, "pair seed", hA + ids)
    certA_msg, spkA = send_cert(A, id_B, True, seedA, 1, hA, sendA)
    msgs.append(certA_msg)
    # B reads PAIR_3 and CERT_A
    pl, _ = hb.read(unframe(msgs[2], T_PAIR_3))
    id_A, nonce_A_seen = pl[:32], pl[32:]
    check_identity(id_A, hb.rs, B.id)
    hB = hb.h
    sendB, recvB, thirdB = hb.split()
    idsB = id_A + B.id
    seedB = KDF(thirdB, "pair seed", hB + idsB)
    spkA_seen = recv_cert(B, msgs[3], id_A, False, seedB, 1, hB, recvB)
    # REVEAL
    msgs.append(frame(T_REVEAL, sendB.encrypt(b"", nonce_B)))
    nb_seen = recvA.decrypt(b"", unframe(msgs[-1], T_REVEAL))
    if not hmac.compare_digest(sha256(b"blueratchet/1 pair commit", nb_seen), commit_seen):
        raise ProtocolError("CommitmentMismatch")
    codeA = code6(sha256(b"blueratchet/1 pair code", hA, nonce_A, nb_seen))
    codeB = code6(sha256(b"blueratchet/1 pair code", hB, nonce_A_seen, nonce_B))
    assert codeA == codeB
    # ACCEPT (A approved)
    msgs.append(frame(T_ACCEPT, sendA.encrypt(b"", b"")))
    if recvB.decrypt(b"", unframe(msgs[-1], T_ACCEPT)) != b"":
        raise ProtocolError("Decode")
    B.peers[id_A] = [(1, seedB)]
    certB_msg, spkB = send_cert(B, id_A, False, seedB, 1, hB, sendB)
    msgs.append(certB_msg)
    spkB_seen = recv_cert(A, msgs[-1], id_B, True, seedA, 1, hA, recvA)
    A.peers[id_B] = [(1, seedA)]
    fpA = session_fingerprint(hA, ids, spkA, spkB_seen)
    fpB = session_fingerprint(hB, idsB, spkA_seen, spkB)
    assert fpA == fpB and hA == hB
    outcome = {
        "epoch": "1", "h": hA.hex(), "short_code": codeA, "fingerprint": fpA.hex(),
        "A holds seed epoch 1": seedA.hex(), "B holds seed epoch 1": seedB.hex(),
        "A session_pk": spkA.hex(), "B session_pk": spkB.hex(),
    }
    return msgs, outcome


def run_resume(A, B, eA, eB):
    msgs = []
    id_B = next(iter(A.peers))
    holdA = A.peers[id_B]
    epochs = sorted(set(e for e, _ in holdA))
    offer = A.id + bytes([len(epochs)]) + b"".join(u32(e) for e in epochs)
    rsB = x25519_public_from_ed(id_B)
    ha = Handshake("IKpsk2", True, b"blueratchet/1.1 resume", A.x_secret, eA, rs=rsB)
    msgs.append(frame(T_RESUME_1, ha.write(offer)))
    # B
    hb = Handshake("IKpsk2", False, b"blueratchet/1.1 resume", B.x_secret, eB)
    pl, _ = hb.read(unframe(msgs[-1], T_RESUME_1))
    id_A = pl[:32]
    n = pl[32]
    if n not in (1, 2):
        raise ProtocolError("BadOfferCount")
    if len(pl) > 33 + 4 * n:
        raise ProtocolError("TooLong")
    if len(pl) < 33 + 4 * n:
        raise ProtocolError("Truncated")
    offered = [int.from_bytes(pl[33 + 4 * i:37 + 4 * i], "big") for i in range(n)]
    if any(e == 0 for e in offered) or any(offered[i] >= offered[i + 1] for i in range(n - 1)):
        raise ProtocolError("BadOfferOrder")
    check_identity(id_A, hb.rs, B.id)
    if id_A not in B.peers:
        raise ProtocolError("UnknownPeer")
    (eB_epoch, eB_seed), = B.peers[id_A]
    if eB_epoch not in offered:
        raise ProtocolError("NoCommonEpoch")
    hb.psk = eB_seed
    msgs.append(frame(T_RESUME_2, hb.write(b"")))
    hB = hb.h
    sendB, recvB, _ = hb.split()
    idsB = id_A + B.id
    newB = KDF(eB_seed, "ratchet", hB + idsB)
    new_epoch_B = eB_epoch + 1
    certB_msg, spkB = send_cert(B, id_A, False, newB, new_epoch_B, hB, sendB)
    msgs.append(certB_msg)
    # A: trial decryption
    pl, ci = ha.read(unframe(msgs[1], T_RESUME_2), psk_candidates=[s for _, s in holdA])
    if pl != b"":
        raise ProtocolError("Decode")
    S_epoch, S_seed = holdA[ci]
    hA = ha.h
    sendA, recvA, _ = ha.split()
    ids = A.id + id_B
    S1 = (S_epoch + 1, KDF(S_seed, "ratchet", hA + ids))
    spkB_seen = recv_cert(A, msgs[2], id_B, True, S1[1], S1[0], hA, recvA)
    newer = [x for x in holdA if x[0] > S_epoch]
    A.peers[id_B] = [holdA[ci]] + ([newer[-1]] if newer else []) + [S1]   # ADVANCE
    certA_msg, spkA = send_cert(A, id_B, True, S1[1], S1[0], hA, sendA)
    msgs.append(certA_msg)
    # B: CERT_A, COMMIT, CONFIRM
    spkA_seen = recv_cert(B, msgs[3], id_A, False, newB, new_epoch_B, hB, recvB)
    B.peers[id_A] = [(new_epoch_B, newB)]
    msgs.append(frame(T_CONFIRM, sendB.encrypt(b"", u32(new_epoch_B))))
    conf = recvA.decrypt(b"", unframe(msgs[-1], T_CONFIRM))
    if conf != u32(S1[0]):
        raise ProtocolError("ConfirmMismatch")
    A.peers[id_B] = [x for x in A.peers[id_B] if x[0] > S_epoch]   # PRUNE
    fpA = session_fingerprint(hA, ids, spkA, spkB_seen)
    fpB = session_fingerprint(hB, idsB, spkA_seen, spkB)
    assert fpA == fpB and hA == hB
    outcome = {"epoch": str(S1[0]), "h": hA.hex(), "short_code": code6(fpA), "fingerprint": fpA.hex()}
    for e, s in A.peers[id_B]:
        outcome["A holds seed epoch %d" % e] = s.hex()
    for e, s in B.peers[id_A]:
        outcome["B holds seed epoch %d" % e] = s.hex()
    outcome["A session_pk"] = spkA.hex()
    outcome["B session_pk"] = spkB.hex()
    return msgs, outcome


# ---------------------------------------------------------------- self-test: PROTOCOL.md 7.8 example
def doc_example_check():
    """The known answer printed in PROTOCOL.md 7.8 (inputs and outputs from the document)."""
    sa, sb = bytes([1]) * 32, bytes([2]) * 32
    ia, ib = ed25519_public(sa), ed25519_public(sb)
    seed, h = bytes([3]) * 32, bytes([4]) * 32
    ca, pka = mint(sa, ib, True, seed, 1, h, 1700000000, 1700003600)
    cb, pkb = mint(sb, ia, False, seed, 1, h, 1700000000, 1700003600)
    verify_cert(ca, ia, ib, False, seed, 1, h, 1700000000)
    verify_cert(cb, ib, ia, True, seed, 1, h, 1700000000)
    fp = session_fingerprint(h, ia + ib, pka, pkb)
    got = {
        "id_A": ia.hex(), "id_B": ib.hex(), "session_pk_A": pka.hex(), "session_pk_B": pkb.hex(),
        "compact_A": ca.hex(), "serial_A": tbs_certificate(ca)[1].hex(),
        "x509_A_len": str(len(x509_der(ca))), "x509_A_sha256": sha256(x509_der(ca)).hex(),
        "compact_B_sha256": sha256(cb).hex(), "fingerprint": fp.hex(), "short_code": code6(fp),
    }
    want = {
        "id_A": "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
        "id_B": "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394",
        "session_pk_A": "29eb0877fdd47c00ca5e99c721a21bbbae6a917609a13851ba4c05b12c0e99b9",
        "session_pk_B": "e94330c967828b3ae102a1c1e702bab05fd92ba7088f709a224acbf26d4dc22b",
        "compact_A": "02000000016553f1006553ff10"
                     "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
                     "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394"
                     "29eb0877fdd47c00ca5e99c721a21bbbae6a917609a13851ba4c05b12c0e99b9"
                     "04040404040404040404040404040404"
                     "c292bae2d1cab480ca5f6a1227d502e65958ad43e6fa3c964dfee5b6c87a9609"
                     "41bdbef2870b97d9f22a43b466659fc4adcb4bcfcdfaa5b051154a42bc26b60b"
                     "4b1a292c37ebb6960555bc4cc39ca455d91fbb8acb358b36609bfb9969537038"
                     "ae222c6b082df0395dab0ec50365babd8e6ec2b10a538469b4b09c9054381106",
        "serial_A": "5ebf72e7a8902ab577f38a46d43c9ca2",
        "x509_A_len": "574",
        "x509_A_sha256": "2a7ce1405721b016f0a0f8bc260155f0d93b7c4198849171b0e716ae250a53e0",
        "compact_B_sha256": "c28dbf38777933d7af9d9af1ecbe4b674574df94507ceb16e79165b0fed1b16c",
        "fingerprint": "642bd6b70b85323b0dae257d267193bdce614724a21915a5101eab4f0cabeb4d",
        "short_code": "989563",
    }
    ok = True
    for k in want:
        if got[k] != want[k]:
            ok = False
            print("  PROTOCOL.md 7.8 example %s: MISMATCH (got %s)" % (k, got[k]))
    return ok


# ---------------------------------------------------------------- vectors file
def parse_vectors(path):
    text = open(path).read()
    inputs, expected = {}, {"pair": {"msgs": [], "outcome": {}}, "resume": {"msgs": [], "outcome": {}}}
    m = re.search(r"now = (\d+) on both sides; validity (\d+) s, certificates backdated (\d+) s", text)
    inputs["now"], inputs["validity"], inputs["backdate"] = (int(x) for x in m.groups())
    section, cur, in_outcome = None, None, False
    for line in text.splitlines():
        if line.startswith("## pairing"):
            section, in_outcome = "pair", False
            continue
        if line.startswith("## resume"):
            section, in_outcome = "resume", False
            continue
        if line.startswith("#") or not line.strip():
            continue
        mm = re.match(r"message (\d+) (A|B) -> (A|B) type 0x([0-9a-f]{2}) (\S+) \((\d+) bytes\)", line)
        if mm:
            cur = {"n": int(mm.group(1)), "from": mm.group(2), "type": int(mm.group(4), 16),
                   "name": mm.group(5), "len": int(mm.group(6)), "hex": ""}
            expected[section]["msgs"].append(cur)
            continue
        if line.strip().endswith("outcome"):
            in_outcome, cur = True, None
            continue
        if cur is not None and re.fullmatch(r"\s+[0-9a-f]+", line):
            cur["hex"] += line.strip()
            continue
        kv = re.match(r"\s*(.+?) = (\S+)$", line)
        if kv:
            k, v = kv.groups()
            if in_outcome:
                expected[section]["outcome"][k] = v
            elif section is None:
                inputs[k] = v
            else:
                inputs[(section, k)] = v
    return inputs, expected


def first_diff(a, b):
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            return i
    return min(len(a), len(b)) if len(a) != len(b) else None


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_VECTORS
    inputs, expected = parse_vectors(path)
    allok = True

    def report(label, got, want):
        nonlocal allok
        if isinstance(got, bytes):
            want_b = bytes.fromhex(want)
            d = first_diff(got, want_b)
            if d is None:
                print("%-48s OK" % label)
            else:
                allok = False
                print("%-48s DIFFER at byte %d (got %d bytes, want %d)" % (label, d, len(got), len(want_b)))
        else:
            if got == want:
                print("%-48s OK" % label)
            else:
                allok = False
                print("%-48s DIFFER: got %s want %s" % (label, got, want))

    print("PROTOCOL.md 7.8 certificate example: %s" % ("OK" if doc_example_check() else "FAILED"))

    seedA = bytes.fromhex(inputs["identity seed A"])
    seedB = bytes.fromhex(inputs["identity seed B"])
    A = Device(seedA, inputs["now"], inputs["validity"], inputs["backdate"])
    B = Device(seedB, inputs["now"], inputs["validity"], inputs["backdate"])
    report("identity A (id_A)", A.id, inputs["identity A (id_A)"])
    report("identity B (id_B)", B.id, inputs["identity B (id_B)"])

    def g(sec, k):
        return bytes.fromhex(inputs[(sec, k)])

    for sec, runner, args in (
            ("pair", run_pairing, (g("pair", "ephemeral secret A"), g("pair", "ephemeral secret B"),
                                   g("pair", "nonce_A"), g("pair", "nonce_B"))),
            ("resume", run_resume, (g("resume", "ephemeral secret A"), g("resume", "ephemeral secret B")))):
        try:
            msgs, outcome = runner(A, B, *args)
        except ProtocolError as e:
            allok = False
            print("%s: handshake failed: %s" % (sec, e))
            continue
        exp = expected[sec]
        if len(msgs) != len(exp["msgs"]):
            allok = False
            print("%s: %d messages computed, %d expected" % (sec, len(msgs), len(exp["msgs"])))
        for m, e in zip(msgs, exp["msgs"]):
            if m[1] != e["type"] or len(m) != e["len"]:
                print("  (header of message %d: type 0x%02x, %d bytes)" % (e["n"], m[1], len(m)))
            report("%s message %d %s" % (sec, e["n"], e["name"]), m, e["hex"])
        for k, v in exp["outcome"].items():
            got = outcome.get(k)
            if got is None:
                allok = False
                print("%-48s MISSING from computation" % ("%s outcome %s" % (sec, k)))
                continue
            if re.fullmatch(r"[0-9a-f]{64}", v):
                report("%s outcome %s" % (sec, k), bytes.fromhex(got), v)
            else:
                report("%s outcome %s" % (sec, k), got, v)
        for k in outcome:
            if k not in exp["outcome"]:
                allok = False
                print("%-48s computed but not in the file" % ("%s outcome %s" % (sec, k)))
    print("ALL MATCH" if allok else "MISMATCHES FOUND")
    return 0 if allok else 1


if __name__ == "__main__":
    sys.exit(main())
