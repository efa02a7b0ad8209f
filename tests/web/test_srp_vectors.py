"""The SRP vectors web/srp.js is tested against: current, and right by SRP-6a itself.

tests/web/srp_vectors.json holds what pycognito computes for fixed inputs. Here it is
regenerated (so the file cannot drift from the generator), then every value is checked
again with Python's standard library alone: the client's S from the formula Cognito's
clients use, the server's S from the verifier, the HKDF, the signature, the timestamp.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pycognito", reason="pycognito (a dev dependency) computes the vectors")

from tests.web import make_srp_vectors  # after the skip: it imports pycognito

VECTORS = Path(__file__).with_name("srp_vectors.json")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # English whatever the locale
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TIMESTAMP = re.compile(
    rf"({'|'.join(DAYS)}) ({'|'.join(MONTHS)}) ([1-9]|[12][0-9]|3[01]) "
    r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] UTC [0-9]{4}"
)


def load() -> dict[str, Any]:
    return json.loads(VECTORS.read_text(encoding="utf-8"))


VECTOR_DATA = load()
CASES = VECTOR_DATA["cases"]
N = int(VECTOR_DATA["group"]["n_hex"], 16)
G = int(VECTOR_DATA["group"]["g_hex"], 16)


def pad_hex(value: int) -> str:
    """Even length, and a leading 00 when the high bit is set (a positive big-endian number)."""
    text = f"{value:x}"
    if len(text) % 2:
        return "0" + text
    return "00" + text if text[0] in "89abcdef" else text


def sha256_hex(hex_text: str) -> int:
    return int(hashlib.sha256(bytes.fromhex(hex_text)).hexdigest(), 16)


def k_value() -> int:
    return sha256_hex(pad_hex(N) + pad_hex(G))


def by_name(case: dict[str, Any]) -> str:
    return case["name"]


def test_the_vectors_file_is_what_the_generator_writes() -> None:
    assert VECTORS.read_text(encoding="utf-8") == make_srp_vectors.render(), (
        "run tests/web/make_srp_vectors.py and commit srp_vectors.json"
    )


def test_the_group_is_the_3072_bit_one_with_generator_2() -> None:
    assert N.bit_length() == 3072
    assert G == 2
    assert int(VECTOR_DATA["group"]["k_hex"], 16) == k_value()


def test_every_padding_branch_has_a_case() -> None:
    assert make_srp_vectors.uncovered(CASES) == []
    assert any(case["input"]["time_utc"][8:10] < "10" for case in CASES)
    assert any(not case["input"]["password"].isascii() for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=by_name)
def test_a_and_capital_a_come_from_the_random_bytes(case: dict[str, Any]) -> None:
    a = int(case["input"]["random_a_hex"], 16) % N
    assert len(case["input"]["random_a_hex"]) == 256  # 128 bytes, as Cognito's clients draw
    assert f"{a:x}" == case["expected"]["small_a_hex"]
    assert f"{pow(G, a, N):x}" == case["expected"]["srp_a_hex"]


@pytest.mark.parametrize("case", CASES, ids=by_name)
def test_client_and_server_agree_on_the_premaster_secret(case: dict[str, Any]) -> None:
    inp, exp, server = case["input"], case["expected"], case["server"]
    challenge = inp["challenge"]
    pool = inp["user_pool_id"].split("_")[1]
    a = int(exp["small_a_hex"], 16)
    big_a = int(exp["srp_a_hex"], 16)
    big_b = int(challenge["SRP_B"], 16)
    salt = int(challenge["SALT"], 16)
    inner = hashlib.sha256(
        f"{pool}{challenge['USER_ID_FOR_SRP']}:{inp['password']}".encode()
    ).hexdigest()
    x = sha256_hex(pad_hex(salt) + inner)
    u = sha256_hex(pad_hex(big_a) + pad_hex(big_b))
    verifier = int(server["verifier_hex"], 16)
    b = int(server["small_b_hex"], 16)
    assert verifier == pow(G, x, N)
    assert big_b == (k_value() * verifier + pow(G, b, N)) % N
    client_s = pow((big_b - k_value() * pow(G, x, N)) % N, a + u * x, N)
    server_s = pow(big_a * pow(verifier, u, N), b, N)
    assert client_s == server_s
    assert (f"{x:x}", f"{u:x}", f"{client_s:x}") == (exp["x_hex"], exp["u_hex"], exp["s_hex"])


@pytest.mark.parametrize("case", CASES, ids=by_name)
def test_the_key_and_signature_follow_from_the_secret(case: dict[str, Any]) -> None:
    inp, exp = case["input"], case["expected"]
    challenge = inp["challenge"]
    pool = inp["user_pool_id"].split("_")[1]
    s_bytes = bytes.fromhex(pad_hex(int(exp["s_hex"], 16)))
    u_bytes = bytes.fromhex(pad_hex(int(exp["u_hex"], 16)))
    prk = hmac.new(u_bytes, s_bytes, hashlib.sha256).digest()  # HKDF extract, salt = u
    key = hmac.new(prk, b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]
    assert key.hex() == exp["hkdf_hex"]
    message = (
        pool.encode()
        + challenge["USER_ID_FOR_SRP"].encode()
        + base64.b64decode(challenge["SECRET_BLOCK"])
        + exp["timestamp"].encode()
    )
    signature = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
    assert exp["challenge_responses"] == {
        "PASSWORD_CLAIM_SECRET_BLOCK": challenge["SECRET_BLOCK"],
        "PASSWORD_CLAIM_SIGNATURE": signature,
        "TIMESTAMP": exp["timestamp"],
        "USERNAME": challenge["USERNAME"],
    }


@pytest.mark.parametrize("case", CASES, ids=by_name)
def test_the_timestamp_is_cognitos_format_with_an_unpadded_day(case: dict[str, Any]) -> None:
    when = dt.datetime.strptime(case["input"]["time_utc"], "%Y-%m-%dT%H:%M:%SZ")
    stamp = case["expected"]["timestamp"]
    assert TIMESTAMP.fullmatch(stamp), stamp
    day, month = DAYS[when.weekday()], MONTHS[when.month - 1]
    assert stamp == f"{day} {month} {when.day} {when:%H:%M:%S} UTC {when.year}"
