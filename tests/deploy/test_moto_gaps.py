"""The gaps in plain moto that infra/local/moto_fixes/ fixes for the suite's `moto_server`.

Each test shows a gap on moto as installed (in-process `mock_aws`, no fixes). When one fails,
moto has closed that gap: drop the matching fix from moto_fixes/ and this test.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.server import ThreadedMotoServer

from infra.gate.evaluation import evaluate_change_set

REGION = "eu-west-1"
PASSWORD = "Correct-Horse-9"


@pytest.fixture
def cfn() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cloudformation", region_name=REGION)


def table(key: str) -> dict:
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        },
    }


def body(**resources: dict) -> str:
    return json.dumps({"Resources": resources})


def create(cfn: Any, name: str, template: str) -> None:
    cfn.create_stack(StackName=name, TemplateBody=template)


def change_set(cfn: Any, stack: str, template: str) -> str:
    cfn.create_change_set(
        StackName=stack, ChangeSetName="next", TemplateBody=template, ChangeSetType="UPDATE"
    )
    return "next"


def test_get_template_ignores_change_set_name(cfn: Any) -> None:
    create(cfn, "s", body(Table=table("pk")))
    name = change_set(cfn, "s", body(Table=table("id")))

    served = cfn.get_template(StackName="s", ChangeSetName=name)["TemplateBody"]

    assert served == json.loads(body(Table=table("pk")))


def test_change_list_alone_still_blocks_a_removal(cfn: Any) -> None:
    """With moto's GetTemplate our comparison sees no change; CloudFormation's list still blocks."""
    topic = {"Type": "AWS::SNS::Topic", "Properties": {}}
    create(cfn, "s", body(Table=table("pk"), Topic=topic))
    name = change_set(cfn, "s", body(Topic=topic))

    report = evaluate_change_set(cfn, "s", name)

    assert report.blocking == (
        "s: Table (AWS::DynamoDB::Table): CloudFormation would delete it (change set: Remove)",
    )


def test_ssm_parameter_tags_must_be_pairs(cfn: Any) -> None:
    """CloudFormation's AWS::SSM::Parameter takes Tags as a map; moto fails on it."""
    parameter = {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Name": "/a/b", "Type": "String", "Value": "v", "Tags": {"app": "a"}},
    }
    with pytest.raises(Exception, match="string indices"):
        create(cfn, "s", body(Parameter=parameter))


def test_kms_key_tags_must_be_tagkey_pairs(cfn: Any) -> None:
    key = {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "KeyPolicy": {"Version": "2012-10-17", "Statement": []},
            "Tags": [{"Key": "app", "Value": "a"}],
        },
    }
    with pytest.raises(Exception, match="TagKey"):
        create(cfn, "s", body(Key=key))


def test_ref_to_an_unmodelled_type_is_empty(cfn: Any) -> None:
    """A Cognito client has no moto model: its Ref is nothing, so a parameter holding it fails."""
    client = {"Type": "AWS::Cognito::UserPoolClient", "Properties": {"UserPoolId": "p"}}
    parameter = {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Name": "/a/client", "Type": "String", "Value": {"Ref": "Client"}},
    }
    with pytest.raises(ClientError, match="length greater than or equal to 1"):
        create(cfn, "s", body(Client=client, Parameter=parameter))


def test_outputs_stay_empty_after_a_create_change_set(cfn: Any) -> None:
    topic = {"Type": "AWS::SNS::Topic", "Properties": {}}
    template = {"Resources": {"Topic": topic}, "Outputs": {"Arn": {"Value": {"Ref": "Topic"}}}}
    cfn.create_change_set(
        StackName="s",
        ChangeSetName="new",
        TemplateBody=json.dumps(template),
        ChangeSetType="CREATE",
    )
    cfn.execute_change_set(StackName="s", ChangeSetName="new")

    described = cfn.describe_stacks(StackName="s")["Stacks"][0]

    assert described["StackStatus"] == "CREATE_COMPLETE"
    assert "Outputs" not in described


def test_a_change_set_reading_a_missing_ssm_parameter_is_created(cfn: Any) -> None:
    """AWS refuses it ("Unable to fetch parameters ..."); moto creates the change set."""
    template = {
        "Parameters": {
            "Table": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/nowhere/x"}
        },
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}},
    }
    cfn.create_change_set(
        StackName="s",
        ChangeSetName="new",
        TemplateBody=json.dumps(template),
        ChangeSetType="CREATE",
    )

    described = cfn.describe_change_set(StackName="s", ChangeSetName="new")

    assert described["Status"] == "CREATE_COMPLETE"


def test_parameters_are_not_reported_as_aws_reports_them(cfn: Any) -> None:
    """AWS lists every parameter, an SSM-typed one as its path with a ResolvedValue; moto gives
    the value as ParameterValue, and a change set lists only the parameters passed in."""
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/app/table", Value="items", Type="String"
    )
    template = {
        "Parameters": {
            "Table": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/app/table"},
            "Size": {"Type": "String", "Default": "small"},
        },
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}},
    }
    create(cfn, "s", json.dumps(template))
    cfn.create_change_set(
        StackName="s",
        ChangeSetName="next",
        TemplateBody=json.dumps(template),
        ChangeSetType="UPDATE",
        Parameters=[{"ParameterKey": "Size", "ParameterValue": "big"}],
    )

    stack = cfn.describe_stacks(StackName="s")["Stacks"][0]["Parameters"]
    change_set = cfn.describe_change_set(StackName="s", ChangeSetName="next")["Parameters"]

    assert {"ParameterKey": "Table", "ParameterValue": "items"} in stack
    assert change_set == [{"ParameterKey": "Size", "ParameterValue": "big"}]


@pytest.fixture
def idp() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cognito-idp", region_name=REGION)


def pool_with_user(idp: Any, **client: Any) -> tuple[str, str]:
    """A pool, an app client (with `client`'s settings) and a confirmed user "alice"."""
    pool = idp.create_user_pool(PoolName="users")["UserPool"]["Id"]
    made = idp.create_user_pool_client(UserPoolId=pool, ClientName="web", **client)
    client_id = made["UserPoolClient"]["ClientId"]
    idp.sign_up(ClientId=client_id, Username="alice", Password=PASSWORD)
    idp.admin_confirm_sign_up(UserPoolId=pool, Username="alice")
    return pool, client_id


def test_a_post_outside_its_policy_is_stored() -> None:
    """S3 refuses a presigned POST whose file breaks the policy (EntityTooLarge); moto
    stores whatever is posted."""
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="uploads", CreateBucketConfiguration={"LocationConstraint": REGION})
        form = s3.generate_presigned_post(
            "uploads", "k", Conditions=[["content-length-range", 1, 4]], ExpiresIn=60
        )

        response = requests.post(
            form["url"], data=form["fields"], files={"file": b"far too large"}, timeout=10
        )

        assert response.status_code == 204
        assert s3.get_object(Bucket="uploads", Key="k")["Body"].read() == b"far too large"


def test_any_confirmation_code_confirms(idp: Any) -> None:
    """Cognito sends a code and refuses another (CodeMismatchException); moto sends
    nothing and confirms with any code."""
    pool = idp.create_user_pool(PoolName="users")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="web")["UserPoolClient"]
    idp.sign_up(ClientId=client["ClientId"], Username="alice", Password=PASSWORD)

    idp.confirm_sign_up(ClientId=client["ClientId"], Username="alice", ConfirmationCode="x")

    assert idp.admin_get_user(UserPoolId=pool, Username="alice")["UserStatus"] == "CONFIRMED"


@pytest.mark.filterwarnings("ignore:Tried to parse AWS")
def test_cloudformation_creates_no_user_pool(cfn: Any) -> None:
    """CloudFormation creates AWS::Cognito::UserPool and UserPoolClient; moto's reports
    CREATE_COMPLETE and creates neither."""
    pool = {"Type": "AWS::Cognito::UserPool", "Properties": {"UserPoolName": "users"}}
    client = {"Type": "AWS::Cognito::UserPoolClient", "Properties": {"UserPoolId": "p"}}
    create(cfn, "s", body(Pool=pool, Client=client))

    described = cfn.describe_stacks(StackName="s")["Stacks"][0]

    assert described["StackStatus"] == "CREATE_COMPLETE"
    assert (
        boto3.client("cognito-idp", region_name=REGION).list_user_pools(MaxResults=10)["UserPools"]
        == []
    )


def test_an_event_source_mapping_drains_its_queue() -> None:
    """Lambda's poller receives a message once and deletes it when the function succeeds;
    moto's queue hands each new message to moto's Lambda at once and deletes it, so no
    other consumer ever sees it."""
    with mock_aws(config={"lambda": {"use_docker": False}}):
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        function = lambda_function("worker")
        boto3.client("lambda", region_name=REGION).create_event_source_mapping(
            EventSourceArn=arn["Attributes"]["QueueArn"], FunctionName=function
        )

        sqs.send_message(QueueUrl=url, MessageBody="job")

        assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)


def lambda_function(name: str) -> str:
    """A Python function (never run) and its role; returns its ARN."""
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName=f"{name}-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return boto3.client("lambda", region_name=REGION).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]


def test_s3_event_records_have_no_sequencer() -> None:
    """S3 puts a `sequencer` in every object event (how a consumer orders the events for
    one key); moto's records have none."""
    with mock_aws():
        s3, sqs = boto3.client("s3", region_name=REGION), boto3.client("sqs", region_name=REGION)
        s3.create_bucket(Bucket="photos", CreateBucketConfiguration={"LocationConstraint": REGION})
        url = sqs.create_queue(QueueName="events")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        s3.put_bucket_notification_configuration(
            Bucket="photos",
            NotificationConfiguration={
                "QueueConfigurations": [
                    {"QueueArn": arn["Attributes"]["QueueArn"], "Events": ["s3:ObjectCreated:*"]}
                ]
            },
        )

        s3.put_object(Bucket="photos", Key="cat.png", Body=b"png")

        records = [
            record
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
            for record in json.loads(message["Body"]).get("Records", [])
        ]
        assert [record["s3"]["object"]["key"] for record in records] == ["cat.png"]
        assert "sequencer" not in records[0]["s3"]["object"]


def test_srp_accepts_any_password_claim(idp: Any) -> None:
    """Cognito checks the PASSWORD_VERIFIER signature (SRP-6a) and refuses a wrong one
    with NotAuthorizedException; moto signs in whatever is signed."""
    _, client = pool_with_user(idp)
    started = idp.initiate_auth(
        ClientId=client,
        AuthFlow="USER_SRP_AUTH",
        AuthParameters={"USERNAME": "alice", "SRP_A": "2"},
    )
    challenge = started["ChallengeParameters"]

    answered = idp.respond_to_auth_challenge(
        ClientId=client,
        ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses={
            "USERNAME": challenge["USERNAME"],
            "PASSWORD_CLAIM_SECRET_BLOCK": challenge["SECRET_BLOCK"],
            "PASSWORD_CLAIM_SIGNATURE": "forged",
            "TIMESTAMP": "Mon Jan 1 00:00:00 UTC 2024",
        },
    )

    assert "IdToken" in answered["AuthenticationResult"]


def test_explicit_auth_flows_are_not_enforced(idp: Any) -> None:
    """Cognito refuses a flow the app client does not allow (InvalidParameterException
    "USER_PASSWORD_AUTH flow not enabled for this client"); moto runs any flow."""
    _, client = pool_with_user(
        idp, ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )

    signed_in = idp.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )

    assert "IdToken" in signed_in["AuthenticationResult"]


def test_resend_confirmation_code_is_not_implemented(idp: Any) -> None:
    """Cognito sends a new code; moto has no ResendConfirmationCode (its server answers 500)."""
    pool = idp.create_user_pool(PoolName="users")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="web")["UserPoolClient"]
    idp.sign_up(ClientId=client["ClientId"], Username="alice", Password=PASSWORD)

    with pytest.raises(NotImplementedError, match="resend_confirmation_code"):
        idp.resend_confirmation_code(ClientId=client["ClientId"], Username="alice")


def test_revoke_token_is_not_implemented(idp: Any) -> None:
    """Cognito revokes the refresh token and its access tokens; moto has no RevokeToken."""
    _, client = pool_with_user(idp, ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])
    tokens = idp.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]

    with pytest.raises(NotImplementedError, match="revoke_token"):
        idp.revoke_token(ClientId=client, Token=tokens["RefreshToken"])


def test_an_id_token_has_none_of_the_users_attributes(idp: Any) -> None:
    """Cognito's ID token carries the attributes the client may read (all, by default);
    moto's only those ReadAttributes names."""
    pool = idp.create_user_pool(PoolName="users")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="web")["UserPoolClient"]
    idp.admin_create_user(
        UserPoolId=pool,
        Username="alice",
        UserAttributes=[{"Name": "email", "Value": "alice@example.com"}],
    )
    idp.admin_set_user_password(
        UserPoolId=pool, Username="alice", Password=PASSWORD, Permanent=True
    )

    tokens = idp.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client["ClientId"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]

    payload = tokens["IdToken"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["cognito:username"] == "alice"
    assert "email" not in claims


@pytest.fixture
def plain_moto_server() -> Iterator[str]:
    """moto's own server (no fixes) on loopback, in this process; stopped after the test."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_an_unsigned_global_sign_out_finds_no_session(plain_moto_server: str) -> None:
    """A browser calls GlobalSignOut unsigned, and Cognito's endpoint names the region; moto
    files an unsigned request under us-east-1, so a session in eu-west-1 is not found."""
    idp = boto3.client("cognito-idp", endpoint_url=plain_moto_server, region_name=REGION)
    _, client = pool_with_user(idp, ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])
    tokens = idp.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]

    response = requests.post(
        plain_moto_server,
        data=json.dumps({"AccessToken": tokens["AccessToken"]}),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.GlobalSignOut",
        },
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["__type"] == "NotAuthorizedException"
    assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"


def test_an_unchanged_change_set_given_every_parameter_is_refused_outright(cfn: Any) -> None:
    """AWS makes the change set and fails it ("didn't contain changes"); moto refuses the
    call, so there is no change set for an execute to find."""
    template = json.dumps(
        {
            "Parameters": {"Size": {"Type": "String"}},
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}},
        }
    )
    given = [{"ParameterKey": "Size", "ParameterValue": "small"}]
    cfn.create_stack(StackName="s", TemplateBody=template, Parameters=given)

    with pytest.raises(ClientError, match="No updates are to be performed"):
        cfn.create_change_set(
            StackName="s", ChangeSetName="again", TemplateBody=template,
            Parameters=given, ChangeSetType="UPDATE",
        )  # fmt: skip


def test_a_second_create_change_set_makes_a_second_stack_of_the_same_name(cfn: Any) -> None:
    """AWS adds it to the stack still under review; moto makes another stack."""
    template = body(Topic={"Type": "AWS::SNS::Topic", "Properties": {}})
    for name in ("first", "second"):
        cfn.create_change_set(
            StackName="s", ChangeSetName=name, TemplateBody=template, ChangeSetType="CREATE"
        )

    summaries = cfn.list_stacks()["StackSummaries"]
    assert len([item for item in summaries if item["StackName"] == "s"]) == 2
