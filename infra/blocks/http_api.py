"""An HTTP API (API Gateway v2): JWT-checked or public routes, CORS, JSON access logs."""

from __future__ import annotations

import json
from typing import Any

from troposphere import GetAtt, Ref, Sub
from troposphere.apigatewayv2 import (
    AccessLogSettings,
    Api,
    Authorizer,
    Cors,
    Integration,
    JWTConfiguration,
    Route,
    RouteSettings,
    Stage,
)
from troposphere.awslambda import Function, Permission

from infra.naming import route_logical_id

# One JSON object per request: what people search for when something goes wrong.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "latency": "$context.responseLatency",
        "integrationError": "$context.integrationErrorMessage",
        "sub": "$context.authorizer.claims.sub",
    },
    sort_keys=True,
)


def http_api(logical_id: str, name: str, origins: tuple[str, ...], methods: list[str]) -> Api:
    """The API, with CORS for the frontend's origins only and the routes' methods."""
    return Api(
        logical_id,
        Name=name,
        ProtocolType="HTTP",
        CorsConfiguration=Cors(
            AllowOrigins=list(origins),
            AllowMethods=methods,
            AllowHeaders=["authorization", "content-type"],
            MaxAge=600,
        ),
    )


def jwt_authorizer(logical_id: str, api: Api, issuer: Any, audience: Any) -> Authorizer:
    """Checks the Cognito token on every request before any function runs."""
    return Authorizer(
        logical_id,
        ApiId=Ref(api),
        Name="cognito",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration=JWTConfiguration(Audience=[audience], Issuer=issuer),
    )


def default_stage(logical_id: str, api: Api, log_group: Any, rate: int, burst: int) -> Stage:
    """`$default`, auto-deployed, throttled, with JSON access logs."""
    return Stage(
        logical_id,
        ApiId=Ref(api),
        StageName="$default",
        AutoDeploy=True,
        AccessLogSettings=AccessLogSettings(
            DestinationArn=GetAtt(log_group, "Arn"), Format=ACCESS_LOG_FORMAT
        ),
        DefaultRouteSettings=RouteSettings(
            DetailedMetricsEnabled=True,
            ThrottlingRateLimit=rate,
            ThrottlingBurstLimit=burst,
        ),
    )


def lambda_routes(
    api: Api,
    authorizer: Authorizer | None,
    function: Function,
    stem: str,
    route_keys: tuple[str, ...],
) -> list[Any]:
    """An integration for the function, a route per key, and the invoke permission.

    With an `authorizer` every route checks its JWT first; without one they are public.
    """
    integration = Integration(
        f"{stem}Integration",
        ApiId=Ref(api),
        IntegrationType="AWS_PROXY",
        IntegrationUri=GetAtt(function, "Arn"),
        PayloadFormatVersion="2.0",
        TimeoutInMillis=29000,
    )
    target = Sub("integrations/${Integration}", Integration=Ref(integration))
    if authorizer is None:
        auth: dict[str, Any] = {"AuthorizationType": "NONE"}
    else:
        auth = {"AuthorizationType": "JWT", "AuthorizerId": Ref(authorizer)}
    routes = [
        Route(route_logical_id(key), ApiId=Ref(api), RouteKey=key, Target=target, **auth)
        for key in route_keys
    ]
    permission = Permission(
        f"{stem}ApiPermission",
        Action="lambda:InvokeFunction",
        FunctionName=Ref(function),
        Principal=Sub("apigateway.${AWS::URLSuffix}"),
        SourceArn=Sub(
            "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*",
            Api=Ref(api),
        ),
    )
    return [integration, *routes, permission]
