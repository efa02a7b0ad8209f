"""The JWT authorizer checks tokens of the local Cognito as API Gateway checks Cognito's.

Pools, clients and users are made in the local AWS (`moto_server`); the tokens are the
ones it issues. Tokens it would never issue (expired, not yet valid, without a key id)
are the same claims signed again with the local pool's own key, so only the one claim
or header under test differs from a token that verifies.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import socket
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import moto.cognitoidp
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc.jwk import KeySet, RSAKey

from infra.local import jwt_authorizer
from infra.local.jwt_authorizer import JwtVerifier, Unauthorized, request_claims
from infra.local.topology import Authorizer

REGION = "eu-west-1"
PASSWORD = "Correct-Horse-42!"


@dataclass(frozen=True)
class Pool:
    id: str
    client: str
    other_client: str
    id_token: str
    access_token: str

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.id}"

    def authorizer(self, *audiences: str, header: str = "authorization") -> Authorizer:
        return Authorizer(self.issuer, audiences or (self.client,), header)


def make_pool(endpoint: str, name: str) -> Pool:
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    pool = cognito.create_user_pool(PoolName=name)["UserPool"]["Id"]
    clients = [
        cognito.create_user_pool_client(
            UserPoolId=pool,
            ClientName=client,
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        for client in ("web", "other")
    ]
    user = f"ann@{name}.example.com"
    cognito.admin_create_user(UserPoolId=pool, Username=user, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=user, Password=PASSWORD, Permanent=True
    )
    tokens = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=clients[0],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return Pool(pool, clients[0], clients[1], tokens["IdToken"], tokens["AccessToken"])


@pytest.fixture(scope="module")
def pools(moto_server: str) -> tuple[Pool, Pool]:
    return make_pool(moto_server, "first"), make_pool(moto_server, "second")


@pytest.fixture(scope="module")
def pool(pools: tuple[Pool, Pool]) -> Pool:
    return pools[0]


@pytest.fixture
def verifier(moto_server: str) -> JwtVerifier:
    return JwtVerifier(moto_server)


@pytest.fixture(scope="module")
def pool_key() -> RSAKey:
    """The key the local Cognito signs with (moto's, the same for every pool)."""
    resources = Path(moto.cognitoidp.__file__).parent / "resources"
    return RSAKey.import_key(
        json.loads(gzip.decompress((resources / "jwks-private.json.gz").read_bytes()))
    )


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    def decoded(part: str) -> Any:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    header, payload, signature = token.split(".")
    return decoded(header), decoded(payload), signature


def encoded(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def signed(header: dict[str, Any], payload: dict[str, Any], key: RSAKey | bytes) -> str:
    """A compact JWS made by hand (RS256 with an RSA key, HS256 with bytes): any header."""
    signing_input = f"{encoded(header)}.{encoded(payload)}".encode()
    if isinstance(key, bytes):
        signature = hmac.new(key, signing_input, hashlib.sha256).digest()
    else:
        signature = key.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode()}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def resigned(token: str, key: RSAKey, header: dict[str, Any] | None = None, **claims: Any) -> str:
    """`token` with some claims (None: removed) or its header changed, signed with `key`."""
    old_header, payload, _ = parts(token)
    payload = {name: value for name, value in {**payload, **claims}.items() if value is not None}
    return signed(header if header is not None else old_header, payload, key)


def at(moment: float) -> Callable[[pytest.MonkeyPatch], None]:
    """The authorizer's clock set to `moment` (only its clock: the module's `time`)."""

    def apply(monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(jwt_authorizer, "time", types.SimpleNamespace(time=lambda: moment))

    return apply


# -- tokens the pool issued ----------------------------------------------------------------------


def test_the_local_pool_signs_with_the_key_these_tests_resign_with(
    pool: Pool, pool_key: RSAKey, verifier: JwtVerifier
) -> None:
    served = verifier.key_set(pool.issuer).as_dict()["keys"]
    assert [key["n"] for key in served] == [pool_key.as_dict(private=False)["n"]]
    assert parts(pool.id_token)[0]["kid"] == pool_key.kid


def test_an_id_token_of_the_pool_is_accepted(pool: Pool, verifier: JwtVerifier) -> None:
    claims = verifier.claims(pool.authorizer(), {"authorization": f"Bearer {pool.id_token}"})
    assert claims["iss"] == pool.issuer
    assert claims["aud"] == pool.client
    assert claims["token_use"] == "id"
    assert claims["sub"] == parts(pool.id_token)[1]["sub"]


def test_an_access_token_is_accepted_by_its_client_id(pool: Pool, verifier: JwtVerifier) -> None:
    assert "aud" not in parts(pool.access_token)[1]
    claims = verifier.claims(pool.authorizer(), {"authorization": f"Bearer {pool.access_token}"})
    assert (claims["client_id"], claims["token_use"]) == (pool.client, "access")


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("authorization", "Bearer {}"),
        ("authorization", "bearer {}"),
        ("authorization", "  Bearer   {}  "),
        ("authorization", "{}"),  # the identity source may hold the bare token
        ("x-id-token", "{}"),  # another identity source header
    ],
)
def test_the_token_is_read_from_the_identity_source(
    pool: Pool, verifier: JwtVerifier, header: str, value: str
) -> None:
    authorizer = pool.authorizer(header=header)
    claims = verifier.claims(authorizer, {header: value.format(pool.id_token)})
    assert claims["aud"] == pool.client
    if header != "authorization":  # the token in another header than the source: refused
        with pytest.raises(Unauthorized):
            verifier.claims(authorizer, {"authorization": f"Bearer {pool.id_token}"})


# -- audience and issuer -------------------------------------------------------------------------


def test_the_audience_must_be_one_of_the_authorizers(pool: Pool, verifier: JwtVerifier) -> None:
    headers = {"authorization": f"Bearer {pool.id_token}"}
    with pytest.raises(Unauthorized, match="audience"):
        verifier.claims(pool.authorizer(pool.other_client), headers)
    with pytest.raises(Unauthorized, match="audience"):
        verifier.claims(pool.authorizer("web"), headers)  # a client's name is no id
    assert verifier.claims(pool.authorizer(pool.other_client, pool.client), headers)


def test_a_token_of_another_client_of_the_pool_is_refused(
    pool: Pool, pool_key: RSAKey, verifier: JwtVerifier
) -> None:
    other = resigned(pool.id_token, pool_key, aud=pool.other_client)
    with pytest.raises(Unauthorized, match="audience"):
        verifier.claims(pool.authorizer(), {"authorization": other})
    assert verifier.claims(pool.authorizer(pool.other_client), {"authorization": other})


def test_a_token_of_another_pool_is_refused(
    pools: tuple[Pool, Pool], verifier: JwtVerifier
) -> None:
    """Both pools sign with the same key locally: the issuer is what tells them apart."""
    first, second = pools
    theirs = {"authorization": f"Bearer {second.id_token}"}
    accepting_their_client = Authorizer(first.issuer, (second.client,))
    with pytest.raises(Unauthorized, match="issuer"):
        verifier.claims(accepting_their_client, theirs)
    assert verifier.claims(second.authorizer(), theirs)["iss"] == second.issuer


@pytest.mark.parametrize(
    "issuer",
    [
        "https://cognito-idp.eu-west-2.amazonaws.com/{}",
        "https://cognito-idp.eu-west-1.amazonaws.com/{}/",
        "http://cognito-idp.eu-west-1.amazonaws.com/{}",
    ],
)
def test_the_issuer_must_be_exactly_the_configured_one(
    pool: Pool, verifier: JwtVerifier, issuer: str
) -> None:
    authorizer = Authorizer(issuer.format(pool.id), (pool.client,))
    with pytest.raises(Unauthorized, match="issuer"):
        verifier.claims(authorizer, {"authorization": pool.id_token})


# -- time ----------------------------------------------------------------------------------------


def test_a_token_is_valid_until_it_expires(
    pool: Pool, verifier: JwtVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims = parts(pool.id_token)[1]
    headers = {"authorization": pool.id_token}
    at(claims["exp"] - 1)(monkeypatch)
    assert verifier.claims(pool.authorizer(), headers)
    at(claims["exp"])(monkeypatch)
    with pytest.raises(Unauthorized, match="expired"):
        verifier.claims(pool.authorizer(), headers)
    at(claims["exp"] + 3600)(monkeypatch)
    with pytest.raises(Unauthorized, match="expired"):
        verifier.claims(pool.authorizer(), headers)


def test_a_token_issued_in_the_future_is_refused(
    pool: Pool, verifier: JwtVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = parts(pool.id_token)[1]["iat"]
    headers = {"authorization": pool.id_token}
    at(issued)(monkeypatch)
    assert verifier.claims(pool.authorizer(), headers)
    at(issued - 60)(monkeypatch)
    with pytest.raises(Unauthorized, match="future"):
        verifier.claims(pool.authorizer(), headers)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (lambda now: {"exp": None}, "expired"),  # no expiry at all
        (lambda now: {"exp": "tomorrow"}, "expired"),
        (lambda now: {"nbf": now + 600}, "not valid yet"),
        (lambda now: {"iat": now + 600}, "future"),
    ],
    ids=["no-exp", "exp-not-a-number", "nbf-ahead", "iat-ahead"],
)
def test_a_token_with_bad_times_is_refused(
    pool: Pool,
    pool_key: RSAKey,
    verifier: JwtVerifier,
    claims: Callable[[float], dict[str, Any]],
    reason: str,
) -> None:
    assert verifier.claims(pool.authorizer(), {"authorization": resigned(pool.id_token, pool_key)})
    token = resigned(pool.id_token, pool_key, **claims(time.time()))
    with pytest.raises(Unauthorized, match=reason):
        verifier.claims(pool.authorizer(), {"authorization": token})


# -- forged and broken tokens --------------------------------------------------------------------


def test_a_tampered_payload_or_signature_is_refused(pool: Pool, verifier: JwtVerifier) -> None:
    header, payload, signature = pool.id_token.split(".")
    claims = parts(pool.id_token)[1]
    someone_else = encoded({**claims, "sub": "another-user"})
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    for forged in (f"{header}.{someone_else}.{signature}", f"{header}.{payload}.{flipped}"):
        with pytest.raises(Unauthorized, match="does not verify"):
            verifier.claims(pool.authorizer(), {"authorization": forged})


def test_alg_none_and_a_symmetric_key_made_of_the_public_key_are_refused(
    pool: Pool, pool_key: RSAKey, verifier: JwtVerifier
) -> None:
    _, claims, _ = parts(pool.id_token)
    unsigned = f"{encoded({'alg': 'none', 'kid': pool_key.kid})}.{encoded(claims)}."
    confused = signed({"alg": "HS256", "kid": pool_key.kid}, claims, pool_key.as_pem(private=False))

    for forged in (unsigned, confused):
        with pytest.raises(Unauthorized, match="does not verify"):
            verifier.claims(pool.authorizer(), {"authorization": f"Bearer {forged}"})


def test_a_token_signed_by_another_key_under_the_pools_key_id_is_refused(
    pool: Pool, pool_key: RSAKey, verifier: JwtVerifier
) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": pool_key.kid})
    with pytest.raises(Unauthorized, match="does not verify"):
        verifier.claims(pool.authorizer(), {"authorization": resigned(pool.id_token, stranger)})


@pytest.mark.parametrize(
    "header",
    [{"alg": "RS256"}, {"alg": "RS256", "kid": "another-key"}, {"alg": "RS256", "kid": 7}],
    ids=["no-kid", "unknown-kid", "kid-not-a-string"],
)
def test_a_token_must_name_the_pools_key(
    pool: Pool, pool_key: RSAKey, verifier: JwtVerifier, header: dict[str, Any]
) -> None:
    """As on AWS: the header's kid must match a key of the issuer's JWKS."""
    good = resigned(pool.id_token, pool_key, header={"alg": "RS256", "kid": pool_key.kid})
    assert verifier.claims(pool.authorizer(), {"authorization": good})
    with pytest.raises(Unauthorized, match="does not verify"):
        verifier.claims(
            pool.authorizer(), {"authorization": resigned(pool.id_token, pool_key, header=header)}
        )


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Bearer",
        "Bearer    ",
        "garbage",
        "a.b.c",
        "...",
        "é.é.é",
        "eyJhbGciOiJSUzI1NiJ9",
        f"{encoded([])}.{encoded({})}.",
        f"{encoded('RS256')}.{encoded({})}.x",
        "x" * 100_000,
        "Basic dXNlcjpwYXNz",
    ],
)
def test_garbage_is_refused_never_an_error(pool: Pool, verifier: JwtVerifier, value: str) -> None:
    with pytest.raises(Unauthorized):
        verifier.claims(pool.authorizer(), {"authorization": value})


def test_odd_audiences_in_a_signed_token_are_refused_not_errors(
    pool: Pool, pool_key: RSAKey, verifier: JwtVerifier
) -> None:
    for audience in ({"client": pool.client}, [[pool.client]], 42, None):
        token = resigned(pool.id_token, pool_key, aud=audience)
        with pytest.raises(Unauthorized, match="audience"):
            verifier.claims(pool.authorizer(), {"authorization": token})
    listed = resigned(pool.id_token, pool_key, aud=["someone", pool.client])
    assert verifier.claims(pool.authorizer(), {"authorization": listed})


# -- the keys ------------------------------------------------------------------------------------


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield port


def test_keys_that_cannot_be_fetched_are_a_401_not_an_error(pool: Pool, closed_port: int) -> None:
    unreachable = JwtVerifier(f"http://127.0.0.1:{closed_port}")
    with pytest.raises(Unauthorized, match="no keys"):
        unreachable.claims(pool.authorizer(), {"authorization": pool.id_token})


def test_an_authorizer_for_a_pool_that_does_not_exist_refuses_the_pools_tokens(
    pool: Pool, verifier: JwtVerifier
) -> None:
    unknown = Authorizer(f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_Nope", ("x",))
    with pytest.raises(Unauthorized):
        verifier.claims(unknown, {"authorization": pool.id_token})


def test_a_pools_keys_are_fetched_once(pool: Pool, verifier: JwtVerifier, closed_port: int) -> None:
    headers = {"authorization": pool.id_token}
    assert verifier.claims(pool.authorizer(), headers)
    verifier.endpoint = f"http://127.0.0.1:{closed_port}"  # the local AWS gone: keys kept
    assert verifier.claims(pool.authorizer(), headers)
    assert list(verifier.keys) == [pool.id]
    assert isinstance(verifier.keys[pool.id], KeySet)


# -- claims as the function sees them ------------------------------------------------------------


def test_claims_reach_the_function_as_api_gateway_shows_them() -> None:
    shown = request_claims(
        {
            "sub": "u-1",
            "exp": 1796178401,
            "email_verified": True,
            "phone_number_verified": False,
            "cognito:groups": ["admins", "editors"],
            "ratio": 0.5,
        }
    )
    assert shown == {
        "sub": "u-1",
        "exp": "1796178401",
        "email_verified": "true",
        "phone_number_verified": "false",
        "cognito:groups": "[admins editors]",
        "ratio": "0.5",
    }
