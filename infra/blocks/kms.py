"""Customer-managed KMS keys: rotated, retained, administered through IAM."""

from __future__ import annotations

from awacs import kms as kms_actions
from awacs.aws import Action, Allow, ArnLike, Condition, Principal, Statement
from troposphere import Sub
from troposphere.kms import Alias, Key

from infra.blocks.policy import account_root, arn, document
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


def logs_may_use_key(sid: str, log_groups: str) -> Statement:
    """CloudWatch Logs may encrypt with the key, for log groups named like `log_groups`.

    `log_groups` is a name pattern (with `*`); the encryption context pins each use to
    one log group's ARN, so no other log group can borrow the key.
    """
    return Statement(
        Sid=sid,
        Effect=Allow,
        Principal=Principal("Service", Sub("logs.${AWS::Region}.${AWS::URLSuffix}")),
        Action=[
            kms_actions.Encrypt,
            kms_actions.Decrypt,
            kms_actions.ReEncryptFrom,
            kms_actions.ReEncryptTo,
            kms_actions.GenerateDataKey,
            kms_actions.GenerateDataKeyWithoutPlaintext,
            kms_actions.DescribeKey,
        ],
        Resource=["*"],
        Condition=Condition(
            ArnLike("kms:EncryptionContext:aws:logs:arn", arn("logs", f"log-group:{log_groups}"))
        ),
    )
