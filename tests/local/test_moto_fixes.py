"""The local AWS's fixes to moto (infra/local/moto_fixes/), held to AWS's behaviour.

Every test talks to a real server (`moto_server`, or a server of its own where the fix
reads the server's environment) over 127.0.0.1, as the local run and the browser do. Each
fix has its refusals tested beside its happy path; the gaps themselves are pinned in plain
moto by tests/deploy/test_moto_gaps.py.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from pycognito import aws_srp
from pycognito.exceptions import ForceChangePasswordException, SoftwareTokenMFAChallengeException

from infra.local.aws_server import LocalAws

REGION = "eu-west-1"
PASSWORD = "Correct-Horse-9"
SRP_ONLY = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
WRONG_PASSWORD = "Incorrect username or password."
N = aws_srp.hex_to_long(aws_srp.N_HEX)  # the SRP group's prime, as pycognito has it


def client(endpoint: str, service: str) -> Any:
    config = Config(signature_version="s3v4") if service == "s3" else None
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, config=config)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_of(call: Callable[[], Any]) -> dict[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]


# Presigned POST (enforce_post_policies) ------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    body: str

    @property
    def code(self) -> str:
        found = re.search(r"<Code>([^<]*)</Code>", self.body)
        return found.group(1) if found else ""


@pytest.fixture
def s3(moto_server: str) -> Any:
    return client(moto_server, "s3")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = unique("uploads")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


KEY = "uploads/alice/1"


def signed_form(s3: Any, bucket: str, *, expires: int = 60) -> dict[str, str]:
    """The app's kind of form: one key, one Content-Type, 1 to 10 bytes."""
    form = s3.generate_presigned_post(
        bucket,
        KEY,
        Fields={"Content-Type": "image/png"},
        Conditions=[{"Content-Type": "image/png"}, ["content-length-range", 1, 10]],
        ExpiresIn=expires,
    )
    return dict(form["fields"])


def post_form(
    endpoint: str, bucket: str, fields: dict[str, str], content: bytes, *, virtual: bool = False
) -> Reply:
    """POST the form as a browser does: the fields, then the file, as multipart/form-data.

    `virtual` addresses the bucket by its Host (`<bucket>.localhost`), else by its path."""
    port = urlsplit(endpoint).port
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="cat.png"\r\n'
        "Content-Type: image/png\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    host, path = (
        (f"{bucket}.localhost:{port}", "/") if virtual else (f"127.0.0.1:{port}", f"/{bucket}")
    )
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            path,
            body=b"".join(parts),
            headers={"Host": host, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        response = connection.getresponse()
        return Reply(response.status, response.read().decode())
    finally:
        connection.close()


@pytest.mark.parametrize("virtual", [False, True], ids=["path-style", "virtual-hosted"])
@pytest.mark.parametrize("content", [b"p", b"0123456789"], ids=["1-byte", "10-bytes"])
def test_a_post_within_its_policy_is_stored(
    moto_server: str, s3: Any, bucket: str, virtual: bool, content: bytes
) -> None:
    """Both ends of content-length-range are inside it, and either addressing style works."""
    reply = post_form(moto_server, bucket, signed_form(s3, bucket), content, virtual=virtual)

    assert reply.status == 204, reply.body
    stored = s3.get_object(Bucket=bucket, Key=KEY)
    assert stored["Body"].read() == content
    assert stored["ContentType"] == "image/png"


def test_an_x_ignore_field_needs_no_condition(moto_server: str, s3: Any, bucket: str) -> None:
    fields = {**signed_form(s3, bucket), "x-ignore-note": "anything"}

    reply = post_form(moto_server, bucket, fields, b"png")

    assert reply.status == 204, reply.body


def changed(**fields: str) -> Callable[[dict[str, str]], dict[str, str]]:
    return lambda form: {**form, **fields}


@pytest.mark.parametrize(
    ("expires", "change", "content", "status", "code", "message"),
    [
        (-60, changed(), b"png", 403, "AccessDenied", "Policy expired"),
        (60, changed(), b"01234567890", 400, "EntityTooLarge", "maximum allowed size"),
        (60, changed(), b"", 400, "EntityTooSmall", "minimum allowed size"),
        (60, changed(**{"Content-Type": "text/html"}), b"png", 403, "AccessDenied", "Content-Type"),
        (60, changed(key="uploads/bob/1"), b"png", 403, "AccessDenied", "Condition failed"),
        (60, changed(**{"x-amz-meta-owner": "bob"}), b"png", 403, "AccessDenied", "Extra input"),
    ],
    ids=["expired", "too-large", "too-small", "other-content-type", "other-key", "extra-field"],
)
@pytest.mark.parametrize("virtual", [False, True], ids=["path-style", "virtual-hosted"])
def test_a_post_outside_its_policy_is_refused(
    moto_server: str,
    s3: Any,
    bucket: str,
    virtual: bool,
    expires: int,
    change: Callable[[dict[str, str]], dict[str, str]],
    content: bytes,
    status: int,
    code: str,
    message: str,
) -> None:
    fields = change(signed_form(s3, bucket, expires=expires))

    reply = post_form(moto_server, bucket, fields, content, virtual=virtual)

    assert (reply.status, reply.code) == (status, code), reply.body
    assert message in reply.body
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


# Cognito through CloudFormation (create_cognito_resources) ------------------------------


def user_pool_template() -> str:
    pool = {
        "Type": "AWS::Cognito::UserPool",
        "Properties": {
            "UserPoolName": "photos-users",
            "UsernameAttributes": ["email"],
            "AutoVerifiedAttributes": ["email"],
        },
    }
    app_client = {
        "Type": "AWS::Cognito::UserPoolClient",
        "Properties": {
            "UserPoolId": {"Ref": "Pool"},
            "ClientName": "web",
            "GenerateSecret": False,
            "ExplicitAuthFlows": SRP_ONLY,
        },
    }
    outputs = {
        "PoolId": {"Value": {"Ref": "Pool"}},
        "PoolArn": {"Value": {"Fn::GetAtt": ["Pool", "Arn"]}},
        "ProviderName": {"Value": {"Fn::GetAtt": ["Pool", "ProviderName"]}},
        "ProviderURL": {"Value": {"Fn::GetAtt": ["Pool", "ProviderURL"]}},
        "ClientId": {"Value": {"Ref": "Client"}},
        "ClientName": {"Value": {"Fn::GetAtt": ["Client", "Name"]}},
    }
    return json.dumps({"Resources": {"Pool": pool, "Client": app_client}, "Outputs": outputs})


@pytest.fixture
def stack_outputs(moto_server: str) -> dict[str, str]:
    cfn = client(moto_server, "cloudformation")
    name = unique("users")
    cfn.create_stack(StackName=name, TemplateBody=user_pool_template())
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


def test_the_stack_creates_the_user_pool(moto_server: str, stack_outputs: dict[str, str]) -> None:
    pool = client(moto_server, "cognito-idp").describe_user_pool(
        UserPoolId=stack_outputs["PoolId"]
    )["UserPool"]

    assert pool["Name"] == "photos-users"
    assert pool["UsernameAttributes"] == ["email"]
    assert stack_outputs["PoolArn"] == pool["Arn"]
    provider = f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}"
    assert stack_outputs["ProviderName"] == provider
    assert stack_outputs["ProviderURL"] == f"https://{provider}"


def test_the_stack_creates_the_app_client(moto_server: str, stack_outputs: dict[str, str]) -> None:
    described = client(moto_server, "cognito-idp").describe_user_pool_client(
        UserPoolId=stack_outputs["PoolId"], ClientId=stack_outputs["ClientId"]
    )["UserPoolClient"]

    assert described["ClientName"] == stack_outputs["ClientName"] == "web"
    assert described["ExplicitAuthFlows"] == SRP_ONLY
    assert "ClientSecret" not in described


def test_the_stacks_client_signs_users_up_and_in(
    moto_server: str, stack_outputs: dict[str, str]
) -> None:
    """The template's ExplicitAuthFlows hold too: SRP signs in, a plain password does not."""
    idp = client(moto_server, "cognito-idp")
    pool, app = stack_outputs["PoolId"], stack_outputs["ClientId"]
    idp.sign_up(ClientId=app, Username="alice@example.com", Password=PASSWORD)
    idp.admin_confirm_sign_up(UserPoolId=pool, Username="alice@example.com")

    tokens = srp(idp, pool, app, "alice@example.com", PASSWORD).authenticate_user()
    refused = error_of(lambda: password_auth(idp, app, "alice@example.com", PASSWORD))

    user = idp.admin_get_user(UserPoolId=pool, Username="alice@example.com")
    assert claims(tokens["AuthenticationResult"]["IdToken"])["sub"] == user["Username"]
    assert refused["Code"] == "InvalidParameterException"


# Confirmation codes (deliver_confirmation_codes) ---------------------------------------


@dataclass(frozen=True)
class MailedAws:
    endpoint: str
    mailbox: Path

    def codes_for(self, username: str) -> list[str]:
        """Every code mailed to `username`, oldest first."""
        lines = self.mailbox.read_text(encoding="utf-8").splitlines()
        sent = [json.loads(line) for line in lines]
        return [str(message["code"]) for message in sent if message["to"] == username]

    def code_for(self, username: str) -> str:
        codes = self.codes_for(username)
        assert codes, f"no code was sent to {username}"
        return codes[-1]


@pytest.fixture(scope="module")
def mailed_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailedAws]:
    """A local AWS of its own: the mailbox is read from the server's environment."""
    mailbox = tmp_path_factory.mktemp("mail") / "mailbox.jsonl"
    with LocalAws("127.0.0.1", environment={"INFRA_LOCAL_MAILBOX": str(mailbox)}) as aws:
        yield MailedAws(f"http://127.0.0.1:{aws.port}", mailbox)


@pytest.fixture
def signing_up(mailed_aws: MailedAws) -> tuple[Any, str, str]:
    """(cognito-idp client, pool id, app client id) on the mailing server."""
    idp = client(mailed_aws.endpoint, "cognito-idp")
    pool, app = pool_and_client(idp)
    return idp, pool, app


def status_of(idp: Any, pool: str, username: str) -> str:
    return str(idp.admin_get_user(UserPoolId=pool, Username=username)["UserStatus"])


def test_sign_up_mails_a_six_digit_code(
    mailed_aws: MailedAws, signing_up: tuple[Any, str, str]
) -> None:
    idp, _, app = signing_up
    idp.sign_up(ClientId=app, Username="alice", Password=PASSWORD)

    sent = json.loads(mailed_aws.mailbox.read_text(encoding="utf-8").splitlines()[-1])

    assert sent["to"] == "alice"
    assert re.fullmatch(r"[0-9]{6}", sent["code"])


def test_the_mailed_code_confirms(mailed_aws: MailedAws, signing_up: tuple[Any, str, str]) -> None:
    idp, pool, app = signing_up
    idp.sign_up(ClientId=app, Username="alice", Password=PASSWORD)

    idp.confirm_sign_up(
        ClientId=app, Username="alice", ConfirmationCode=mailed_aws.code_for("alice")
    )

    assert status_of(idp, pool, "alice") == "CONFIRMED"


def test_a_wrong_code_is_a_mismatch(
    mailed_aws: MailedAws, signing_up: tuple[Any, str, str]
) -> None:
    """Refused, the user stays unconfirmed, and the mailed code still works afterwards."""
    idp, pool, app = signing_up
    idp.sign_up(ClientId=app, Username="alice", Password=PASSWORD)
    code = mailed_aws.code_for("alice")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    refused = error_of(
        lambda: idp.confirm_sign_up(ClientId=app, Username="alice", ConfirmationCode=wrong)
    )

    assert refused["Code"] == "CodeMismatchException"
    assert status_of(idp, pool, "alice") == "UNCONFIRMED"
    idp.confirm_sign_up(ClientId=app, Username="alice", ConfirmationCode=code)
    assert status_of(idp, pool, "alice") == "CONFIRMED"


def test_each_user_has_their_own_code(
    mailed_aws: MailedAws, signing_up: tuple[Any, str, str]
) -> None:
    idp, pool, app = signing_up
    idp.sign_up(ClientId=app, Username="alice", Password=PASSWORD)
    idp.sign_up(ClientId=app, Username="bob", Password=PASSWORD)
    alices, bobs = mailed_aws.code_for("alice"), mailed_aws.code_for("bob")
    for _ in range(3):  # equal by chance one time in a million; always equal is a defect
        if alices != bobs:
            break
        idp.resend_confirmation_code(ClientId=app, Username="bob")
        bobs = mailed_aws.code_for("bob")
    assert alices != bobs, "every user gets the same code"

    refused = error_of(
        lambda: idp.confirm_sign_up(ClientId=app, Username="bob", ConfirmationCode=alices)
    )
    idp.confirm_sign_up(ClientId=app, Username="bob", ConfirmationCode=bobs)

    assert refused["Code"] == "CodeMismatchException"
    assert status_of(idp, pool, "bob") == "CONFIRMED"
    assert status_of(idp, pool, "alice") == "UNCONFIRMED"


def test_a_resent_code_replaces_the_old_one(
    mailed_aws: MailedAws, signing_up: tuple[Any, str, str]
) -> None:
    idp, pool, app = signing_up
    idp.sign_up(ClientId=app, Username="alice", Password=PASSWORD)
    first = mailed_aws.code_for("alice")
    mailed = len(mailed_aws.codes_for("alice"))

    resent = idp.resend_confirmation_code(ClientId=app, Username="alice")
    assert len(mailed_aws.codes_for("alice")) == mailed + 1, "the resend mailed nothing"
    second = mailed_aws.code_for("alice")
    for _ in range(3):  # equal by chance one time in a million; always equal is a defect
        if second != first:
            break
        resent = idp.resend_confirmation_code(ClientId=app, Username="alice")
        second = mailed_aws.code_for("alice")
    assert second != first, "a resend mails the same code again"

    assert resent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    refused = error_of(
        lambda: idp.confirm_sign_up(ClientId=app, Username="alice", ConfirmationCode=first)
    )
    assert refused["Code"] == "CodeMismatchException"
    idp.confirm_sign_up(ClientId=app, Username="alice", ConfirmationCode=second)
    assert status_of(idp, pool, "alice") == "CONFIRMED"


def test_resending_is_refused_for_a_confirmed_or_unknown_user(
    mailed_aws: MailedAws, signing_up: tuple[Any, str, str]
) -> None:
    idp, _, app = signing_up
    idp.sign_up(ClientId=app, Username="alice", Password=PASSWORD)
    idp.confirm_sign_up(
        ClientId=app, Username="alice", ConfirmationCode=mailed_aws.code_for("alice")
    )

    confirmed = error_of(lambda: idp.resend_confirmation_code(ClientId=app, Username="alice"))
    unknown = error_of(lambda: idp.resend_confirmation_code(ClientId=app, Username="nobody"))

    assert confirmed == {
        "Code": "InvalidParameterException",
        "Message": "User is already confirmed.",
    }
    assert unknown["Code"] == "UserNotFoundException"


def test_the_code_is_the_users_whichever_client_confirms(
    mailed_aws: MailedAws, signing_up: tuple[Any, str, str]
) -> None:
    """Another app client of the pool cannot confirm with any code (the code is the user's)."""
    idp, pool, app = signing_up
    other = idp.create_user_pool_client(UserPoolId=pool, ClientName="mobile")["UserPoolClient"]
    idp.sign_up(ClientId=app, Username="alice", Password=PASSWORD)
    code = mailed_aws.code_for("alice")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    refused = error_of(
        lambda: idp.confirm_sign_up(
            ClientId=other["ClientId"], Username="alice", ConfirmationCode=wrong
        )
    )
    idp.confirm_sign_up(ClientId=other["ClientId"], Username="alice", ConfirmationCode=code)

    assert refused["Code"] == "CodeMismatchException"
    assert status_of(idp, pool, "alice") == "CONFIRMED"


def test_a_users_email_is_where_the_code_goes(
    mailed_aws: MailedAws, signing_up: tuple[Any, str, str]
) -> None:
    idp, _, app = signing_up
    idp.sign_up(
        ClientId=app,
        Username="carol",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "carol@example.com"}],
    )

    assert re.fullmatch(r"[0-9]{6}", mailed_aws.code_for("carol@example.com"))


# S3 event records (give_s3_event_records_a_sequencer) --------------------------------


@pytest.fixture
def notified(moto_server: str, s3: Any, bucket: str) -> Callable[[], list[dict[str, Any]]]:
    """The bucket sends its object events to a new queue; returns a reader of their records."""
    sqs = client(moto_server, "sqs")
    url = sqs.create_queue(QueueName=unique("events"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn["QueueArn"], "Events": ["s3:ObjectCreated:*"]}]
        },
    )

    def records() -> list[dict[str, Any]]:
        found = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                found.extend(json.loads(message["Body"]).get("Records", []))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return found

    return records


def test_sequencers_grow_between_puts_of_one_key(
    s3: Any, bucket: str, notified: Callable[[], list[dict[str, Any]]]
) -> None:
    s3.put_object(Bucket=bucket, Key="cat.png", Body=b"first")
    s3.put_object(Bucket=bucket, Key="cat.png", Body=b"second")

    objects = [record["s3"]["object"] for record in notified()]

    assert [found["key"] for found in objects] == ["cat.png", "cat.png"]
    first, second = (found["sequencer"] for found in objects)
    assert re.fullmatch(r"[0-9A-F]+", first) and len(first) == len(second)
    assert int(second, 16) > int(first, 16)
    assert all("versionId" not in found for found in objects)


def test_a_versioned_bucket_names_the_version(
    s3: Any, bucket: str, notified: Callable[[], list[dict[str, Any]]]
) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    put = s3.put_object(Bucket=bucket, Key="cat.png", Body=b"png")

    (record,) = notified()
    assert record["s3"]["object"]["versionId"] == put["VersionId"]
    assert record["s3"]["object"]["sequencer"]


# Event source mappings (leave_event_sources_to_the_local_runtime) ---------------------


def lambda_function(endpoint: str) -> str:
    """A Python function (moto never runs it here) and its role; returns the function's ARN."""
    role = client(endpoint, "iam").create_role(
        RoleName=unique("worker"),
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    code = BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return client(endpoint, "lambda").create_function(
        FunctionName=unique("worker"),
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]


def test_a_mapped_queue_keeps_its_messages(moto_server: str) -> None:
    """The message is there, never received, for the local runtime's poller; even with a
    redrive policy of one receive it is not moved to the dead-letter queue."""
    sqs, awslambda = client(moto_server, "sqs"), client(moto_server, "lambda")
    dead = sqs.create_queue(QueueName=unique("dead"))["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": dead_arn["Attributes"]["QueueArn"], "maxReceiveCount": 1}
    url = sqs.create_queue(
        QueueName=unique("jobs"), Attributes={"RedrivePolicy": json.dumps(redrive)}
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    function = lambda_function(moto_server)
    mapping = awslambda.create_event_source_mapping(
        EventSourceArn=arn["QueueArn"], FunctionName=function, BatchSize=1
    )

    sqs.send_message(QueueUrl=url, MessageBody="job")
    received = sqs.receive_message(
        QueueUrl=url, AttributeNames=["ApproximateReceiveCount"], WaitTimeSeconds=0
    )

    assert [message["Body"] for message in received["Messages"]] == ["job"]
    assert received["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "1"
    assert "Messages" not in sqs.receive_message(QueueUrl=dead, WaitTimeSeconds=0)
    listed = awslambda.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    assert [found["UUID"] for found in listed] == [mapping["UUID"]]


def test_a_mapped_table_stream_keeps_its_records(moto_server: str) -> None:
    dynamodb = client(moto_server, "dynamodb")
    streams = client(moto_server, "dynamodbstreams")
    table = dynamodb.create_table(
        TableName=unique("items"),
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    client(moto_server, "lambda").create_event_source_mapping(
        EventSourceArn=table["LatestStreamArn"],
        FunctionName=lambda_function(moto_server),
        StartingPosition="TRIM_HORIZON",
    )

    dynamodb.put_item(TableName=table["TableName"], Item={"pk": {"S": "a"}})

    stream = streams.describe_stream(StreamArn=table["LatestStreamArn"])["StreamDescription"]
    iterator = streams.get_shard_iterator(
        StreamArn=table["LatestStreamArn"],
        ShardId=stream["Shards"][0]["ShardId"],
        ShardIteratorType="TRIM_HORIZON",
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [record["dynamodb"]["Keys"] for record in records] == [{"pk": {"S": "a"}}]


# Ending sessions (route_unsigned_global_sign_outs, revoke_refresh_tokens) ------------


@dataclass(frozen=True)
class Sessions:
    """Two sign-ins of frank (on a client that allows a password and refreshes)."""

    endpoint: str
    idp: Any
    pool: str
    app: str
    first: dict[str, str]
    second: dict[str, str]

    def access_refused(self, session: dict[str, str]) -> bool:
        error = error_of(lambda: self.idp.get_user(AccessToken=session["AccessToken"]))
        return error["Code"] == "NotAuthorizedException"

    def refreshes(self, session: dict[str, str]) -> bool:
        try:
            self.idp.initiate_auth(
                ClientId=self.app,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": session["RefreshToken"]},
            )
        except ClientError as error:
            assert error.response["Error"]["Code"] == "NotAuthorizedException"
            return False
        return True


@pytest.fixture
def sessions(moto_server: str) -> Sessions:
    idp = client(moto_server, "cognito-idp")
    flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    pool, app = pool_and_client(idp, ExplicitAuthFlows=flows)
    confirmed_user(idp, pool, app, "frank")
    first, second = (
        password_auth(idp, app, "frank", PASSWORD)["AuthenticationResult"] for _ in range(2)
    )
    return Sessions(moto_server, idp, pool, app, first, second)


def browser_call(endpoint: str, operation: str, body: dict[str, Any]) -> tuple[int, Any, dict]:
    """One Cognito call as the page makes it: unsigned JSON, from another origin.

    Returns (status, decoded body, headers)."""
    port = urlsplit(endpoint).port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            "/",
            body=json.dumps(body),
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
                "Origin": "http://localhost:1234",
            },
        )
        response = connection.getresponse()
        text = response.read().decode()
        return response.status, json.loads(text or "{}"), dict(response.getheaders())
    finally:
        connection.close()


def test_an_unsigned_global_sign_out_ends_every_session(sessions: Sessions) -> None:
    status, _, _ = browser_call(
        sessions.endpoint, "GlobalSignOut", {"AccessToken": sessions.first["AccessToken"]}
    )

    assert status == 200
    for session in (sessions.first, sessions.second):
        assert sessions.access_refused(session)
        assert not sessions.refreshes(session)


def test_revoking_a_refresh_token_ends_that_session_only(sessions: Sessions) -> None:
    sessions.idp.revoke_token(ClientId=sessions.app, Token=sessions.first["RefreshToken"])

    assert not sessions.refreshes(sessions.first)
    assert sessions.access_refused(sessions.first)
    assert sessions.refreshes(sessions.second)
    assert sessions.idp.get_user(AccessToken=sessions.second["AccessToken"])["Username"] == (
        "frank"
    )


def test_a_browser_can_revoke_its_token(sessions: Sessions) -> None:
    """Unsigned, from another origin: answered with CORS headers, as the page needs."""
    status, body, headers = browser_call(
        sessions.endpoint,
        "RevokeToken",
        {"ClientId": sessions.app, "Token": sessions.first["RefreshToken"]},
    )

    assert (status, body) == (200, {})
    assert headers.get("Access-Control-Allow-Origin") in ("*", "http://localhost:1234")
    assert not sessions.refreshes(sessions.first)


def test_revoking_an_unknown_or_revoked_token_changes_nothing(sessions: Sessions) -> None:
    sessions.idp.revoke_token(ClientId=sessions.app, Token=sessions.first["RefreshToken"])

    sessions.idp.revoke_token(ClientId=sessions.app, Token=sessions.first["RefreshToken"])
    sessions.idp.revoke_token(ClientId=sessions.app, Token=str(uuid.uuid4()))

    assert sessions.refreshes(sessions.second)


def test_revoking_another_clients_token_is_unauthorized(sessions: Sessions) -> None:
    other = sessions.idp.create_user_pool_client(UserPoolId=sessions.pool, ClientName="other")

    refused = error_of(
        lambda: sessions.idp.revoke_token(
            ClientId=other["UserPoolClient"]["ClientId"], Token=sessions.first["RefreshToken"]
        )
    )

    assert refused["Code"] == "UnauthorizedException"
    assert sessions.refreshes(sessions.first)


@pytest.mark.parametrize("kind", ["AccessToken", "IdToken"])
def test_only_refresh_tokens_are_revoked(sessions: Sessions, kind: str) -> None:
    refused = error_of(
        lambda: sessions.idp.revoke_token(ClientId=sessions.app, Token=sessions.first[kind])
    )

    assert refused["Code"] == "UnsupportedTokenTypeException"


def test_a_client_without_revocation_cannot_revoke(moto_server: str) -> None:
    idp = client(moto_server, "cognito-idp")
    pool, app = pool_and_client(
        idp, ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"], EnableTokenRevocation=False
    )
    confirmed_user(idp, pool, app, "gina")
    tokens = password_auth(idp, app, "gina", PASSWORD)["AuthenticationResult"]

    refused = error_of(lambda: idp.revoke_token(ClientId=app, Token=tokens["RefreshToken"]))

    assert refused["Code"] == "UnsupportedOperationException"


# ID tokens (put_user_attributes_in_id_tokens) ----------------------------------------


def test_an_email_pools_srp_id_token_names_the_email(moto_server: str) -> None:
    """SRP names the user by their sub; the token's email is still the email."""
    idp = client(moto_server, "cognito-idp")
    pool, app = pool_and_client(idp, email=True, ExplicitAuthFlows=SRP_ONLY)
    confirmed_user(idp, pool, app, "hana@example.com")

    tokens = srp(idp, pool, app, "hana@example.com", PASSWORD).authenticate_user()

    issued = claims(tokens["AuthenticationResult"]["IdToken"])
    assert issued["email"] == "hana@example.com"
    assert issued["cognito:username"] == issued["sub"]


def signed_in_claims(moto_server: str, **client_settings: Any) -> dict[str, Any]:
    """The ID token's claims for ivan (email, name, verified email) on a client with
    `client_settings`."""
    idp = client(moto_server, "cognito-idp")
    flows = ["ALLOW_USER_PASSWORD_AUTH"]
    pool, app = pool_and_client(idp, ExplicitAuthFlows=flows, **client_settings)
    idp.admin_create_user(
        UserPoolId=pool,
        Username="ivan",
        UserAttributes=[
            {"Name": "email", "Value": "ivan@example.com"},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "name", "Value": "Ivan"},
        ],
    )
    idp.admin_set_user_password(UserPoolId=pool, Username="ivan", Password=PASSWORD, Permanent=True)
    return claims(password_auth(idp, app, "ivan", PASSWORD)["AuthenticationResult"]["IdToken"])


def test_an_id_token_carries_every_attribute_by_default(moto_server: str) -> None:
    issued = signed_in_claims(moto_server)

    assert (issued["email"], issued["name"]) == ("ivan@example.com", "Ivan")
    assert issued["email_verified"] is True
    assert issued["cognito:username"] == "ivan"


def test_read_attributes_limit_what_the_id_token_carries(moto_server: str) -> None:
    issued = signed_in_claims(moto_server, ReadAttributes=["email"])

    assert issued["email"] == "ivan@example.com"
    assert "name" not in issued and "email_verified" not in issued


# SRP (verify_srp_password_claims) ----------------------------------------------------


def pool_and_client(idp: Any, *, email: bool = False, **settings: Any) -> tuple[str, str]:
    """A new pool (signing in by email when `email`) and an app client with `settings`."""
    extra = {"UsernameAttributes": ["email"]} if email else {}
    pool = idp.create_user_pool(PoolName=unique("users"), **extra)["UserPool"]["Id"]
    made = idp.create_user_pool_client(UserPoolId=pool, ClientName="web", **settings)
    return pool, made["UserPoolClient"]["ClientId"]


def confirmed_user(idp: Any, pool: str, app: str, username: str) -> None:
    idp.sign_up(ClientId=app, Username=username, Password=PASSWORD)
    idp.admin_confirm_sign_up(UserPoolId=pool, Username=username)


def srp(idp: Any, pool: str, app: str, username: str, password: str) -> aws_srp.AWSSRP:
    return aws_srp.AWSSRP(
        username=username, password=password, pool_id=pool, client_id=app, client=idp
    )


def password_auth(idp: Any, app: str, username: str, password: str) -> dict[str, Any]:
    return dict(
        idp.initiate_auth(
            ClientId=app,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    )


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


@dataclass(frozen=True)
class Users:
    idp: Any
    pool: str
    app: str
    alice: str  # what alice signs in with (her username, or her email)
    bob: str


@pytest.fixture(params=[False, True], ids=["username-pool", "email-pool"])
def users(request: pytest.FixtureRequest, moto_server: str) -> Users:
    """alice and bob, confirmed, in a pool that signs in by username or by email."""
    email = bool(request.param)
    idp = client(moto_server, "cognito-idp")
    pool, app = pool_and_client(idp, email=email, ExplicitAuthFlows=SRP_ONLY)
    alice, bob = ("alice@example.com", "bob@example.com") if email else ("alice", "bob")
    confirmed_user(idp, pool, app, alice)
    confirmed_user(idp, pool, app, bob)
    return Users(idp, pool, app, alice, bob)


def start(users: Users, username: str, password: str) -> tuple[aws_srp.AWSSRP, dict[str, Any]]:
    """pycognito's first step: InitiateAuth; returns its client and the challenge."""
    player = srp(users.idp, users.pool, users.app, username, password)
    started = users.idp.initiate_auth(
        ClientId=users.app, AuthFlow="USER_SRP_AUTH", AuthParameters=player.get_auth_params()
    )
    assert started["ChallengeName"] == "PASSWORD_VERIFIER"
    return player, started["ChallengeParameters"]


def answer(users: Users, responses: dict[str, str]) -> dict[str, Any]:
    return dict(
        users.idp.respond_to_auth_challenge(
            ClientId=users.app, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses
        )
    )


def test_the_right_password_signs_in(users: Users) -> None:
    """The tokens are alice's: the signed-in user behind them is the one she named."""
    tokens = srp(users.idp, users.pool, users.app, users.alice, PASSWORD).authenticate_user()

    result = tokens["AuthenticationResult"]
    signed_in = users.idp.get_user(AccessToken=result["AccessToken"])
    alice = users.idp.admin_get_user(UserPoolId=users.pool, Username=users.alice)
    assert signed_in["Username"] == alice["Username"]
    assert claims(result["AccessToken"])["username"] == alice["Username"]
    sub = {"Name": "sub", "Value": claims(result["IdToken"])["sub"]}
    assert sub in alice["UserAttributes"]


def test_a_wrong_password_is_refused(users: Users) -> None:
    player = srp(users.idp, users.pool, users.app, users.alice, PASSWORD + "x")

    refused = error_of(player.authenticate_user)

    assert refused == {"Code": "NotAuthorizedException", "Message": WRONG_PASSWORD}


def test_the_challenge_is_cognitos(users: Users) -> None:
    """USER_ID_FOR_SRP is the user's username; SALT and SRP_B are hex; SECRET_BLOCK base64."""
    _, challenge = start(users, users.alice, PASSWORD)
    username = users.idp.admin_get_user(UserPoolId=users.pool, Username=users.alice)["Username"]

    assert challenge["USERNAME"] == challenge["USER_ID_FOR_SRP"] == username
    salt, big_b = int(challenge["SALT"], 16), int(challenge["SRP_B"], 16)
    assert salt > 0 and 0 < big_b < N
    assert base64.b64decode(challenge["SECRET_BLOCK"], validate=True)


def test_a_forged_signature_is_refused(users: Users) -> None:
    player, challenge = start(users, users.alice, PASSWORD)
    responses = player.process_challenge(challenge, {"USERNAME": users.alice})
    signature = bytearray(base64.b64decode(responses["PASSWORD_CLAIM_SIGNATURE"]))
    signature[0] ^= 1

    refused = error_of(
        lambda: answer(
            users, {**responses, "PASSWORD_CLAIM_SIGNATURE": base64.b64encode(signature).decode()}
        )
    )

    assert refused == {"Code": "NotAuthorizedException", "Message": WRONG_PASSWORD}


def test_a_refused_challenge_cannot_be_answered_again(users: Users) -> None:
    player, challenge = start(users, users.alice, PASSWORD)
    right = player.process_challenge(challenge, {"USERNAME": users.alice})
    error_of(lambda: answer(users, {**right, "PASSWORD_CLAIM_SIGNATURE": "AAAA"}))

    refused = error_of(lambda: answer(users, right))

    assert refused["Code"] == "NotAuthorizedException"


def test_a_used_challenge_cannot_sign_in_again(users: Users) -> None:
    player, challenge = start(users, users.alice, PASSWORD)
    right = player.process_challenge(challenge, {"USERNAME": users.alice})
    assert "AuthenticationResult" in answer(users, right)

    refused = error_of(lambda: answer(users, right))

    assert refused["Code"] == "NotAuthorizedException"


def test_a_signature_with_another_timestamp_is_refused(users: Users) -> None:
    player, challenge = start(users, users.alice, PASSWORD)
    right = player.process_challenge(challenge, {"USERNAME": users.alice})

    refused = error_of(lambda: answer(users, {**right, "TIMESTAMP": "Mon Jan 1 00:00:00 UTC 2024"}))

    assert refused["Code"] == "NotAuthorizedException"


def test_alices_proof_does_not_sign_bob_in(users: Users) -> None:
    """The right signature for alice's challenge, with bob's name on the answer."""
    player, challenge = start(users, users.alice, PASSWORD)
    right = player.process_challenge(challenge, {"USERNAME": users.alice})
    bob = users.idp.admin_get_user(UserPoolId=users.pool, Username=users.bob)["Username"]

    refused = error_of(lambda: answer(users, {**right, "USERNAME": bob}))

    assert refused == {"Code": "NotAuthorizedException", "Message": WRONG_PASSWORD}


def test_an_unknown_secret_block_is_refused(users: Users) -> None:
    player, challenge = start(users, users.alice, PASSWORD)
    right = player.process_challenge(challenge, {"USERNAME": users.alice})
    other = base64.b64encode(b"not a challenge").decode()

    refused = error_of(lambda: answer(users, {**right, "PASSWORD_CLAIM_SECRET_BLOCK": other}))

    assert refused["Code"] == "NotAuthorizedException"


@pytest.mark.parametrize("srp_a", [0, N, 2 * N], ids=["zero", "N", "2N"])
def test_an_srp_a_that_is_zero_mod_n_is_refused(users: Users, srp_a: int) -> None:
    """With A % N == 0 the server's S is 0 whatever the password: SRP-6a must abort."""
    refused = error_of(
        lambda: users.idp.initiate_auth(
            ClientId=users.app,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": users.alice, "SRP_A": f"{srp_a:x}"},
        )
    )

    assert refused["Code"] == "NotAuthorizedException"


@pytest.mark.parametrize("srp_a", ["not-hex", "1_0", " 10", "0x10"])
def test_an_srp_a_that_is_not_hex_is_refused(users: Users, srp_a: str) -> None:
    refused = error_of(
        lambda: users.idp.initiate_auth(
            ClientId=users.app,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": users.alice, "SRP_A": srp_a},
        )
    )

    assert refused["Code"] == "InvalidParameterException"


def test_the_right_temporary_password_leads_to_a_new_password(moto_server: str) -> None:
    """After the proof, moto's flow goes on: an invited user must choose a password."""
    idp = client(moto_server, "cognito-idp")
    pool, app = pool_and_client(idp, ExplicitAuthFlows=SRP_ONLY)
    idp.admin_create_user(UserPoolId=pool, Username="carol", TemporaryPassword="Temporary-Pass-1")

    with pytest.raises(ForceChangePasswordException):
        srp(idp, pool, app, "carol", "Temporary-Pass-1").authenticate_user()
    refused = error_of(srp(idp, pool, app, "carol", "Temporary-Pass-2").authenticate_user)

    assert refused["Code"] == "NotAuthorizedException"


def test_the_right_password_leads_to_the_mfa_challenge(moto_server: str) -> None:
    idp = client(moto_server, "cognito-idp")
    pool, app = pool_and_client(idp, ExplicitAuthFlows=SRP_ONLY)
    confirmed_user(idp, pool, app, "dave")
    token = srp(idp, pool, app, "dave", PASSWORD).authenticate_user()["AuthenticationResult"]
    idp.associate_software_token(AccessToken=token["AccessToken"])
    idp.verify_software_token(AccessToken=token["AccessToken"], UserCode="123456")
    idp.set_user_mfa_preference(
        AccessToken=token["AccessToken"],
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )

    with pytest.raises(SoftwareTokenMFAChallengeException):
        srp(idp, pool, app, "dave", PASSWORD).authenticate_user()
    refused = error_of(srp(idp, pool, app, "dave", "Wrong-Pass-1").authenticate_user)

    assert refused["Code"] == "NotAuthorizedException"


# ExplicitAuthFlows (enforce_explicit_auth_flows) --------------------------------------


@dataclass(frozen=True)
class Signer:
    idp: Any
    pool: str
    app: str

    def sign_in(self, flow: str) -> dict[str, Any]:
        """Sign erin in with `flow` (a refresh uses a token from an admin sign-in on a
        client that allows everything)."""
        if flow == "USER_SRP_AUTH":
            return dict(srp(self.idp, self.pool, self.app, "erin", PASSWORD).authenticate_user())
        if flow == "USER_PASSWORD_AUTH":
            return password_auth(self.idp, self.app, "erin", PASSWORD)
        if flow in ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"):
            return dict(
                self.idp.admin_initiate_auth(
                    UserPoolId=self.pool,
                    ClientId=self.app,
                    AuthFlow=flow,
                    AuthParameters={"USERNAME": "erin", "PASSWORD": PASSWORD},
                )
            )
        token = self.refresh_token()
        return dict(
            self.idp.initiate_auth(
                ClientId=self.app, AuthFlow=flow, AuthParameters={"REFRESH_TOKEN": token}
            )
        )

    def refresh_token(self) -> str:
        everything = self.idp.create_user_pool_client(
            UserPoolId=self.pool,
            ClientName="admin",
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        signed_in = self.idp.admin_initiate_auth(
            UserPoolId=self.pool,
            ClientId=everything,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "erin", "PASSWORD": PASSWORD},
        )
        return str(signed_in["AuthenticationResult"]["RefreshToken"])


def signer(moto_server: str, flows: list[str] | None) -> Signer:
    idp = client(moto_server, "cognito-idp")
    settings = {} if flows is None else {"ExplicitAuthFlows": flows}
    pool, app = pool_and_client(idp, **settings)
    confirmed_user(idp, pool, app, "erin")
    return Signer(idp, pool, app)


ALL_FLOWS = [
    "USER_SRP_AUTH",
    "USER_PASSWORD_AUTH",
    "REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN",
    "ADMIN_USER_PASSWORD_AUTH",
    "ADMIN_NO_SRP_AUTH",
]
CASES = {
    # client's ExplicitAuthFlows: the flows it allows (of ALL_FLOWS)
    "srp-and-refresh": (SRP_ONLY, {"USER_SRP_AUTH", "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"}),
    "default": (None, {"USER_SRP_AUTH", "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"}),
    "password-only": (["ALLOW_USER_PASSWORD_AUTH"], {"USER_PASSWORD_AUTH"}),
    "admin-and-refresh": (
        ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        {"ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH", "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"},
    ),
    "legacy-admin-no-srp": (
        ["ADMIN_NO_SRP_AUTH"],
        {"USER_SRP_AUTH", "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"}
        | {"REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"},
    ),
}


@pytest.mark.parametrize("flow", ALL_FLOWS)
@pytest.mark.parametrize("case", list(CASES))
def test_a_client_runs_only_its_flows(moto_server: str, case: str, flow: str) -> None:
    flows, allowed = CASES[case]
    erin = signer(moto_server, flows)

    if flow in allowed:
        assert "IdToken" in erin.sign_in(flow)["AuthenticationResult"]
    else:
        refused = error_of(lambda: erin.sign_in(flow))
        assert refused == {
            "Code": "InvalidParameterException",
            "Message": f"{flow} flow not enabled for this client",
        }


def test_a_refused_flow_is_refused_before_the_password_is_checked(moto_server: str) -> None:
    """A wrong password on a disallowed flow says the flow is off, not that it is wrong."""
    erin = signer(moto_server, SRP_ONLY)

    refused = error_of(lambda: password_auth(erin.idp, erin.app, "erin", "Wrong-Pass-1"))

    assert refused["Code"] == "InvalidParameterException"


def test_an_unknown_client_is_still_moto_s_error(moto_server: str) -> None:
    idp = client(moto_server, "cognito-idp")

    refused = error_of(lambda: password_auth(idp, "no-such-client", "erin", PASSWORD))

    assert refused["Code"] == "ResourceNotFoundException"
