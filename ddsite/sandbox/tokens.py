"""RS256 access tokens like DeskDirector's: minted for a seeded user, verified on every API call."""

from __future__ import annotations

import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .data import DATABASE


class TokenAuthority:
    """Holds the sandbox's signing key (new on every start) and the default token lifetime."""

    def __init__(self, ttl: int = 3600) -> None:
        self.ttl = ttl
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = uuid.uuid4().hex[:12]

    def public_pem(self) -> bytes:
        """The public key as PEM, as the key endpoint serves it."""
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def mint(self, kind: str, user_id: int, ttl: int | None = None) -> str:
        """A token for a contact ("c") or an agent ("m") that ends after `ttl` seconds."""
        now = int(time.time())
        claims = {"sub": f"{DATABASE}~{kind}~{user_id}", "userId": f"{DATABASE}~{kind}~{user_id}",
                  "database": DATABASE, "region": "sandbox", "system": "deskdirector-sandbox",
                  "iat": now, "exp": now + (ttl or self.ttl)}
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.key_id})

    def verify(self, token: str) -> tuple[str, int] | None:
        """(kind, id) of a valid, unexpired token of ours; None for anything else."""
        try:
            claims = jwt.decode(token, self._key.public_key(), algorithms=["RS256"],
                                options={"require": ["exp", "sub"]})
            database, kind, user_id = claims["sub"].split("~")
            if database != DATABASE or kind not in ("c", "m"):
                return None
            return kind, int(user_id)
        except (jwt.PyJWTError, ValueError, AttributeError):
            return None
