"""The HTTP API functions answer routes they do not serve with a JSON 404."""

from __future__ import annotations

import json
from typing import Any

import pytest


@pytest.mark.parametrize(
    ("function", "method", "path"),
    [
        ("uploads", "GET", "/uploads"),
        ("uploads", "POST", "/uploads/extra"),
        ("uploads", "POST", "/images"),
        ("images", "POST", "/images"),
        ("images", "PUT", "/images/0b5c7d2e-51a1-4f6e-9a0e-6f1d2c3b4a51"),
        ("images", "GET", "/images/a/b"),
        ("images", "GET", "/"),
    ],
)
def test_unknown_route_is_json_404(
    aws: None,
    request: pytest.FixtureRequest,
    http_event: Any,
    lambda_context: Any,
    function: str,
    method: str,
    path: str,
) -> None:
    handler = request.getfixturevalue(f"{function}_handler")
    response = handler.lambda_handler(http_event(method, path), lambda_context)
    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"] == "application/json"
    assert json.loads(response["body"]) == {"message": "Not found"}


@pytest.mark.parametrize("function", ["uploads", "images"])
def test_stage_prefix_is_stripped(
    aws: None,
    request: pytest.FixtureRequest,
    http_event: Any,
    lambda_context: Any,
    function: str,
) -> None:
    """With a named stage the raw path carries it; the route must still match."""
    handler = request.getfixturevalue(f"{function}_handler")
    method, path = ("POST", "/uploads") if function == "uploads" else ("GET", "/images")
    event = http_event(method, f"/v1{path}", body={"content_type": "image/png"})
    event["requestContext"]["stage"] = "v1"
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    response = handler.lambda_handler(event, lambda_context)
    assert response["statusCode"] in (200, 201)
