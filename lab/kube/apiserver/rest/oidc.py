"""The two OIDC discovery endpoints (upstream `pkg/routes/openidmetadata.go`): readable
anonymously (see `authn.ANONYMOUS_PATHS`) so others can verify our ServiceAccount tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

import orjson
from aiohttp import web

from lab.kube.apiserver.rest.paths import not_found_path
from lab.kube.apiserver.serviceaccount import TokenConfig, openid


def _servable(config: TokenConfig) -> bool:
    """Upstream installs the endpoints only for an https issuer without query or fragment."""
    url = urlsplit(config.issuer)
    return url.scheme == "https" and not url.query and not url.fragment and bool(config.verification_keys)


class OpenIDMetadata:
    def __init__(self, config: TokenConfig) -> None:
        self.config = config

    def _answer(self, body: object, content_type: str) -> web.Response:
        if not _servable(self.config):
            raise not_found_path()
        return web.Response(body=orjson.dumps(body), content_type=content_type,
                            headers={"Cache-Control": openid.CACHE_CONTROL})

    async def configuration(self, _: web.Request) -> web.Response:
        return self._answer(openid.provider_configuration(self.config), "application/json")

    async def jwks(self, _: web.Request) -> web.Response:
        return self._answer(openid.jwks(self.config), openid.JWKS_CONTENT_TYPE)
