"""`/docs` (Swagger UI) and `/redoc`, served whole by the service, so that they work on a
network without the internet: their scripts, style sheet and icon are the files that the
fastapi-offline package ships, answered under `/docs/assets/<its version>/` (cached for a
year: a new version is a new path). Neither page is in the spec.

Each page answers with a Content-Security-Policy that lets it load nothing from another
origin: scripts from this site (and on /docs the one inline script carrying the response's
nonce), styles from this site (Redoc writes its own `<style>` elements and style
attributes, hence 'unsafe-inline' for styles on its page alone), images from this site and
`data:` URLs, requests to this site only. Redoc searches in a worker it makes from a
`blob:` URL; the Redocly logo it would fetch from a CDN is refused by the policy (the
browser logs that refusal), and the page shows none."""

import json
import secrets
from importlib import metadata
from pathlib import Path
from string import Template
from typing import Final

import fastapi_offline
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException

from salescore.api.routing import Router

VERSION: Final = metadata.version("fastapi-offline")
ASSETS: Final = f"/docs/assets/{VERSION}"
MEDIA_TYPES: Final = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
SWAGGER_UI_PARAMETERS: Final = {
    "url": "/openapi.json", "dom_id": "#swagger-ui", "layout": "BaseLayout",
    "deepLinking": True, "showExtensions": True, "showCommonExtensions": True,
    "validatorUrl": None,  # the online validator's badge would be an image from elsewhere
}
_STATIC = Path(fastapi_offline.__file__).parent / "static"
_CACHED = {"Cache-Control": "public, max-age=31536000, immutable",
           "X-Content-Type-Options": "nosniff"}
_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>salescore - $name</title>
<link rel="icon" type="image/png" href="$assets/favicon.png">
"""
_SWAGGER_UI = Template(_HEAD + """<link rel="stylesheet" href="$assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="$assets/swagger-ui-bundle.js"></script>
<script nonce="$nonce">
window.ui = SwaggerUIBundle(Object.assign($parameters, {
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
}));
</script>
</body>
</html>
""")
_REDOC = Template(_HEAD + """</head>
<body>
<noscript>Redoc needs JavaScript; the spec itself is <a href="/openapi.json">/openapi.json</a>.
</noscript>
<redoc spec-url="/openapi.json"></redoc>
<script src="$assets/redoc.standalone.js"></script>
</body>
</html>
""")

router = Router(include_in_schema=False)


def content_security_policy(*, script_nonce: str | None = None,
                            inline_styles: bool = False) -> str:
    """Nothing from another origin; an inline script only with the nonce."""
    scripts = "'self'" if script_nonce is None else f"'self' 'nonce-{script_nonce}'"
    styles = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    return (f"default-src 'none'; script-src {scripts}; style-src {styles}; "
            "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def _page(html: str, policy: str) -> HTMLResponse:
    return HTMLResponse(html, headers={"Content-Security-Policy": policy,
                                       "Cache-Control": "no-store",
                                       "X-Content-Type-Options": "nosniff"})


@router.get("/docs")
async def swagger_ui() -> Response:
    """Swagger UI on the spec."""
    nonce = secrets.token_urlsafe(16)
    parameters = json.dumps(SWAGGER_UI_PARAMETERS).replace("<", "\\u003c")
    return _page(_SWAGGER_UI.substitute(name="Swagger UI", assets=ASSETS, nonce=nonce,
                                        parameters=parameters),
                 content_security_policy(script_nonce=nonce))


@router.get("/redoc")
async def redoc() -> Response:
    """Redoc on the spec."""
    return _page(_REDOC.substitute(name="Redoc", assets=ASSETS),
                 content_security_policy(inline_styles=True))


@router.get("/docs/assets/{version}/{name}")
async def asset(version: str, name: str) -> Response:
    """One of the pages' files, under the version of the package they come from (a
    parameter, so metrics count the route by its template, whatever the version)."""
    media_type = MEDIA_TYPES.get(name)
    if media_type is None or version != VERSION:
        raise HTTPException(404)
    return FileResponse(_STATIC / name, media_type=media_type, headers=_CACHED)
