"""One function's code, running in a process of its own, as Lambda runs it.

Started by `infra.local.functions` with the function's environment (from its template)
and its unpacked code folder first on `sys.path`; imports the handler once (a cold
start), then answers invocations one at a time: a JSON request per line on stdin, a
JSON reply per line on the original stdout. Whatever the handler prints or logs goes to
stderr, which the runner shows as the function's log; the root logger has a handler in
Lambda's format, as the Python runtime installs one. An exception becomes the error
Lambda reports (`errorType`, `errorMessage`, and `stackTrace` holding the handler's
frames only); an import failure becomes Lambda's `Runtime.ImportModuleError` (or
`Runtime.UserCodeSyntaxError`, `Runtime.HandlerNotFound`). A result is JSON as Lambda
writes it: a `Decimal` is a number, anything else JSON cannot hold is a
`Runtime.MarshalError`. `sys.exit` in a handler ends the process, as it ends Lambda's.
"""

from __future__ import annotations

import decimal
import importlib
import json
import logging
import os
import sys
import time
import traceback
import uuid
from typing import Any

LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s"
request_id = ""


class Context:
    """The Lambda context object a handler receives (the Python runtime's fields and types)."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = request.get("functionArn", "")
        # A string, as the runtime reads it from AWS_LAMBDA_FUNCTION_MEMORY_SIZE.
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = request.get("requestId") or str(uuid.uuid4())
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "local")
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + float(request.get("timeout", 3))

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = request_id
        return True


def setup_logging() -> None:
    """The root logger's handler, in the format the Lambda Python runtime writes."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter(LOG_FORMAT, "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(_RequestId())
    logging.getLogger().addHandler(handler)


def handler_frames(exc: BaseException) -> list[str]:
    """The traceback's frames from the handler's code on, as the runtime formats them."""
    frames = traceback.extract_tb(exc.__traceback__)
    while frames and frames[0].filename == __file__:
        frames.pop(0)
    return traceback.format_list(frames)


def error_reply(exc: BaseException) -> dict[str, Any]:
    return {
        "ok": False,
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": handler_frames(exc),
    }


def init_error(module_name: str, exc: BaseException) -> dict[str, Any]:
    """What Lambda reports when the handler cannot be loaded."""
    if isinstance(exc, SyntaxError):
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        return {
            "ok": False,
            "errorType": "Runtime.UserCodeSyntaxError",
            "errorMessage": f"Syntax error in module '{module_name}': {exc}",
            "stackTrace": trace,
        }
    if isinstance(exc, ImportError):
        return {
            "ok": False,
            "errorType": "Runtime.ImportModuleError",
            "errorMessage": f"Unable to import module '{module_name}': {exc}",
            "stackTrace": [],
        }
    return error_reply(exc)


def lambda_json(value: Any) -> Any:
    """What the runtime's encoder does beyond JSON's: a Decimal becomes a number."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def resolve_localhost_names() -> None:
    """`<name>.localhost` is this machine (RFC 6761), as browsers and systemd-resolved
    answer; the local AWS's virtual-hosted buckets live there. glibc's resolver only knows
    `localhost` itself, so the worker answers for the subdomains before asking it."""
    import socket

    lookup = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if isinstance(host, str) and host.lower().rstrip(".").endswith(".localhost"):
            host = "127.0.0.1"
        return lookup(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def main(handler_path: str) -> None:
    global request_id
    resolve_localhost_names()
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the handler's prints are its log
    setup_logging()
    module_name, _, function_name = handler_path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # an import error is the function's error, as on Lambda
        replies.write(json.dumps({**init_error(module_name, exc), "init": True}) + "\n")
        return
    handler = getattr(module, function_name, None)
    if handler is None:
        missing = {
            "ok": False,
            "errorType": "Runtime.HandlerNotFound",
            "errorMessage": f"Handler '{function_name}' missing on module '{module_name}'",
            "stackTrace": [],
            "init": True,
        }
        replies.write(json.dumps(missing) + "\n")
        return
    replies.write(json.dumps({"ok": True, "ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        context = Context(request)
        request_id = context.aws_request_id
        try:
            result = handler(request["event"], context)
        except Exception as exc:  # the handler's failure is data for the caller
            text = json.dumps(error_reply(exc))
        else:
            try:
                text = json.dumps({"ok": True, "result": result}, default=lambda_json)
            except (TypeError, ValueError) as exc:
                marshal = {
                    "ok": False,
                    "errorType": "Runtime.MarshalError",
                    "errorMessage": f"Unable to marshal response: {exc}",
                    "stackTrace": [],
                }
                text = json.dumps(marshal)
        request_id = ""
        replies.write(text + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
