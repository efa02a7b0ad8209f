"""Customer-managed KMS keys: rotated, retained, administered through IAM."""

from __future__ import annotations

from awacs.aws import Action, Allow, Statement
from troposphere.kms import Alias, Key

from infra.blocks.policy import account_root, document
from infra.stack import retain


def kms_key(logical_id: str, description: str, *grants: Statement) -> Key:
    """A rotated key whose policy lets this account's IAM govern it, plus `grants`.

    The root statement is the key policy AWS itself writes by default: without
    it no IAM policy in the account could use or manage the key.
    """
    root = Statement(
        Sid="AccountAdministersKeyThroughIam",
        Effect=Allow,
        Principal=account_root(),
        Action=[Action("kms", "*")],
        Resource=["*"],
    )
    return retain(
        Key(
            logical_id,
            Description=description,
            EnableKeyRotation=True,
            PendingWindowInDays=30,
            KeyPolicy=document(root, *grants),
        )
    )


def kms_alias(logical_id: str, key: Key, name: str) -> Alias:
    """`alias/<name>` for people reading the console; the stacks use the key's ARN."""
    return Alias(logical_id, AliasName=f"alias/{name}", TargetKeyId=key.ref())
