"""The app's page reports Chinese as the browser's language, so Gradio's own words are Chinese on every machine."""
from __future__ import annotations

# Gradio chooses the words of its components (Drop File Here, Clear…) from navigator.language when its scripts
# start, and components keep what they mounted with. This runs first in <head>, before Gradio's module scripts.
CHINESE_FIRST = (b"<script>(() => { for (const [name, value] of [['language', 'zh-CN'], ['languages', ['zh-CN', 'zh']]])"
                 b" { try { Object.defineProperty(navigator, name, {get: () => value}); } catch (e) {} } })();</script>")


class ChineseFirst:
    """ASGI middleware: an HTML page's <head> starts with CHINESE_FIRST (other responses pass untouched)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        held: dict = {}
        body: list[bytes] = []

        async def relay(message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(b"text/html") and b"content-encoding" not in headers:
                    held["start"] = message  # sent with the body, once its length is known
                    return
            elif "start" in held and message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                page = b"".join(body).replace(b"<head>", b"<head>" + CHINESE_FIRST, 1)
                start = held["start"]
                headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
                headers.append((b"content-length", str(len(page)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, relay)
