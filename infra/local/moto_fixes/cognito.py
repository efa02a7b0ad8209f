"""Fixes to moto's Cognito: user pools made from templates, sign-up codes, sign-in and tokens."""

from __future__ import annotations

from typing import Any


def deliver_confirmation_codes() -> None:
    """Sign-up codes are sent and checked, as Cognito does (moto confirms with any code and
    has no ResendConfirmationCode).

    Each sign-up gets a random six-digit code, "sent" as one JSON line appended to the
    file `INFRA_LOCAL_MAILBOX` names (the local run prints it; a test reads it). The code
    belongs to the user, whichever app client of the pool confirms: ConfirmSignUp with
    another code is Cognito's CodeMismatchException, and with no code on record (a code
    the server never sent) ExpiredCodeException. ResendConfirmationCode sends a new code
    in place of the old one (by the mailbox, whatever the pool's settings); for a confirmed
    user it is InvalidParameterException.
    """
    import json
    import os
    import secrets

    from moto.cognitoidp.exceptions import (
        CodeMismatchException,
        ExpiredCodeException,
        InvalidParameterException,
        ResourceNotFoundError,
        UserNotFoundError,
    )
    from moto.cognitoidp.models import UserStatus
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.responses import ActionResult

    codes: dict[tuple[str, str], str] = {}  # (pool id, username) -> the code last sent
    sign_up, confirm = CognitoIdpResponse.sign_up, CognitoIdpResponse.confirm_sign_up

    def found(self: Any) -> tuple[Any, Any]:
        """(pool, user or None) for the request's ClientId and Username."""
        client = self._get_param("ClientId")
        backend = self._get_region_agnostic_backend()._find_backend_for_clientid(client)
        pool = next((p for p in backend.user_pools.values() if client in p.clients), None)
        if pool is None:
            raise ResourceNotFoundError(client)
        return pool, pool._get_user(str(self._get_param("Username")))

    def recipient(user: Any) -> str:
        return str(user.attribute_lookup.get("email") or user.username)

    def send_code(pool: Any, user: Any) -> None:
        """A new code for the user, mailed to their email (or, with none, their username)."""
        code = f"{secrets.randbelow(1_000_000):06d}"
        codes[(pool.id, user.username)] = code
        mailbox = os.environ.get("INFRA_LOCAL_MAILBOX")
        if mailbox:
            message = {"to": recipient(user), "subject": "Your verification code", "code": code}
            with open(mailbox, "a", encoding="utf-8") as box:
                box.write(json.dumps(message) + "\n")

    def sign_up_with_code(self: Any) -> Any:
        result = sign_up(self)
        pool, user = found(self)
        send_code(pool, user)
        return result

    def confirm_with_code(self: Any) -> Any:
        pool, user = found(self)
        if user is not None and user.status == UserStatus.UNCONFIRMED:
            expected = codes.get((pool.id, user.username))
            if expected is None:
                raise ExpiredCodeException("Invalid code provided, please request a code again.")
            if self._get_param("ConfirmationCode") != expected:
                raise CodeMismatchException("Invalid verification code provided, please try again.")
        result = confirm(self)
        if user is not None:
            codes.pop((pool.id, user.username), None)
        return result

    def resend_confirmation_code(self: Any) -> ActionResult:
        pool, user = found(self)
        if user is None:
            raise UserNotFoundError("Username/client id combination not found.")
        if user.status != UserStatus.UNCONFIRMED:
            raise InvalidParameterException("User is already confirmed.")
        send_code(pool, user)
        name, _, domain = recipient(user).partition("@")
        shown = f"{name[:1]}***@{domain[:1]}***" if domain else f"{name[:1]}***"
        details = {"Destination": shown, "DeliveryMedium": "EMAIL", "AttributeName": "email"}
        return ActionResult({"CodeDeliveryDetails": details})

    CognitoIdpResponse.sign_up = sign_up_with_code
    CognitoIdpResponse.confirm_sign_up = confirm_with_code
    CognitoIdpResponse.resend_confirmation_code = resend_confirmation_code  # type: ignore[attr-defined]


def route_unsigned_global_sign_outs() -> None:
    """GlobalSignOut from a browser (unsigned) finds its user in any region, as moto's
    SignUp, InitiateAuth and GetUser do.

    Cognito's endpoint names its region. The local AWS has one endpoint for all, and moto
    files an unsigned request under us-east-1, so a browser's "sign out everywhere" found no
    session there (NotAuthorizedException) and ended nothing.
    """
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.responses import EmptyResult

    def global_sign_out(self: CognitoIdpResponse) -> EmptyResult:
        token = self._get_param("AccessToken")
        backend = self._get_region_agnostic_backend()._find_backend_by_access_token(token)
        backend.global_sign_out(token)
        return EmptyResult()

    CognitoIdpResponse.global_sign_out = global_sign_out  # type: ignore[method-assign]


def revoke_refresh_tokens() -> None:
    """RevokeToken ends a refresh token's session, as Cognito does (moto has no RevokeToken:
    its server answers a bare 500, without CORS headers, so a browser sees a network error).

    The refresh token and every access token issued from it are revoked: a refresh, or
    GetUser with one of those access tokens, is then NotAuthorizedException. A token issued
    to another client is UnauthorizedException, a client without token revocation
    UnsupportedOperationException, an access or ID token UnsupportedTokenTypeException;
    revoking an unknown or revoked refresh token changes nothing and succeeds.
    """
    import base64
    import json

    from moto.cognitoidp.exceptions import ResourceNotFoundError
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import EmptyResult

    def origin_of(token: str) -> str | None:
        """The access token's `origin_jti`: the sign-in (refresh token) it came from."""
        try:
            payload = token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (IndexError, ValueError):
            return None
        return claims.get("origin_jti") if isinstance(claims, dict) else None

    def revoke_token(self: CognitoIdpResponse) -> EmptyResult:
        client_id, token = self._get_param("ClientId"), str(self._get_param("Token"))
        backend = self._get_region_agnostic_backend()._find_backend_for_clientid(client_id)
        pool = next((p for p in backend.user_pools.values() if client_id in p.clients), None)
        if pool is None:
            raise ResourceNotFoundError(client_id)
        client = pool.clients[client_id]
        if client.generate_secret and self._get_param("ClientSecret") != client.secret:
            raise JsonRESTError("UnauthorizedException", "The client secret is not valid.")
        if str(client.extended_config.get("EnableTokenRevocation", True)).lower() == "false":
            raise JsonRESTError(
                "UnsupportedOperationException", "Token revocation is not enabled for this client."
            )
        if token in pool.access_tokens or token in pool.id_tokens:
            raise JsonRESTError("UnsupportedTokenTypeException", "Only refresh tokens are revoked.")
        issued = pool.refresh_tokens.get(token)
        if issued is None:
            return EmptyResult()
        issued_to, _, origin = issued
        if issued_to != client_id:
            raise JsonRESTError("UnauthorizedException", "The token was issued to another client.")
        pool.refresh_tokens[token] = None
        for access_token in [t for t in pool.access_tokens if origin_of(t) == origin]:
            del pool.access_tokens[access_token]
        return EmptyResult()

    CognitoIdpResponse.revoke_token = revoke_token  # type: ignore[attr-defined]


def put_user_attributes_in_id_tokens() -> None:
    """An ID token carries the user's attributes, as Cognito's does.

    Cognito puts in every attribute the app client may read (all of them when its
    ReadAttributes is not set), `email_verified` and `phone_number_verified` as booleans.
    moto puts in only the attributes ReadAttributes names, and in a pool that signs in by
    email sets `email` to the name the user signed in with: after SRP, which names the user
    by their sub, the token's email was the sub.
    """
    from moto.cognitoidp.models import CognitoIdpUserPool

    flags = {"email_verified", "phone_number_verified"}

    def readable_attributes(self: CognitoIdpUserPool, client_id: str, username: str) -> dict:
        client = self.clients.get(client_id)
        readable = set(client.get_readable_fields()) if client else set()
        claims: dict[str, Any] = {}
        for attribute in self._get_user(username).attributes:
            name, value = attribute["Name"], attribute["Value"]
            if not readable or name in readable:
                claims[name] = str(value).lower() == "true" if name in flags else value
        return claims

    CognitoIdpUserPool.get_user_extra_data_by_client_id = readable_attributes  # type: ignore[method-assign]


def create_cognito_resources() -> None:
    """AWS::Cognito::UserPool and UserPoolClient really created, so sign-up works locally.

    moto's CloudFormation accepts both without creating them (the accepted-resources fix
    only gives them ids); these models create them in moto's Cognito, with the template's
    properties as the API's.
    """
    from moto.cloudformation import parsing
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.core.common_models import CloudFormationModel

    class UserPool(CloudFormationModel):
        __module__ = "moto.cognitoidp"

        def __init__(self, pool: Any) -> None:
            self.pool = pool

        @property
        def physical_resource_id(self) -> str:
            return str(self.pool.id)

        @staticmethod
        def cloudformation_name_type() -> str:
            return "UserPoolName"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Cognito::UserPool"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr in ("Arn", "ProviderName", "ProviderURL", "UserPoolId")

        def get_cfn_attribute(self, attribute_name: str) -> str:
            provider = f"cognito-idp.{self.pool.region}.amazonaws.com/{self.pool.id}"
            return {
                "Arn": self.pool.arn,
                "ProviderName": provider,
                "ProviderURL": f"https://{provider}",
                "UserPoolId": self.pool.id,
            }[attribute_name]

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str, **kwargs: Any,
        ) -> UserPool:  # fmt: skip
            properties = dict(cloudformation_json.get("Properties", {}))
            name = properties.pop("UserPoolName", resource_name)
            backend = cognitoidp_backends[account_id][region_name]
            return cls(backend.create_user_pool(name, properties))

        @classmethod
        def update_from_cloudformation_json(  # type: ignore[override]
            cls, original_resource: UserPool, new_resource_name: str, cloudformation_json: Any,
            account_id: str, region_name: str,
        ) -> UserPool:  # fmt: skip
            properties = dict(cloudformation_json.get("Properties", {}))
            properties.pop("UserPoolName", None)
            original_resource.pool.extended_config.update(properties)
            return original_resource

        @classmethod
        def delete_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
        ) -> None:
            return None

    class UserPoolClient(CloudFormationModel):
        __module__ = "moto.cognitoidp"

        def __init__(self, client: Any) -> None:
            self.client = client

        @property
        def physical_resource_id(self) -> str:
            return str(self.client.id)

        @staticmethod
        def cloudformation_name_type() -> str:
            return "ClientName"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Cognito::UserPoolClient"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr in ("ClientId", "Name", "ClientSecret")

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return {
                "ClientId": self.client.id,
                "Name": self.client.extended_config.get("ClientName", ""),
                "ClientSecret": self.client.secret or "",
            }[attribute_name]

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str, **kwargs: Any,
        ) -> UserPoolClient:  # fmt: skip
            properties = dict(cloudformation_json.get("Properties", {}))
            pool_id = properties.pop("UserPoolId")
            secret = str(properties.pop("GenerateSecret", False)).lower() == "true"
            backend = cognitoidp_backends[account_id][region_name]
            return cls(backend.create_user_pool_client(pool_id, secret, properties))

        @classmethod
        def update_from_cloudformation_json(  # type: ignore[override]
            cls, original_resource: UserPoolClient, new_resource_name: str,
            cloudformation_json: Any, account_id: str, region_name: str,
        ) -> UserPoolClient:  # fmt: skip
            properties = dict(cloudformation_json.get("Properties", {}))
            properties.pop("UserPoolId", None)
            properties.pop("GenerateSecret", None)
            original_resource.client.extended_config.update(properties)
            return original_resource

        @classmethod
        def delete_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
        ) -> None:
            return None

    models = {model.cloudformation_type(): model for model in (UserPool, UserPoolClient)}
    known = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str) -> Any:
        return models.get(resource_type) or known(resource_type)

    parsing.resource_class_from_type = resource_class_from_type


def verify_srp_password_claims() -> None:
    """USER_SRP_AUTH proves the password, as Cognito's SRP-6a does (moto signs anyone in).

    moto answers InitiateAuth with a random SALT and SRP_B and then accepts any
    PASSWORD_CLAIM_SIGNATURE, so a wrong password signs in. Here the server plays Cognito's
    side: the 3072-bit group of RFC 5054 with g = 2, k = H(N | g), the verifier
    v = g^x for x = H(salt | H(pool name | user id | ":" | password)) (moto keeps the plain
    password, so v is derived when the sign-in starts), B = k*v + g^b, u = H(A | B),
    S = (A * v^u)^b, the key HKDF(S, salt u, "Caldera Derived Key") and the signature
    HMAC-SHA256(key, pool name | user id | secret block | timestamp). Numbers are hashed as
    Cognito pads them: big-endian, with a zero byte in front when the top bit is set.

    A wrong signature, or a claim for another user or client, is NotAuthorizedException and
    ends the attempt; the right one goes on into moto's flow (tokens or the next challenge).
    As Cognito does, USER_ID_FOR_SRP is the user's username (moto gives its `sub`, which
    is the same for a pool that signs in with email) and SECRET_BLOCK is base64 (moto's is
    a UUID, which a browser's `atob` refuses).
    """
    import base64
    import hashlib
    import hmac
    import re
    import secrets
    from dataclasses import dataclass

    from moto.cognitoidp.exceptions import InvalidParameterException, NotAuthorizedError
    from moto.cognitoidp.models import CognitoIdpBackend

    n = int(
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A"
        "08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9"
        "A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163"
        "BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D"
        "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C5"
        "5DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D"
        "04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB09"
        "33D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
        "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFF"
        "FFFFFFFFFFFF",
        16,
    )
    g = 2
    wrong = "Incorrect username or password."

    def padded(value: int) -> bytes:
        return value.to_bytes(value.bit_length() // 8 + 1, "big")

    def digest(data: bytes) -> int:
        return int.from_bytes(hashlib.sha256(data).digest(), "big")

    k = digest(padded(n) + padded(g))

    @dataclass(frozen=True)
    class Claim:
        client_id: str
        pool_name: str
        user_id: str
        big_a: int
        big_b: int
        small_b: int
        verifier: int

    claims: dict[str, Claim] = {}
    initiate = CognitoIdpBackend.initiate_auth
    respond = CognitoIdpBackend.respond_to_auth_challenge

    def initiate_auth(
        self: CognitoIdpBackend, client_id: str, auth_flow: str, auth_parameters: dict[str, str]
    ) -> dict[str, Any]:
        result = initiate(self, client_id, auth_flow, auth_parameters)
        if auth_flow != "USER_SRP_AUTH" or result.get("ChallengeName") != "PASSWORD_VERIFIER":
            return result
        username, pool = self.sessions.pop(result["Session"])
        if not re.fullmatch(r"[0-9a-fA-F]+", str(auth_parameters["SRP_A"])):
            raise InvalidParameterException("SRP_A is not a hexadecimal number.")
        big_a = int(auth_parameters["SRP_A"], 16)
        if big_a % n == 0:
            raise NotAuthorizedError(wrong)
        user = pool._get_user(username)
        pool_name = pool.id.split("_", 1)[1]
        salt = secrets.randbits(128) | 1 << 127
        password = user.password if user.password is not None else secrets.token_hex(32)
        inner = hashlib.sha256(f"{pool_name}{user.username}:{password}".encode()).digest()
        verifier = pow(g, digest(padded(salt) + inner), n)
        small_b = secrets.randbits(1024) | 1
        big_b = (k * verifier + pow(g, small_b, n)) % n
        secret_block = base64.standard_b64encode(secrets.token_bytes(128)).decode()
        claims[secret_block] = Claim(
            client_id, pool_name, user.username, big_a, big_b, small_b, verifier
        )
        self.sessions[secret_block] = (username, pool)
        result["Session"] = secret_block
        result["ChallengeParameters"].update(
            SALT=f"{salt:x}",
            SRP_B=f"{big_b:x}",
            USERNAME=user.username,
            USER_ID_FOR_SRP=user.username,
            SECRET_BLOCK=secret_block,
        )
        return result

    def expected_signature(claim: Claim, secret_block: str, timestamp: str) -> str:
        u = digest(padded(claim.big_a) + padded(claim.big_b))
        if u == 0:
            return ""
        premaster = pow(claim.big_a * pow(claim.verifier, u, n), claim.small_b, n)
        key = hmac.new(padded(u), padded(premaster), hashlib.sha256).digest()
        key = hmac.new(key, b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]
        message = (
            claim.pool_name.encode()
            + claim.user_id.encode()
            + base64.standard_b64decode(secret_block)
            + timestamp.encode()
        )
        return base64.standard_b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()

    def respond_to_auth_challenge(
        self: CognitoIdpBackend,
        session: str,
        client_id: str,
        challenge_name: str,
        challenge_responses: dict[str, str],
    ) -> dict[str, Any]:
        if challenge_name != "PASSWORD_VERIFIER":
            return respond(self, session, client_id, challenge_name, challenge_responses)
        answers = challenge_responses or {}
        secret_block = str(answers.get("PASSWORD_CLAIM_SECRET_BLOCK") or "")
        claim = claims.pop(secret_block, None)
        if claim is None:
            raise NotAuthorizedError("Invalid session for the user.")
        started = self.sessions.get(secret_block)
        if started is None:
            raise NotAuthorizedError("Invalid session for the user.")
        user = started[1]._get_user(str(answers.get("USERNAME") or ""))
        expected = expected_signature(claim, secret_block, str(answers.get("TIMESTAMP") or ""))
        given = str(answers.get("PASSWORD_CLAIM_SIGNATURE") or "")
        if (
            client_id != claim.client_id
            or user is None
            or user.username != claim.user_id
            or not expected
            or not hmac.compare_digest(expected.encode(), given.encode())
        ):
            del self.sessions[secret_block]
            raise NotAuthorizedError(wrong)
        return respond(self, secret_block, client_id, challenge_name, answers)

    CognitoIdpBackend.initiate_auth = initiate_auth  # type: ignore[method-assign]
    CognitoIdpBackend.respond_to_auth_challenge = respond_to_auth_challenge  # type: ignore[method-assign]


def enforce_explicit_auth_flows() -> None:
    """InitiateAuth and AdminInitiateAuth run only the flows the app client allows, as
    Cognito does (moto runs any flow it knows for any client).

    A flow needs its ALLOW_ value in the client's ExplicitAuthFlows (USER_SRP_AUTH needs
    ALLOW_USER_SRP_AUTH, USER_PASSWORD_AUTH ALLOW_USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH
    and REFRESH_TOKEN ALLOW_REFRESH_TOKEN_AUTH, CUSTOM_AUTH ALLOW_CUSTOM_AUTH,
    ADMIN_USER_PASSWORD_AUTH and ADMIN_NO_SRP_AUTH ALLOW_ADMIN_USER_PASSWORD_AUTH);
    otherwise it is Cognito's InvalidParameterException "<flow> flow not enabled for this
    client". A client with no ExplicitAuthFlows allows SRP, refresh and custom, as
    Cognito's default. The older names without ALLOW_ (ADMIN_NO_SRP_AUTH,
    USER_PASSWORD_AUTH, CUSTOM_AUTH_FLOW_ONLY) add their flow to SRP, refresh and custom,
    except CUSTOM_AUTH_FLOW_ONLY, which leaves custom and refresh only.
    """
    from moto.cognitoidp.exceptions import InvalidParameterException
    from moto.cognitoidp.models import CognitoIdpBackend

    needed = {
        "USER_SRP_AUTH": "ALLOW_USER_SRP_AUTH",
        "USER_PASSWORD_AUTH": "ALLOW_USER_PASSWORD_AUTH",
        "REFRESH_TOKEN_AUTH": "ALLOW_REFRESH_TOKEN_AUTH",
        "REFRESH_TOKEN": "ALLOW_REFRESH_TOKEN_AUTH",
        "CUSTOM_AUTH": "ALLOW_CUSTOM_AUTH",
        "ADMIN_USER_PASSWORD_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        "ADMIN_NO_SRP_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    }
    default = {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_CUSTOM_AUTH"}
    legacy = {
        "ADMIN_NO_SRP_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        "USER_PASSWORD_AUTH": "ALLOW_USER_PASSWORD_AUTH",
        "CUSTOM_AUTH_FLOW_ONLY": "ALLOW_CUSTOM_AUTH",
    }

    def allowed(client: Any) -> set[str]:
        flows = set(client.extended_config.get("ExplicitAuthFlows") or ())
        if not flows:
            return default
        if not flows & set(legacy):
            return flows
        base = {"ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_CUSTOM_AUTH"}
        if "CUSTOM_AUTH_FLOW_ONLY" not in flows:
            base.add("ALLOW_USER_SRP_AUTH")
        return base | {legacy.get(flow, flow) for flow in flows}

    def check(client: Any, auth_flow: str) -> None:
        if client is not None and auth_flow in needed and needed[auth_flow] not in allowed(client):
            raise InvalidParameterException(f"{auth_flow} flow not enabled for this client")

    initiate, admin_initiate = (
        CognitoIdpBackend.initiate_auth,
        CognitoIdpBackend.admin_initiate_auth,
    )

    def initiate_auth(
        self: CognitoIdpBackend, client_id: str, auth_flow: str, auth_parameters: dict[str, str]
    ) -> dict[str, Any]:
        pools = self.user_pools.values()
        check(
            next((p.clients[client_id] for p in pools if client_id in p.clients), None), auth_flow
        )
        return initiate(self, client_id, auth_flow, auth_parameters)

    def admin_initiate_auth(
        self: CognitoIdpBackend,
        user_pool_id: str,
        client_id: str,
        auth_flow: str,
        auth_parameters: dict[str, str],
    ) -> dict[str, Any]:
        pool = self.user_pools.get(user_pool_id)
        check(pool.clients.get(client_id) if pool else None, auth_flow)
        return admin_initiate(self, user_pool_id, client_id, auth_flow, auth_parameters)

    CognitoIdpBackend.initiate_auth = initiate_auth  # type: ignore[method-assign]
    CognitoIdpBackend.admin_initiate_auth = admin_initiate_auth  # type: ignore[method-assign]
