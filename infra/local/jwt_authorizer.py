"""API Gateway's JWT authorizer, locally: the token checked against the issuer's keys.

As an HTTP API's JWT authorizer does: the token comes from the identity source header
(`Bearer ` is stripped), its signature must verify with the key of the issuer's JWKS that
its header's `kid` names, it must not be expired, not yet valid or issued in the future,
its `iss` must be the configured issuer and its `aud` (an ID token) or `client_id` (an
access token) one of the configured audiences. Anything else is the 401 API Gateway
answers. The keys are fetched from the local user pool's JWKS endpoint, which the local
AWS serves for the real issuer's pool id.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import GuestProtocol, Key, KeySet

from infra.local.topology import Authorizer

LEEWAY_SECONDS = 0


class Unauthorized(Exception):
    """The request gets API Gateway's 401; the reason is for the local log only."""


@dataclass
class JwtVerifier:
    """Verifies tokens for authorizers whose issuer is a pool of the local AWS."""

    endpoint: str  # the local AWS, e.g. http://localhost:4566
    keys: dict[str, KeySet] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def key_set(self, issuer: str) -> KeySet:
        pool = issuer.rstrip("/").rsplit("/", 1)[-1]
        with self.lock:
            if pool not in self.keys:
                url = f"{self.endpoint}/{pool}/.well-known/jwks.json"
                try:
                    with urllib.request.urlopen(url, timeout=5) as response:
                        self.keys[pool] = KeySet.import_key_set(json.loads(response.read()))
                except (OSError, ValueError, JoseError) as err:
                    raise Unauthorized(f"no keys for {issuer} at {url}: {err}") from None
            return self.keys[pool]

    def claims(self, authorizer: Authorizer, headers: dict[str, str]) -> dict[str, Any]:
        """The token's verified claims, or Unauthorized."""
        value = headers.get(authorizer.header, "").strip()
        if value[:7].lower() == "bearer ":
            value = value[7:].strip()
        if not value:
            raise Unauthorized("no token in the identity source")
        keys = self.key_set(authorizer.issuer)

        def named_key(guest: GuestProtocol) -> Key:
            """The key the header's `kid` names: as on AWS, a token naming none is refused."""
            return keys.get_by_kid(str(guest.headers().get("kid", "")))

        try:
            token = jwt.decode(value, named_key, algorithms=["RS256"])
        except (JoseError, ValueError, KeyError) as err:
            raise Unauthorized(f"the token does not verify: {err}") from None
        claims = dict(token.claims)
        now = time.time()
        expires, not_before, issued = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        if not isinstance(expires, int | float) or expires + LEEWAY_SECONDS <= now:
            raise Unauthorized("the token has expired")
        if isinstance(not_before, int | float) and not_before - LEEWAY_SECONDS > now:
            raise Unauthorized("the token is not valid yet")
        if isinstance(issued, int | float) and issued - LEEWAY_SECONDS > now:
            raise Unauthorized("the token was issued in the future")
        if claims.get("iss") != authorizer.issuer:
            raise Unauthorized(f"issuer {claims.get('iss')!r} is not {authorizer.issuer!r}")
        audiences = claims.get("aud", claims.get("client_id"))
        audiences = audiences if isinstance(audiences, list) else [audiences]
        if not {a for a in audiences if isinstance(a, str)} & set(authorizer.audiences):
            raise Unauthorized(f"audience {audiences} is not one of {list(authorizer.audiences)}")
        return claims


def request_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway hands them to the function: every value a string."""
    shown = {}
    for name, value in claims.items():
        if isinstance(value, list):
            shown[name] = "[" + " ".join(str(item) for item in value) + "]"
        elif isinstance(value, bool):
            shown[name] = "true" if value else "false"
        else:
            shown[name] = str(value)
    return shown
