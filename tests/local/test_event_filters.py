"""Lambda event filtering as the local runner applies it to stream and queue records.

Operators are checked one by one against a record holding a single field (present with
a matching value, present with another, absent, in an array), then in combination
(nesting, `$or`, arrays of objects), then on realistic DynamoDB stream and SQS records,
the example app's own pattern among them. Invalid patterns each have their exact
one-line message.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from infra.local.event_filters import (
    MAX_PATTERN_LENGTH,
    MAX_PATTERNS,
    EventFilter,
    FilterError,
    compile_filters,
)

ABSENT = object()  # a case's value: the record has no such field


def matches(pattern: Any, record: dict[str, Any]) -> bool:
    text = pattern if isinstance(pattern, str) else json.dumps(pattern)
    return compile_filters([text]).matches(record)


def field(value: Any) -> dict[str, Any]:
    """A record whose field `f` holds `value`, or has no `f` for ABSENT."""
    return {"other": "x"} if value is ABSENT else {"f": value, "other": "x"}


def ddb_record(event_name: str, keys: dict[str, Any], new_image: dict[str, Any] | None = None):
    """A DynamoDB stream record as Lambda delivers it (NEW_IMAGE view)."""
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": 1764633600.0,
        "Keys": keys,
        "SequenceNumber": "111",
        "SizeBytes": 26,
        "StreamViewType": "NEW_IMAGE",
    }
    if new_image is not None:
        dynamodb["NewImage"] = new_image
    return {
        "eventID": "1",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": dynamodb,
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:111111111111:table/links/stream/2026",
    }


def sqs_record(body: str, **attributes: str) -> dict[str, Any]:
    """An SQS record as Lambda delivers it."""
    return {
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", **attributes},
        "messageAttributes": {"kind": {"stringValue": "photo", "dataType": "String"}},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:111111111111:uploads",
        "awsRegion": "eu-west-1",
    }


# --- the example app's pattern --------------------------------------------------------------

LINKS_PATTERN = (
    '{"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "CLICK#"}]}}}}'
)


@pytest.mark.parametrize(
    ("event_name", "sort_key", "delivered"),
    [
        ("INSERT", "CLICK#2026-12-02T06:00:00Z#7f3a", True),  # a new click: counted
        ("MODIFY", "CLICK#2026-12-02T06:00:00Z#7f3a", False),  # the counter marking it
        ("REMOVE", "CLICK#2026-12-02T06:00:00Z#7f3a", False),  # its TTL expiring
        ("INSERT", "LINK", False),  # a new link
        ("MODIFY", "LINK", False),  # the counter adding a click to its link
        ("INSERT", "click#lowercase", False),  # prefix is case-sensitive
    ],
)
def test_the_links_app_counts_only_new_clicks(
    event_name: str, sort_key: str, delivered: bool
) -> None:
    keys = {"pk": {"S": "LINK#abc123"}, "sk": {"S": sort_key}}
    image = {**keys, "clicks": {"N": "4"}, "expires_at": {"N": "1767225600"}}
    record = ddb_record(event_name, keys, image)
    assert compile_filters([LINKS_PATTERN]).matches(record) is delivered


# --- each operator --------------------------------------------------------------------------

OPERATOR_CASES: list[tuple[str, Any, Any, bool]] = [
    # Equals: strings exactly, character by character.
    ("equals", ["INSERT"], "INSERT", True),
    ("equals", ["INSERT"], "insert", False),
    ("equals", ["INSERT"], "INSERT ", False),
    ("equals", ["INSERT"], ABSENT, False),
    ("equals", ["INSERT"], ["MODIFY", "INSERT"], True),
    ("equals", ["INSERT"], ["MODIFY"], False),
    ("equals", ["INSERT"], {"INSERT": "x"}, False),
    ("or of values", ["Credit", "Debit"], "Debit", True),
    ("or of values", ["Credit", "Debit"], "Cash", False),
    ("empty", [""], "", True),
    ("empty", [""], "x", False),
    ("empty", [""], ABSENT, False),
    ("null", [None], None, True),
    ("null", [None], "null", False),
    ("null", [None], ABSENT, False),
    ("true", [True], True, True),
    ("true", [True], 1, False),
    ("true", [True], "true", False),
    ("false", [False], False, True),
    ("false", [False], 0, False),
    ("number", [300], 300, True),
    ("number", [300], "300", False),
    ("number", [300], True, False),
    ("number", [1], True, False),
    ("number by its text", [300], 300.0, False),
    ("number by its text", [300.0], 300.0, True),
    ("number by its text", [300.0], 300, False),
    ("number by its text", [300], Decimal("300"), True),
    ("numbers", [1, 2], 2, True),
    ("numbers", [1, 2], 3, False),
    # prefix and suffix: strings only.
    ("prefix", [{"prefix": "us-"}], "us-east-1", True),
    ("prefix", [{"prefix": "us-"}], "eu-west-1", False),
    ("prefix", [{"prefix": "us-"}], "US-east-1", False),
    ("prefix", [{"prefix": "us-"}], ABSENT, False),
    ("prefix", [{"prefix": "us-"}], ["eu-west-1", "us-west-2"], True),
    ("prefix", [{"prefix": "1"}], 12, False),
    ("prefix", [{"prefix": ""}], "anything", True),
    ("prefix ignoring case", [{"prefix": {"equals-ignore-case": "US-"}}], "us-east-1", True),
    ("prefix ignoring case", [{"prefix": {"equals-ignore-case": "US-"}}], "eu-west-1", False),
    ("suffix", [{"suffix": ".png"}], "photo.png", True),
    ("suffix", [{"suffix": ".png"}], "photo.PNG", False),
    ("suffix", [{"suffix": ".png"}], "photo.png.jpg", False),
    ("suffix", [{"suffix": ".png"}], ABSENT, False),
    ("suffix ignoring case", [{"suffix": {"equals-ignore-case": ".png"}}], "photo.PNG", True),
    # equals-ignore-case: strings only.
    ("equals-ignore-case", [{"equals-ignore-case": "alice"}], "ALICE", True),
    ("equals-ignore-case", [{"equals-ignore-case": "alice"}], "Alice", True),
    ("equals-ignore-case", [{"equals-ignore-case": "alice"}], "Alicia", False),
    ("equals-ignore-case", [{"equals-ignore-case": "1"}], 1, False),
    ("equals-ignore-case", [{"equals-ignore-case": "alice"}], ABSENT, False),
    # wildcard: the whole string; * is any run, \* a literal star.
    ("wildcard", [{"wildcard": "Simple*Service"}], "SimpleQueueService", True),
    ("wildcard", [{"wildcard": "Simple*Service"}], "SimpleService", True),
    ("wildcard", [{"wildcard": "Simple*Service"}], "simplequeueservice", False),
    ("wildcard", [{"wildcard": "Simple*Service"}], "SimpleQueueServices", False),
    ("wildcard", [{"wildcard": "a*b*c"}], "axxbyyc", True),
    ("wildcard", [{"wildcard": "a*b*c"}], "axxc", False),
    ("wildcard", [{"wildcard": "uploads/*.png"}], "uploads/2026/12/a.png", True),
    ("wildcard", [{"wildcard": "a.c"}], "abc", False),  # a dot is a dot
    ("wildcard", [{"wildcard": "*"}], "", True),
    ("wildcard", [{"wildcard": "*"}], 5, False),
    ("wildcard", [{"wildcard": "a\\*b"}], "a*b", True),
    ("wildcard", [{"wildcard": "a\\*b"}], "axb", False),
    ("wildcard", [{"wildcard": "a\\\\b"}], "a\\b", True),
    ("wildcard", [{"wildcard": "line*"}], "line\nbreak", True),
    # anything-but: any present value that is not excluded.
    ("anything-but", [{"anything-but": "initializing"}], "running", True),
    ("anything-but", [{"anything-but": "initializing"}], "initializing", False),
    ("anything-but", [{"anything-but": "initializing"}], ABSENT, False),
    ("anything-but", [{"anything-but": "initializing"}], None, True),
    ("anything-but", [{"anything-but": ["stopped", "overloaded"]}], "overloaded", False),
    ("anything-but", [{"anything-but": ["stopped", "overloaded"]}], "running", True),
    ("anything-but", [{"anything-but": ["a"]}], ["a", "b"], True),  # "b" is not "a"
    ("anything-but", [{"anything-but": ["a"]}], ["a", "a"], False),
    ("anything-but number", [{"anything-but": 100}], 100, False),
    ("anything-but number", [{"anything-but": 100}], 100.0, False),  # by value
    ("anything-but number", [{"anything-but": 100}], 101, True),
    ("anything-but number", [{"anything-but": 100}], "100", True),
    ("anything-but numbers", [{"anything-but": [100, 200]}], 200, False),
    ("anything-but numbers", [{"anything-but": [100, 200]}], 300, True),
    ("anything-but prefix", [{"anything-but": {"prefix": "init"}}], "initializing", False),
    ("anything-but prefix", [{"anything-but": {"prefix": "init"}}], "running", True),
    ("anything-but prefix", [{"anything-but": {"prefix": "init"}}], ABSENT, False),
    ("anything-but suffix", [{"anything-but": {"suffix": ".png"}}], "a.png", False),
    ("anything-but suffix", [{"anything-but": {"suffix": ".png"}}], "a.jpg", True),
    ("anything-but ignoring case", [{"anything-but": {"equals-ignore-case": "X"}}], "x", False),
    ("anything-but ignoring case", [{"anything-but": {"equals-ignore-case": "X"}}], "y", True),
    (
        "anything-but ignoring case",
        [{"anything-but": {"equals-ignore-case": ["X", "Y"]}}],
        "y",
        False,
    ),
    ("anything-but wildcard", [{"anything-but": {"wildcard": "*/lib/*"}}], "src/lib/a.py", False),
    ("anything-but wildcard", [{"anything-but": {"wildcard": "*/lib/*"}}], "src/app.py", True),
    # numeric: JSON numbers only, by value.
    ("numeric range", [{"numeric": [">", 0, "<=", 5]}], 0, False),
    ("numeric range", [{"numeric": [">", 0, "<=", 5]}], 0.5, True),
    ("numeric range", [{"numeric": [">", 0, "<=", 5]}], 5, True),
    ("numeric range", [{"numeric": [">", 0, "<=", 5]}], 5.000001, False),
    ("numeric range", [{"numeric": [">", 0, "<=", 5]}], "3", False),
    ("numeric range", [{"numeric": [">", 0, "<=", 5]}], True, False),
    ("numeric range", [{"numeric": [">", 0, "<=", 5]}], ABSENT, False),
    ("numeric range", [{"numeric": [">", 0, "<=", 5]}], [9, 3], True),
    ("numeric range", [{"numeric": [">=", 10, "<", 20]}], 10, True),
    ("numeric range", [{"numeric": [">=", 10, "<", 20]}], 20, False),
    ("numeric equals", [{"numeric": ["=", 300]}], 300.0, True),
    ("numeric equals", [{"numeric": ["=", 3.0e2]}], 300, True),
    ("numeric equals", [{"numeric": ["=", 300]}], 301, False),
    ("numeric equals", [{"numeric": ["=", 300]}], Decimal("300.0"), True),
    ("numeric <", [{"numeric": ["<", 10]}], 9.99, True),
    ("numeric <", [{"numeric": ["<", 10]}], 10, False),
    ("numeric <=", [{"numeric": ["<=", 10]}], 10, True),
    ("numeric >", [{"numeric": [">", -1]}], -0.5, True),
    ("numeric >", [{"numeric": [">", -1]}], -1, False),
    ("numeric >=", [{"numeric": [">=", 1e9]}], 1e9, True),
    # exists: whether the record holds a value (a leaf) there.
    ("exists", [{"exists": True}], "x", True),
    ("exists", [{"exists": True}], None, True),
    ("exists", [{"exists": True}], 0, True),
    ("exists", [{"exists": True}], ABSENT, False),
    ("exists", [{"exists": True}], [], False),
    ("exists", [{"exists": True}], {"nested": 1}, False),  # an object is not a leaf
    ("does not exist", [{"exists": False}], ABSENT, True),
    ("does not exist", [{"exists": False}], "x", False),
    ("does not exist", [{"exists": False}], None, False),
    ("does not exist", [{"exists": False}], [], True),
    ("does not exist", [{"exists": False}], {"nested": 1}, True),
    ("value or absent", ["x", {"exists": False}], "x", True),
    ("value or absent", ["x", {"exists": False}], ABSENT, True),
    ("value or absent", ["x", {"exists": False}], "y", False),
    ("exists either way", [{"exists": True}, {"exists": False}], ABSENT, True),
    ("exists either way", [{"exists": True}, {"exists": False}], "y", True),
    ("mixed matchers", [{"prefix": "a"}, {"numeric": [">", 10]}, None], 11, True),
    ("mixed matchers", [{"prefix": "a"}, {"numeric": [">", 10]}, None], "abc", True),
    ("mixed matchers", [{"prefix": "a"}, {"numeric": [">", 10]}, None], None, True),
    ("mixed matchers", [{"prefix": "a"}, {"numeric": [">", 10]}, None], 5, False),
]


@pytest.mark.parametrize(
    ("leaf", "value", "expected"),
    [case[1:] for case in OPERATOR_CASES],
    ids=[f"{case[0]}: {case[2]!r}" for case in OPERATOR_CASES],
)
def test_each_operator_matches_the_values_aws_documents(leaf: Any, value: Any, expected: bool):
    assert matches({"f": leaf}, field(value)) is expected


def test_numbers_match_literally_by_their_json_text() -> None:
    """The guide: 300, 300.0 and 3.0e2 are not equal as literals (`numeric` compares values)."""
    body = '{"a": 300, "b": 300.0, "c": 3.0e2}'
    record = sqs_record(body)
    assert matches({"body": {"a": [300]}}, record)
    assert not matches({"body": {"a": [300.0]}}, record)
    assert matches({"body": {"b": [300.0]}}, record)
    assert not matches({"body": {"c": [300.0]}}, record)
    assert matches('{"body": {"c": [3.0e2]}}', record)
    assert matches({"body": {"c": [{"numeric": ["=", 300]}]}}, record)


# --- structure: nesting, $or, arrays --------------------------------------------------------

EVENT = {
    "source": "aws.ec2",
    "detail": {"state": "running", "c-count": 5, "tags": ["a", "b"], "limits": {"x": 301.8}},
    "employees": [
        {"firstName": "John", "lastName": "Doe"},
        {"firstName": "Anna", "lastName": "Smith"},
        {"firstName": "Peter", "lastName": "Jones"},
    ],
    "teams": [[{"name": "red"}], [{"name": "blue"}]],
    "none": [],
}

STRUCTURE_CASES: list[tuple[str, Any, bool]] = [
    ("nested fields", {"detail": {"state": ["running"]}}, True),
    ("all fields must match", {"source": ["aws.ec2"], "detail": {"state": ["stopped"]}}, False),
    ("deeper", {"detail": {"limits": {"x": [{"numeric": [">", 300]}]}}}, True),
    ("absent intermediate", {"detail": {"missing": {"x": ["1"]}}}, False),
    ("absent intermediate", {"detail": {"missing": {"x": [{"exists": False}]}}}, True),
    ("object where a leaf is expected", {"detail": {"limits": ["x"]}}, False),
    ("leaf where an object is expected", {"source": {"x": ["aws.ec2"]}}, False),
    ("array of strings", {"detail": {"tags": ["b"]}}, True),
    ("array of strings", {"detail": {"tags": ["c"]}}, False),
    ("array of objects", {"employees": {"firstName": ["Anna"]}}, True),
    ("array of objects", {"employees": {"firstName": ["Zoe"]}}, False),
    (
        "one element must match the whole object",
        {"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}},
        True,
    ),
    (
        "elements never combine",
        {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}},
        False,
    ),
    ("arrays of arrays", {"teams": {"name": ["blue"]}}, True),
    ("an empty array holds no fields", {"none": {"name": [{"exists": False}]}}, True),
    ("an empty array holds no fields", {"none": {"name": [{"exists": True}]}}, False),
    ("an empty array holds no values", {"none": [{"exists": False}]}, True),
    ("$or", {"$or": [{"source": ["aws.s3"]}, {"detail": {"state": ["running"]}}]}, True),
    ("$or", {"$or": [{"source": ["aws.s3"]}, {"detail": {"state": ["stopped"]}}]}, False),
    (
        "$or and a field",
        {"source": ["aws.ec2"], "$or": [{"detail": {"c-count": [1]}}, {"x": [{"exists": False}]}]},
        True,
    ),
    (
        "$or and a failing field",
        {"source": ["aws.s3"], "$or": [{"detail": {"c-count": [5]}}, {"source": ["aws.ec2"]}]},
        False,
    ),
    (
        "$or inside an object",
        {"detail": {"$or": [{"state": ["stopped"]}, {"c-count": [{"numeric": ["<", 10]}]}]}},
        True,
    ),
    (
        "$or with an and inside",
        {"$or": [{"source": ["aws.s3"]}, {"source": ["aws.ec2"], "detail": {"c-count": [6]}}]},
        False,
    ),
    (
        "nested $or",
        {
            "$or": [
                {"source": ["aws.s3"]},
                {"detail": {"$or": [{"state": ["pending"]}, {"tags": ["a"]}]}},
            ]
        },
        True,
    ),
    (
        "$or over array elements",
        {"employees": {"$or": [{"x": ["1"]}, {"lastName": ["Doe"]}]}},
        True,
    ),
    ("dots are not paths", {"detail.state": ["running"]}, False),
]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [case[1:] for case in STRUCTURE_CASES],
    ids=[case[0] for case in STRUCTURE_CASES],
)
def test_patterns_follow_the_records_structure(pattern: Any, expected: bool) -> None:
    assert matches(pattern, EVENT) is expected


def test_a_record_is_delivered_when_any_pattern_matches() -> None:
    event_filter = compile_filters(['{"a": [1]}', '{"b": [2]}', '{"c": [3]}'])
    assert event_filter.matches({"b": 2})
    assert event_filter.matches({"a": 1, "c": 0})
    assert not event_filter.matches({"a": 2, "b": 1})
    assert not event_filter.matches({})


def test_no_patterns_lets_every_record_through() -> None:
    event_filter = compile_filters([])
    assert event_filter == EventFilter(())
    assert event_filter.matches({})
    assert event_filter.matches(ddb_record("REMOVE", {"pk": {"S": "x"}}))


def test_five_patterns_and_4096_characters_are_allowed() -> None:
    longest = '{"a": ["' + "x" * (MAX_PATTERN_LENGTH - 11) + '"]}'
    assert len(longest) == MAX_PATTERN_LENGTH
    event_filter = compile_filters([longest] + ['{"b": [1]}'] * (MAX_PATTERNS - 1))
    assert event_filter.matches({"b": 1})


# --- DynamoDB stream records ----------------------------------------------------------------

CLICK_KEYS = {"pk": {"S": "LINK#abc123"}, "sk": {"S": "CLICK#2026-12-02#1"}}
CLICK_IMAGE = {
    **CLICK_KEYS,
    "counted": {"BOOL": False},
    "country": {"S": "PT"},
    "visits": {"N": "4"},
    "tags": {"L": [{"S": "mobile"}, {"S": "ads"}]},
    "origin": {"M": {"referrer": {"S": "https://example.org/"}}},
    "note": {"NULL": True},
}

DYNAMODB_CASES: list[tuple[str, Any, bool]] = [
    ("a key", {"dynamodb": {"Keys": {"pk": {"S": ["LINK#abc123"]}}}}, True),
    ("a key", {"dynamodb": {"Keys": {"pk": {"S": ["LINK#zzz"]}}}}, False),
    ("a key's type", {"dynamodb": {"Keys": {"pk": {"N": [{"exists": True}]}}}}, False),
    ("an attribute", {"dynamodb": {"NewImage": {"country": {"S": ["PT", "ES"]}}}}, True),
    ("a boolean", {"dynamodb": {"NewImage": {"counted": {"BOOL": [False]}}}}, True),
    ("a boolean", {"dynamodb": {"NewImage": {"counted": {"BOOL": [True]}}}}, False),
    ("a number is a string", {"dynamodb": {"NewImage": {"visits": {"N": ["4"]}}}}, True),
    ("a number is a string", {"dynamodb": {"NewImage": {"visits": {"N": [4]}}}}, False),
    (
        "so numeric never matches it",
        {"dynamodb": {"NewImage": {"visits": {"N": [{"numeric": [">", 0]}]}}}},
        False,
    ),
    ("a list", {"dynamodb": {"NewImage": {"tags": {"L": {"S": ["ads"]}}}}}, True),
    (
        "a map",
        {
            "dynamodb": {
                "NewImage": {"origin": {"M": {"referrer": {"S": [{"prefix": "https://"}]}}}}
            }
        },
        True,
    ),
    ("a null", {"dynamodb": {"NewImage": {"note": {"NULL": [True]}}}}, True),
    ("an absent attribute", {"dynamodb": {"NewImage": {"city": {"S": [{"exists": False}]}}}}, True),
    ("an absent attribute", {"dynamodb": {"NewImage": {"city": {"S": [{"exists": True}]}}}}, False),
    ("metadata", {"eventName": [{"anything-but": "REMOVE"}]}, True),
    ("metadata", {"eventSource": ["aws:dynamodb"], "awsRegion": [{"prefix": "eu-"}]}, True),
    (
        "both",
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"counted": {"BOOL": [True]}}}},
        False,
    ),
]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [case[1:] for case in DYNAMODB_CASES],
    ids=[case[0] for case in DYNAMODB_CASES],
)
def test_a_dynamodb_record_is_matched_in_dynamodb_json(pattern: Any, expected: bool) -> None:
    assert matches(pattern, ddb_record("INSERT", CLICK_KEYS, CLICK_IMAGE)) is expected


def test_a_keys_only_record_has_no_new_image_to_match() -> None:
    record = ddb_record("REMOVE", CLICK_KEYS)
    assert not matches({"dynamodb": {"NewImage": {"country": {"S": ["PT"]}}}}, record)
    assert matches({"dynamodb": {"NewImage": [{"exists": False}]}}, record)


# --- SQS records ----------------------------------------------------------------------------

SQS_CASES: list[tuple[str, str, Any, bool]] = [
    (
        "JSON body, JSON pattern",
        '{"RequestCode": "BBBB"}',
        {"body": {"RequestCode": ["BBBB"]}},
        True,
    ),
    (
        "JSON body, JSON pattern",
        '{"RequestCode": "AAAA"}',
        {"body": {"RequestCode": ["BBBB"]}},
        False,
    ),
    (
        "JSON body, nested",
        '{"upload": {"key": "uploads/a.png", "size": 2048}}',
        {"body": {"upload": {"key": [{"suffix": ".png"}], "size": [{"numeric": ["<", 4096]}]}}},
        True,
    ),
    ("JSON body, absent field", '{"a": 1}', {"body": {"b": [{"exists": False}]}}, True),
    (
        "JSON array body",
        '[{"kind": "photo"}, {"kind": "video"}]',
        {"body": {"kind": ["video"]}},
        True,
    ),
    ("JSON body, string pattern: dropped", '{"a": 1}', {"body": [{"prefix": "{"}]}, False),
    ("JSON body, exists: dropped", '{"a": 1}', {"body": [{"exists": True}]}, False),
    ("string body, string pattern", "hello world", {"body": [{"prefix": "hello"}]}, True),
    ("string body, string pattern", "hello world", {"body": ["hello"]}, False),
    (
        "string body, JSON pattern: dropped",
        "hello world",
        {"body": {"a": [{"exists": False}]}},
        False,
    ),
    ("JSON scalar body is a string", "42", {"body": ["42"]}, True),
    ("JSON scalar body is a string", "42", {"body": [42]}, False),
    ("broken JSON body is a string", '{"a": ', {"body": [{"prefix": "{"}]}, True),
    (
        "metadata only: any body",
        "not json",
        {"attributes": {"ApproximateReceiveCount": ["1"]}},
        True,
    ),
    ("metadata only: any body", '{"a": 1}', {"eventSource": ["aws:sqs"]}, True),
    (
        "message attributes",
        "x",
        {"messageAttributes": {"kind": {"stringValue": ["photo"]}}},
        True,
    ),
    (
        "$or over body forms",
        "plain",
        {"$or": [{"body": {"a": [1]}}, {"body": ["plain"]}]},
        True,
    ),
]


@pytest.mark.parametrize(
    ("body", "pattern", "expected"),
    [case[1:] for case in SQS_CASES],
    ids=[case[0] for case in SQS_CASES],
)
def test_an_sqs_record_is_matched_with_its_body_parsed_when_it_is_json(
    body: str, pattern: Any, expected: bool
) -> None:
    assert matches(pattern, sqs_record(body)) is expected


def test_matching_leaves_the_record_as_it_was() -> None:
    record = sqs_record('{"a": 1}')
    before = json.dumps(record, sort_keys=True)
    assert matches({"body": {"a": [1]}}, record)
    assert json.dumps(record, sort_keys=True) == before


# --- invalid patterns -----------------------------------------------------------------------

INVALID: list[tuple[str, str]] = [
    # JSON and shape
    ("", "filter pattern 1 is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
    (
        "{",
        "filter pattern 1 is not valid JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
    ),
    ("[]", "filter pattern 1 must be a JSON object, not an array"),
    ('"INSERT"', "filter pattern 1 must be a JSON object, not a string"),
    ("5", "filter pattern 1 must be a JSON object, not a number"),
    ("null", "filter pattern 1 must be a JSON object, not null"),
    ("{}", "filter pattern 1: empty objects are not allowed"),
    ('{"a": {}}', "filter pattern 1: a: empty objects are not allowed"),
    ('{"a": 1}', "filter pattern 1: a: must be an object or an array of values, not a number"),
    ('{"a": "x"}', "filter pattern 1: a: must be an object or an array of values, not a string"),
    ('{"a": null}', "filter pattern 1: a: must be an object or an array of values, not null"),
    ('{"a": true}', "filter pattern 1: a: must be an object or an array of values, not a boolean"),
    ('{"a": {"b": []}}', "filter pattern 1: a.b: empty arrays are not allowed"),
    (
        '{"a": [[1]]}',
        "filter pattern 1: a: a value must be a string, number, boolean, null or an operator "
        "object, not an array",
    ),
    # operator objects
    ('{"a": [{}]}', "filter pattern 1: a: an operator object has exactly one key, not none"),
    (
        '{"a": [{"prefix": "x", "suffix": "y"}]}',
        "filter pattern 1: a: an operator object has exactly one key, not prefix, suffix",
    ),
    (
        '{"a": [{"prefx": "x"}]}',
        "filter pattern 1: a: unknown operator 'prefx'; Lambda knows anything-but, "
        "equals-ignore-case, exists, numeric, prefix, suffix, wildcard",
    ),
    (
        '{"a": [{"cidr": "10.0.0.0/24"}]}',
        "filter pattern 1: a: unknown operator 'cidr'; Lambda knows anything-but, "
        "equals-ignore-case, exists, numeric, prefix, suffix, wildcard",
    ),
    ('{"a": [{"prefix": 1}]}', "filter pattern 1: a: prefix takes a string, not a number"),
    ('{"a": [{"suffix": ["x"]}]}', "filter pattern 1: a: suffix takes a string, not an array"),
    (
        '{"a": [{"prefix": {"wildcard": "x"}}]}',
        'filter pattern 1: a: prefix takes a string or {"equals-ignore-case": string}',
    ),
    (
        '{"a": [{"suffix": {"equals-ignore-case": 1}}]}',
        "filter pattern 1: a: suffix equals-ignore-case takes a string, not a number",
    ),
    (
        '{"a": [{"equals-ignore-case": null}]}',
        "filter pattern 1: a: equals-ignore-case takes a string, not null",
    ),
    ('{"a": [{"wildcard": 5}]}', "filter pattern 1: a: wildcard takes a string, not a number"),
    ('{"a": [{"wildcard": "a**b"}]}', "filter pattern 1: a: wildcard 'a**b' has consecutive *"),
    (
        '{"a": [{"wildcard": "a\\\\xb"}]}',
        "filter pattern 1: a: wildcard 'a\\\\xb': \\ escapes only * or \\",
    ),
    (
        '{"a": [{"wildcard": "a\\\\"}]}',
        "filter pattern 1: a: wildcard 'a\\\\': \\ escapes only * or \\",
    ),
    ('{"a": [{"exists": "yes"}]}', "filter pattern 1: a: exists takes true or false, not a string"),
    ('{"a": [{"exists": null}]}', "filter pattern 1: a: exists takes true or false, not null"),
    # numeric
    (
        '{"a": [{"numeric": 5}]}',
        'filter pattern 1: a: numeric takes ["=", n], [">", n], ["<", n] or [">", low, "<", high]',
    ),
    (
        '{"a": [{"numeric": [">", 1, "<"]}]}',
        'filter pattern 1: a: numeric takes ["=", n], [">", n], ["<", n] or [">", low, "<", high]',
    ),
    (
        '{"a": [{"numeric": ["==", 1]}]}',
        "filter pattern 1: a: numeric: '==' is not =, <, <=, > or >=",
    ),
    ('{"a": [{"numeric": [5, 1]}]}', "filter pattern 1: a: numeric: 5 is not =, <, <=, > or >="),
    (
        '{"a": [{"numeric": [">", "1"]}]}',
        "filter pattern 1: a: numeric > takes a number, not a string",
    ),
    (
        '{"a": [{"numeric": ["=", true]}]}',
        "filter pattern 1: a: numeric = takes a number, not a boolean",
    ),
    (
        '{"a": [{"numeric": [">", 0, "<", null]}]}',
        "filter pattern 1: a: numeric < takes a number, not null",
    ),
    (
        '{"a": [{"numeric": ["<", 5, ">", 1]}]}',
        "filter pattern 1: a: numeric: a range is > or >= a number, then < or <= a number",
    ),
    (
        '{"a": [{"numeric": [">", 1, ">", 5]}]}',
        "filter pattern 1: a: numeric: a range is > or >= a number, then < or <= a number",
    ),
    (
        '{"a": [{"numeric": ["=", 1, "<", 5]}]}',
        "filter pattern 1: a: numeric: a range is > or >= a number, then < or <= a number",
    ),
    (
        '{"a": [{"numeric": [">", 5, "<=", 1]}]}',
        "filter pattern 1: a: numeric: the lower bound 5 must be below 1",
    ),
    (
        '{"a": [{"numeric": [">=", 5, "<=", 5]}]}',
        "filter pattern 1: a: numeric: the lower bound 5 must be below 5",
    ),
    # anything-but
    (
        '{"a": [{"anything-but": []}]}',
        "filter pattern 1: a: anything-but takes a string, a number, or a list of all strings "
        "or all numbers",
    ),
    (
        '{"a": [{"anything-but": [1, "a"]}]}',
        "filter pattern 1: a: anything-but takes a string, a number, or a list of all strings "
        "or all numbers",
    ),
    (
        '{"a": [{"anything-but": true}]}',
        "filter pattern 1: a: anything-but takes a string, a number, or a list of all strings "
        "or all numbers",
    ),
    (
        '{"a": [{"anything-but": null}]}',
        "filter pattern 1: a: anything-but takes a string, a number, or a list of all strings "
        "or all numbers",
    ),
    (
        '{"a": [{"anything-but": {"prefix": ""}}]}',
        "filter pattern 1: a: anything-but prefix cannot be empty",
    ),
    (
        '{"a": [{"anything-but": {"suffix": 1}}]}',
        "filter pattern 1: a: anything-but suffix takes a string, not a number",
    ),
    (
        '{"a": [{"anything-but": {"exists": true}}]}',
        "filter pattern 1: a: anything-but takes prefix, suffix, wildcard or equals-ignore-case, "
        "not 'exists'",
    ),
    (
        '{"a": [{"anything-but": {"prefix": "a", "suffix": "b"}}]}',
        "filter pattern 1: a: anything-but takes one operator object",
    ),
    (
        '{"a": [{"anything-but": {"equals-ignore-case": []}}]}',
        "filter pattern 1: a: anything-but equals-ignore-case cannot be empty",
    ),
    (
        '{"a": [{"anything-but": {"equals-ignore-case": [1]}}]}',
        "filter pattern 1: a: anything-but equals-ignore-case takes a string, not a number",
    ),
    (
        '{"a": [{"anything-but": {"wildcard": "**"}}]}',
        "filter pattern 1: a: wildcard '**' has consecutive *",
    ),
    # $or
    ('{"$or": {"a": [1]}}', "filter pattern 1: $or: must be an array of at least 2 objects"),
    ('{"$or": [{"a": [1]}]}', "filter pattern 1: $or: must be an array of at least 2 objects"),
    ('{"$or": [{"a": [1]}, [1]]}', "filter pattern 1: $or: must hold only objects"),
    ('{"x": {"$or": []}}', "filter pattern 1: x.$or: must be an array of at least 2 objects"),
    (
        '{"$or": [{"prefix": ["a"]}, {"b": [1]}]}',
        "filter pattern 1: 'prefix' is an operator, not a field name, inside $or",
    ),
    (
        '{"$or": [{"a": {"numeric": [1]}}, {"b": [1]}]}',
        "filter pattern 1: a: 'numeric' is an operator, not a field name, inside $or",
    ),
    ('{"$or": [{"a": [1]}, {}]}', "filter pattern 1: empty objects are not allowed"),
]


@pytest.mark.parametrize(("pattern", "message"), INVALID, ids=[p or "(empty)" for p, _ in INVALID])
def test_a_pattern_lambda_would_refuse_is_one_line_naming_the_field(
    pattern: str, message: str
) -> None:
    with pytest.raises(FilterError) as info:
        compile_filters([pattern])
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_the_message_names_which_pattern_is_wrong() -> None:
    with pytest.raises(FilterError, match=r"^filter pattern 3: b: empty arrays are not allowed$"):
        compile_filters(['{"a": [1]}', LINKS_PATTERN, '{"b": []}'])


def test_more_than_five_patterns_are_refused() -> None:
    with pytest.raises(FilterError) as info:
        compile_filters(['{"a": [1]}'] * (MAX_PATTERNS + 1))
    assert str(info.value) == "a filter criteria holds at most 5 patterns, not 6"


def test_a_pattern_over_4096_characters_is_refused() -> None:
    too_long = '{"a": ["' + "x" * (MAX_PATTERN_LENGTH - 10) + '"]}'
    with pytest.raises(FilterError) as info:
        compile_filters(['{"a": [1]}', too_long])
    assert str(info.value) == "filter pattern 2 is 4097 characters; the limit is 4096"


def test_a_pattern_must_be_json_text() -> None:
    with pytest.raises(FilterError) as info:
        compile_filters([{"a": [1]}])  # type: ignore[list-item]
    assert str(info.value) == "filter pattern 1 must be JSON text, not dict"


def test_a_filter_error_is_a_value_error() -> None:
    assert issubclass(FilterError, ValueError)
