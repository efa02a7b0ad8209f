"""Write tests/web/srp_vectors.json: Cognito SRP values for fixed inputs, from pycognito.

The page's SRP math (web/srp.js) is checked against these vectors in a JavaScript engine.
Every expected value comes from pycognito's own implementation (`pycognito.aws_srp`): its
`AWSSRP` with the random `a` replaced by a fixed one, and its `process_challenge` with the
clock fixed. The server's side is played here from first principles (v = g^x,
B = k*v + g^b, S = (A * v^u)^b), so a vector is also a proof that pycognito's key is the
one a Cognito server would derive: the generator refuses to write one where they differ.

    .venv/bin/python tests/web/make_srp_vectors.py          # rewrite the file
    .venv/bin/python tests/web/make_srp_vectors.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from pycognito import aws_srp

OUT = Path(__file__).with_name("srp_vectors.json")
POOL_ID = "eu-west-1_Ph0t0sP00l"
CLIENT_ID = "1example23456789abcdefghij"  # public client: no secret, no SECRET_HASH


def fixed_bytes(label: str, size: int) -> bytes:
    """Deterministic 'random' bytes: the same label always gives the same bytes."""
    return hashlib.shake_256(label.encode()).digest(size)


def srp_client(username: str, password: str, random_a: bytes) -> aws_srp.AWSSRP:
    """pycognito's client with its random a replaced by one made from `random_a`."""
    client = aws_srp.AWSSRP(
        username=username,
        password=password,
        pool_id=POOL_ID,
        client_id=CLIENT_ID,
        client=object(),  # never called: only the math is used
    )
    # generate_random_small_a() is get_random(128) % N: the same reduction here.
    client.small_a_value = int.from_bytes(random_a, "big") % client.big_n
    client.large_a_value = client.calculate_a()
    return client


def server_b(client: aws_srp.AWSSRP, verifier: int, small_b: int) -> int:
    """B = (k*v + g^b) mod N, as the server computes it."""
    n, g, k = client.big_n, client.val_g, client.val_k
    return (k * verifier + pow(g, small_b, n)) % n


def password_x(user_id: str, password: str, salt_hex: str) -> int:
    """x from pycognito's own hashing helpers (what the server stores v = g^x for)."""
    pool = POOL_ID.split("_")[1]
    inner = aws_srp.hash_sha256(f"{pool}{user_id}:{password}".encode())
    return aws_srp.hex_to_long(aws_srp.hex_hash(aws_srp.pad_hex(salt_hex) + inner))


def make_case(name: str, seed: str, *, user_id: str, username: str, password: str,
              salt_hex: str, when: dt.datetime) -> dict[str, Any]:  # fmt: skip
    random_a = fixed_bytes(f"{seed}/a", 128)
    small_b = int.from_bytes(fixed_bytes(f"{seed}/b", 128), "big")
    secret_block = base64.standard_b64encode(fixed_bytes(f"{seed}/secret-block", 172)).decode()
    client = srp_client(username, password, random_a)
    n = client.big_n
    x = password_x(user_id, password, salt_hex)
    verifier = pow(client.val_g, x, n)
    b_value = server_b(client, verifier, small_b)
    u = aws_srp.calculate_u(client.large_a_value, b_value)
    # The server's premaster secret and key, not pycognito's: the two must agree.
    server_s = pow(client.large_a_value * pow(verifier, u, n), small_b, n)
    server_key = aws_srp.compute_hkdf(
        bytes.fromhex(aws_srp.pad_hex(server_s)), bytes.fromhex(aws_srp.pad_hex(u))
    )
    client_key = client.get_password_authentication_key(user_id, password, b_value, salt_hex)
    if client_key != server_key:
        raise SystemExit(f"{name}: pycognito's key differs from the server's")
    challenge = {
        "SALT": salt_hex,
        "SECRET_BLOCK": secret_block,
        "SRP_B": aws_srp.long_to_hex(b_value),
        "USERNAME": user_id,
        "USER_ID_FOR_SRP": user_id,
    }
    with mock.patch.object(aws_srp, "datetime") as clock:
        clock.datetime.utcnow.return_value = when.replace(tzinfo=None)
        responses = client.process_challenge(challenge, {"USERNAME": username})
    return {
        "name": name,
        "input": {
            "user_pool_id": POOL_ID,
            "username": username,
            "password": password,
            "random_a_hex": random_a.hex(),
            "challenge": challenge,
            "time_utc": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        # How the server made B (v = g^x, B = k*v + g^b): not for the page, for the checks.
        "server": {
            "small_b_hex": aws_srp.long_to_hex(small_b),
            "verifier_hex": aws_srp.long_to_hex(verifier),
        },
        "expected": {
            "small_a_hex": aws_srp.long_to_hex(client.small_a_value),
            "srp_a_hex": client.get_auth_params()["SRP_A"],
            "u_hex": aws_srp.long_to_hex(u),
            "x_hex": aws_srp.long_to_hex(x),
            "s_hex": aws_srp.long_to_hex(server_s),
            "hkdf_hex": client_key.hex(),
            "timestamp": aws_srp.AWSSRP.get_cognito_formatted_timestamp(when),
            "challenge_responses": responses,
        },
    }


def padded(value_hex: str) -> str:
    return aws_srp.pad_hex(value_hex)


# Properties a case is searched for, so padding branches are all exercised.
NEEDS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "s needs a 00 pad": lambda c: padded(c["expected"]["s_hex"]).startswith("00"),
    "s has an odd number of hex digits": lambda c: len(c["expected"]["s_hex"]) % 2 == 1,
    "u needs a 00 pad": lambda c: padded(c["expected"]["u_hex"]).startswith("00"),
    "u has an odd number of hex digits": lambda c: len(c["expected"]["u_hex"]) % 2 == 1,
    "A has an odd number of hex digits": lambda c: len(c["expected"]["srp_a_hex"]) % 2 == 1,
    "B needs a 00 pad": lambda c: padded(c["input"]["challenge"]["SRP_B"]).startswith("00"),
}


def uncovered(made: list[dict[str, Any]]) -> list[str]:
    """The properties in NEEDS that no case has."""
    return [need for need, holds in NEEDS.items() if not any(holds(case) for case in made)]


def cases() -> list[dict[str, Any]]:
    user = "3f6a2b1c-7d8e-4f90-a1b2-c3d4e5f60718"  # USER_ID_FOR_SRP: the user's sub
    email = "ada@example.com"
    base = {"user_id": user, "username": email, "password": "Correct-Horse-9-Battery"}
    salt = "6c2e93f1b07a4d5e8f9a0b1c2d3e4f50"
    made = [
        make_case("single-digit day", "day", **base, salt_hex=salt,
                  when=dt.datetime(2026, 12, 2, 1, 23, 45, tzinfo=dt.UTC)),
        make_case("two-digit day, end of year", "late", **base, salt_hex=salt,
                  when=dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=dt.UTC)),
        make_case("salt with the high bit set", "high-salt", **base,
                  salt_hex="e1d2c3b4a5968778695a4b3c2d1e0f00",
                  when=dt.datetime(2027, 2, 28, 9, 5, 7, tzinfo=dt.UTC)),
        make_case("salt with an odd number of digits", "odd-salt", **base,
                  salt_hex="7a1b2c3d4e5f60718293a4b5c6d7e8f",
                  when=dt.datetime(2026, 7, 4, 12, 0, 0, tzinfo=dt.UTC)),
        make_case("non-ASCII password", "unicode",
                  user_id=user, username=email, password="Pässwörd-Ünïcode-1€ 写真",
                  salt_hex=salt, when=dt.datetime(2026, 3, 9, 0, 0, 1, tzinfo=dt.UTC)),
        # Seeds found by trying: S and u with an odd number of hex digits (a 1 in 16 chance).
        make_case("S with an odd number of hex digits", "s has an odd number of hex digits/8",
                  **base, salt_hex=salt, when=dt.datetime(2026, 11, 5, 6, 7, 8, tzinfo=dt.UTC)),
        make_case("u with an odd number of hex digits", "u has an odd number of hex digits/4",
                  **base, salt_hex=salt, when=dt.datetime(2026, 11, 5, 6, 7, 8, tzinfo=dt.UTC)),
    ]  # fmt: skip
    missing = uncovered(made)
    if missing:
        raise SystemExit(f"no case where {', '.join(missing)}: pick other seeds")
    return made


def vectors() -> dict[str, Any]:
    client = srp_client("ada@example.com", "x", b"\x01")
    return {
        "about": (
            "Cognito USER_SRP_AUTH values for fixed inputs, computed by pycognito"
            " (pycognito.aws_srp). Written by "
            "tests/web/make_srp_vectors.py; do not edit. Each case: the random bytes a comes "
            "from, the PASSWORD_VERIFIER challenge, the clock; then every value web/srp.js "
            "must derive, hex without padding."
        ),
        "group": {
            "n_hex": aws_srp.N_HEX.lower(),
            "g_hex": aws_srp.G_HEX,
            "k_hex": aws_srp.long_to_hex(client.val_k),
        },
        "cases": cases(),
    }


def render() -> str:
    return json.dumps(vectors(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is out of date: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
