"""RS256 access tokens like DeskDirector's: minted for a seeded user, verified on every API call."""

from __future__ import annotations

import threading
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .data import DATABASE

# DeskDirector keeps retired keys for months so tokens signed before a rotation stay valid.
KEYS_KEPT = 3
# What the key endpoint's Cache-Control allows a caller to keep the list for, in seconds.
KEYS_MAX_AGE = 3600
# Tokens remembered as verified; beyond this many the memory starts again.
VERIFIED_KEPT = 10000


class TokenAuthority:
    """The sandbox's signing keys (new on every start, rotated on demand) and the token lifetime."""

    def __init__(self, ttl: int = 3600) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._keys: list[tuple[str, rsa.RSAPrivateKey]] = []  # newest first
        # token -> (kind, id, exp, kid) of tokens already verified once. Every API call carries
        # one, and checking its signature again (PyJWT also scans each part character by
        # character) was a third of the sandbox's CPU for a small reply.
        self._verified: dict[str, tuple[str, int, int, str]] = {}
        self.rotate()

    @property
    def key_id(self) -> str:
        """The `kid` of the key that signs new tokens."""
        return self._keys[0][0]

    def rotate(self) -> str:
        """Start signing with a new key; older ones still verify. Returns the new `kid`."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        kid = uuid.uuid4().hex[:12]
        with self._lock:
            self._keys = [(kid, key), *self._keys][:KEYS_KEPT]
        return kid

    def public_pem(self) -> bytes:
        """The current public key as PEM."""
        return _pem(self._keys[0][1])

    def public_keys(self) -> list[dict]:
        """Every key still accepted, as the key endpoint lists them (current first)."""
        with self._lock:
            keys = list(self._keys)
        return [{"kid": kid, "status": "current" if index == 0 else "previous",
                 "publicKey": _pem(key).decode("ascii")} for index, (kid, key) in enumerate(keys)]

    def mint(self, kind: str, user_id: int, ttl: int | None = None) -> str:
        """A token for a contact ("c") or an agent ("m") that ends after `ttl` seconds."""
        now = int(time.time())
        claims = {"sub": f"{DATABASE}~{kind}~{user_id}", "userId": f"{DATABASE}~{kind}~{user_id}",
                  "database": DATABASE, "region": "sandbox", "system": "deskdirector-sandbox",
                  "iat": now, "exp": now + (ttl or self.ttl)}
        kid, key = self._keys[0]
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    def verify(self, token: str) -> tuple[str, int] | None:
        """(kind, id) of a valid, unexpired token of ours; None for anything else."""
        known = self._verified.get(token)
        if known is not None:
            kind, user_id, expires, kid = known
            # Still unexpired (as PyJWT counts), and signed by a key that is still kept.
            if time.time() < expires and any(kid == kept for kept, _ in self._keys):
                return kind, user_id
            self._verified.pop(token, None)
            return None
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = dict(self._keys).get(kid)
            if key is None:
                return None
            claims = jwt.decode(token, key.public_key(), algorithms=["RS256"],
                                options={"require": ["exp", "sub"]})
            database, kind, user_id = claims["sub"].split("~")
            if database != DATABASE or kind not in ("c", "m"):
                return None
            if len(self._verified) >= VERIFIED_KEPT:
                self._verified.clear()
            self._verified[token] = (kind, int(user_id), claims["exp"], kid)
            return kind, int(user_id)
        except (jwt.PyJWTError, ValueError, AttributeError):
            return None


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
