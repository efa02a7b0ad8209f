"""Fixes to moto's S3: presigned POST policies and event records."""

from __future__ import annotations

from typing import Any


def enforce_post_policies() -> None:
    """A browser's presigned POST is held to its policy, as S3 holds it (moto stores anything).

    The policy's expiration, every condition (`eq`, `starts-with`, exact fields, the
    bucket) and `content-length-range` are checked, and every form field but the exempt
    ones must be covered by a condition; a failure is S3's XML error. The signature is not
    checked: the local AWS takes any credentials.
    """
    import base64
    import json
    from datetime import UTC, datetime

    from moto.s3.responses import S3Response

    exempt = {"x-amz-signature", "file", "policy", "signature", "awsaccesskeyid"}
    post = S3Response._bucket_response_post

    def error(status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        )
        return status, {"Content-Type": "application/xml"}, body

    def refusal(self: Any, bucket_name: str) -> tuple[int, dict[str, str], str] | None:
        form = getattr(self, "form_data", None) or {}
        fields = {str(name).lower(): str(form[name]) for name in form}
        if "policy" not in fields:
            return None
        try:
            policy = json.loads(base64.b64decode(fields["policy"]))
            expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
            conditions = policy.get("conditions", [])
        except (ValueError, KeyError, TypeError):
            return error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
        if expires <= datetime.now(UTC):
            return error(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        covered = set()
        size = len(self.body or b"")
        for condition in conditions:
            if isinstance(condition, dict):
                ((name, wanted),) = condition.items()
                rule = ["eq", f"${name}", wanted]
            else:
                rule = list(condition)
            operator = str(rule[0]).lower()
            if operator == "content-length-range":
                low, high = int(rule[1]), int(rule[2])
                if size > high:
                    return error(
                        400,
                        "EntityTooLarge",
                        "Your proposed upload exceeds the maximum allowed size",
                    )
                if size < low:
                    return error(
                        400,
                        "EntityTooSmall",
                        "Your proposed upload is smaller than the minimum allowed size",
                    )
                continue
            name = str(rule[1]).lstrip("$").lower()
            covered.add(name)
            actual = bucket_name if name == "bucket" else fields.get(name)
            wanted = str(rule[2])
            ok = actual is not None and (
                actual == wanted if operator == "eq" else actual.startswith(wanted)
            )
            if not ok:
                shown = json.dumps(rule)
                return error(
                    403,
                    "AccessDenied",
                    f"Invalid according to Policy: Policy Condition failed: {shown}",
                )
        for name in fields:
            if name not in exempt and name not in covered and not name.startswith("x-ignore-"):
                return error(
                    403,
                    "AccessDenied",
                    f"Invalid according to Policy: Extra input fields: {name}",
                )
        return None

    def bucket_response_post(self: Any, request: Any, bucket_name: str) -> Any:
        self.path = self._get_path(request)
        if not self.is_delete_keys():
            refused = refusal(self, bucket_name)
            if refused is not None:
                return refused
        return post(self, request, bucket_name)

    S3Response._bucket_response_post = bucket_response_post


def give_s3_event_records_a_sequencer() -> None:
    """moto's S3 event records lack `sequencer` (and `versionId` on versioned buckets).

    S3 always sends the sequencer: it is how a consumer orders events for one key, and the
    app's handlers refuse a record without it as malformed. moto's record is otherwise the
    documented shape, so only the missing fields are added: a hex value that grows with
    every event, and the object's version when the bucket keeps versions.
    """
    import itertools
    import time

    from moto.s3 import notifications

    original = notifications._get_s3_event
    counter = itertools.count()

    def with_sequencer(event_name: str, bucket: Any, key: Any, notification_id: str) -> Any:
        event = original(event_name, bucket, key, notification_id)
        for record in event["Records"]:
            found = record["s3"]["object"]
            found.setdefault("sequencer", f"{time.time_ns():016X}{next(counter) % 256:02X}")
            version = getattr(key, "version_id", None)
            if version and version != "null":
                found.setdefault("versionId", version)
        return event

    notifications._get_s3_event = with_sequencer
