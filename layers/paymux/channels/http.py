"""A minimal HTTP client for provider traffic and self-posted sandbox notifications (urllib: no
extra dependency in every function)."""

from __future__ import annotations

import urllib.error
import urllib.request

from paymux.channels.base import ProviderRequest, ProviderResponse
from paymux.domain.errors import ChannelError


def send(url: str, request: ProviderRequest, timeout: float = 10.0) -> ProviderResponse:
    """Send `request` to `url`; returns the response whatever its status. Raises ChannelError if the
    server cannot be reached."""
    if not url.startswith(("https://", "http://")):
        raise ChannelError(f"Not an http(s) URL: {url}")
    outgoing = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=request.body, method=request.method, headers=dict(request.headers)
    )
    try:
        with urllib.request.urlopen(outgoing, timeout=timeout) as response:  # noqa: S310
            body = response.read().decode("utf-8", "replace")
            return ProviderResponse(
                response.status,
                body,
                response.headers.get_content_type(),
                {k.lower(): v for k, v in response.headers.items()},
            )
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", "replace")
        return ProviderResponse(
            error.code,
            body,
            error.headers.get_content_type(),
            {k.lower(): v for k, v in error.headers.items()},
        )
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise ChannelError(f"Could not reach {url}: {error}") from None
