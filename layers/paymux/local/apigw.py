"""API Gateway REST (v1) proxy events and a Lambda context, as API Gateway and Lambda build them.

The local platform turns every HTTP request into one of these, and tests use the same builder
instead of hand-written event dicts:

    event = rest_event("POST", "/v1/channels/alipay/payments", json_body={...},
                       headers={"Authorization": "Bearer sk_test_demo", "Idempotency-Key": "k1"})
    response = lambda_handler(event, lambda_context())
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote

from paymux.local.router import PathTemplate, Router

# A multi-valued mapping: {"a": "1", "b": ["2", "3"]} or pairs [("a", "1"), ("b", "2"), ("b", "3")].
MultiValues = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]

LOCAL_ACCOUNT_ID = "000000000000"
LOCAL_REGION = "us-east-1"


def rest_event(
    method: str,
    path: str,
    *,
    query: MultiValues | None = None,
    headers: MultiValues | None = None,
    body: str | bytes | None = None,
    json_body: object = None,
    resource: str | None = None,
    source_ip: str = "127.0.0.1",
    domain_name: str = "localhost",
    stage: str = "local",
    request_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event.

    `path` may carry a query string, merged with `query`. `body` is sent as is: text when it is valid
    UTF-8, otherwise base64 with `isBase64Encoded`; `json_body` serializes a value and sets
    `Content-Type: application/json`. `resource` is the matched path template; when omitted it is looked
    up in the topology (falling back to the path itself), and `pathParameters` come from it.
    Raises ValueError if both `body` and `json_body` are given or `path` does not fit `resource`.
    """
    raw_path, _, raw_query = path.partition("?")
    query_pairs = parse_qsl(raw_query, keep_blank_values=True) + _pairs(query)
    header_pairs = _pairs(headers)
    if json_body is not None:
        if body is not None:
            raise ValueError("give either body or json_body")
        body = json.dumps(json_body)
        if not any(name.lower() == "content-type" for name, _ in header_pairs):
            header_pairs.append(("Content-Type", "application/json"))
    template = resource or _topology_resource(method, raw_path)
    path_parameters = PathTemplate(template).match(raw_path)
    if path_parameters is None:
        raise ValueError(f"path {raw_path!r} does not match the resource {template!r}")
    text_body, is_base64 = _encode_body(body)
    decoded_path = unquote(raw_path)
    now = time.time()
    return {
        "resource": template,
        "path": decoded_path,
        "httpMethod": method.upper(),
        "headers": _last_values(header_pairs),
        "multiValueHeaders": _all_values(header_pairs),
        "queryStringParameters": _last_values(query_pairs),
        "multiValueQueryStringParameters": _all_values(query_pairs),
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT_ID,
            "apiId": "local",
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".", 1)[0],
            "extendedRequestId": uuid.uuid4().hex,
            "httpMethod": method.upper(),
            "identity": {
                "sourceIp": source_ip,
                "userAgent": _header(header_pairs, "user-agent"),
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "accessKey": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
            },
            "path": decoded_path,
            "protocol": "HTTP/1.1",
            "requestId": request_id or str(uuid.uuid4()),
            "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": "local",
            "resourcePath": template,
            "stage": stage,
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


@dataclass
class LambdaContext:
    """The Lambda context object a handler receives (the attributes Powertools reads)."""

    function_name: str = "paymux-local"
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 29
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    tenant_id: str | None = None
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{time.strftime('%Y/%m/%d')}/[{self.function_version}]local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_context(
    function_name: str = "paymux-local", *, memory_mb: int = 512, timeout_seconds: int = 29
) -> LambdaContext:
    """A fresh context for one invocation."""
    return LambdaContext(
        function_name=function_name, memory_limit_in_mb=memory_mb, timeout_seconds=timeout_seconds
    )


def response_body(response: Mapping[str, Any]) -> bytes:
    """The raw body of a Lambda proxy response (base64-decoded when `isBase64Encoded`)."""
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str(body).encode()


def response_headers(response: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A Lambda proxy response's headers as pairs; `multiValueHeaders` win over `headers`, as in
    API Gateway."""
    multi: Mapping[str, Sequence[Any]] = response.get("multiValueHeaders") or {}
    single: Mapping[str, Any] = response.get("headers") or {}
    multi_names = {name.lower() for name in multi}
    pairs = [(name, str(value)) for name, values in multi.items() for value in values]
    pairs += [(name, str(value)) for name, value in single.items() if name.lower() not in multi_names]
    return pairs


@cache
def _topology_router() -> Router:
    return Router.from_topology()


def _topology_resource(method: str, path: str) -> str:
    match = _topology_router().find_resource(method, path)
    return match.resource if match is not None else path


def _pairs(values: MultiValues | None) -> list[tuple[str, str]]:
    if values is None:
        return []
    if isinstance(values, Mapping):
        pairs: list[tuple[str, str]] = []
        for name, value in values.items():
            pairs.extend((name, item) for item in ([value] if isinstance(value, str) else value))
        return pairs
    return list(values)


def _last_values(pairs: list[tuple[str, str]]) -> dict[str, str] | None:
    return dict(pairs) or None


def _all_values(pairs: list[tuple[str, str]]) -> dict[str, list[str]] | None:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped or None


def _header(pairs: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in reversed(pairs) if key.lower() == name), None)


def _encode_body(body: str | bytes | None) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    if isinstance(body, str):
        return body, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True
