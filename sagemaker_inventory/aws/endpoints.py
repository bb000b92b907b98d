"""Endpoint URLs botocore would refuse, found before any client is built.

botocore checks `endpoint_url` only when it builds a client, and raises a traceback-shaped error
there (for every scope of a run); the click layer asks here first, so a bad URL is one usage error
naming it.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def endpoint_url_problem(url: str) -> str | None:
    """Why botocore would refuse `url` as an endpoint, or None when it is fine."""
    from botocore.utils import is_valid_endpoint_url, is_valid_ipv6_endpoint_url

    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme not in ("http", "https"):
        example = "http://" + url.rsplit("://", maxsplit=1)[-1]
        return f"{url!r} is not an http(s) URL: add the scheme, e.g. {example}"
    if not (is_valid_endpoint_url(url) or is_valid_ipv6_endpoint_url(url)):
        return f"{url!r} is not a valid endpoint URL"
    return None
