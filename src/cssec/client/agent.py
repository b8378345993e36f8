"""The client's side of the server's agent API (`/api/v1/agent/...`).

Every failure becomes a `CssecError`: the server's JSON error body
(`{"code", "message", ...fields}`) is mapped back to the class with that code, keeping the
server's message text, which is already in the user's language because every request
carries Accept-Language. Network failures become `ServerUnreachable`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from cssec import __version__
from cssec.client import errors as client_errors
from cssec.core import errors as core_errors
from cssec.core.components import STEP_BACK_HEADER
from cssec.core.errors import (
    CssecError,
    LicenseExpired,
    LicenseRejected,
    LicenseRevoked,
    NotAuthenticated,
    RateLimited,
)
from cssec.core.policy import Component

if TYPE_CHECKING:
    import httpx

AGENT_PREFIX = "/api/v1/agent"
USER_AGENT = f"cssec-client/{__version__}"
Route = Literal["web", "remote", "autopcc"]
UpdateResultValue = Literal["success", "failed", "refused", "up_to_date"]
ScanType = Literal["scan_now", "realtime"]
_BODY_EXCERPT = 200


def _error_classes() -> dict[str, type[CssecError]]:
    classes: dict[str, type[CssecError]] = {}
    for module in (core_errors, client_errors):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, CssecError):
                classes.setdefault(value.code, value)
    return classes


ERROR_CLASSES = _error_classes()
_AT_SERVER: dict[type[CssecError], type[CssecError]] = {
    LicenseExpired: client_errors.LicenseExpiredAtServer,
    LicenseRevoked: client_errors.LicenseRevokedAtServer,
    LicenseRejected: client_errors.LicenseRejectedAtServer,
}


def error_from_response(response: httpx.Response) -> CssecError:
    """The CssecError a non-2xx response stands for, with the server's own message."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        message = body.get("message")
        fields = {k: v for k, v in body.items() if k not in {"code", "message"}}
        fields["status_code"] = response.status_code
        cls = ERROR_CLASSES.get(body["code"])
        at_server = _AT_SERVER.get(cls) if cls is not None else None
        if at_server is not None:  # said to the PC's user, not with the server's menus
            return at_server(**fields)
        generic = {NotAuthenticated.message_ja, NotAuthenticated.message_en}
        if cls is NotAuthenticated and (not isinstance(message, str) or message in generic):
            return client_errors.ClientNotRecognised(**fields)
        if cls is not None and cls is not client_errors.ServerUnreachable:
            return cls(message if isinstance(message, str) else None, **fields)
        fields["server_code"] = body["code"]
        return client_errors.ServerError(message if isinstance(message, str) else None, **fields)
    excerpt = response.text[:_BODY_EXCERPT].strip()
    detail = f"HTTP {response.status_code}" + (f": {excerpt}" if excerpt else "")
    return client_errors.ServerError(detail=detail, status_code=response.status_code)


def is_transient(error: CssecError) -> bool:
    """Worth retrying later: the server was down, overloaded or unreachable.

    An expired token is kept for later too (reinstalling gives a new one), so reports
    queued meanwhile are not thrown away.
    """
    if isinstance(error, client_errors.ServerUnreachable | RateLimited | NotAuthenticated):
        return True
    status = error.fields.get("status_code")
    return isinstance(error, client_errors.ServerError) and (
        not isinstance(status, int) or status >= 500
    )


@dataclass(frozen=True)
class Enrollment:
    client_id: str
    client_token: str
    server_id: str
    vendor_keys: dict[str, Any]


@dataclass(frozen=True)
class ManifestOffer:
    envelope: Any
    step_back_from: int | None


class AgentClient:
    """One connection to the server's agent API; use as a context manager.

    Over HTTPS it trusts exactly the pinned certificate (`pin`, DER; see
    `cssec.client.pinning`). When the server shows another one, the client follows a renewal
    the pinned certificate's key signed (then `on_repin` gets the new certificate and the
    call is made again, once), or refuses with ServerCertificateMismatch.
    """

    def __init__(
        self,
        server_url: str,
        *,
        token: str | None = None,
        lang: str = "ja",
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        pin: bytes | None = None,
        insecure_http: bool = False,
        on_repin: Callable[[bytes], None] | None = None,
    ) -> None:
        # httpx is imported here, not with the module: `cssec client status` never talks
        # to the server and should not pay for it.
        import httpx  # noqa: PLC0415

        from cssec.client.pinning import check_transport  # noqa: PLC0415

        self.server_url = server_url.rstrip("/")
        url = httpx.URL(self.server_url)
        if transport is None:  # an injected transport (tests) is not the network
            check_transport(url, pinned=pin is not None, insecure_http=insecure_http)
            if url.scheme == "https" and pin is None:
                from cssec.client.errors import ServerFingerprintRequired  # noqa: PLC0415

                raise ServerFingerprintRequired(server_url=self.server_url)
        self.pin = pin
        self._timeout = timeout
        self._transport = transport
        self._on_repin = on_repin
        self._headers = {"Accept-Language": lang, "User-Agent": USER_AGENT}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._http = self._client()

    def _client(self) -> httpx.Client:
        import httpx  # noqa: PLC0415 - loaded by __init__ already

        from cssec.client.pinning import pinned_context  # noqa: PLC0415

        # Redirects are not followed: the bearer token goes to the configured server only.
        return httpx.Client(
            base_url=self.server_url,
            headers=self._headers,
            timeout=self._timeout,
            transport=self._transport,
            follow_redirects=False,
            verify=pinned_context(self.pin) if self.pin is not None else True,
        )

    def _follow_renewal(self, exc: httpx.HTTPError) -> bool:
        """True when the server's certificate changed by a renewal the pinned one signed:
        the new certificate is pinned and the call may be made again. Raises
        ServerCertificateMismatch for any other certificate; False when `exc` was not about
        the certificate at all."""
        import httpx  # noqa: PLC0415 - loaded by __init__ already

        from cssec.client import pinning  # noqa: PLC0415

        if self.pin is None or not pinning.certificate_from_ssl_error(exc):
            return False
        url = httpx.URL(self.server_url)
        presented = pinning.probe_certificate(url, timeout=self._timeout)
        pinned = pinning.fingerprint_of(self.pin)
        if pinning.fingerprint_of(presented) == pinned:
            return False  # the pinned certificate itself failed (expired?): not a renewal
        self.pin = pinning.verify_presented(
            self.server_url, pinned=pinned, presented=presented, timeout=self._timeout
        )
        self._http.close()
        self._http = self._client()
        if self._on_repin is not None:
            self._on_repin(self.pin)
        return True

    def __enter__(self) -> AgentClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _unreachable(self, exc: httpx.HTTPError) -> client_errors.ServerUnreachable:
        cause = type(exc).__name__ + (f": {exc}" if str(exc) else "")
        return client_errors.ServerUnreachable(server_url=self.server_url, cause=cause)

    def _request(self, method: str, path: str, *, json: Any = None) -> httpx.Response:
        import httpx  # noqa: PLC0415 - loaded by __init__ already

        try:
            response = self._http.request(method, AGENT_PREFIX + path, json=json)
        except httpx.HTTPError as exc:
            if not self._follow_renewal(exc):
                raise self._unreachable(exc) from exc
            try:
                response = self._http.request(method, AGENT_PREFIX + path, json=json)
            except httpx.HTTPError as again:
                raise self._unreachable(again) from again
        if response.is_success:
            return response
        raise error_from_response(response)

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise client_errors.ServerError(detail="response is not JSON") from None

    def enroll(
        self,
        *,
        route: Route,
        install_token: str | None,
        hostname: str,
        os_name: str,
        agent_version: str = __version__,
    ) -> Enrollment:
        body = {
            "route": route,
            "install_token": install_token,
            "hostname": hostname,
            "os": os_name,
            "agent_version": agent_version,
        }
        from pydantic import ValidationError  # noqa: PLC0415 - only install enrolls

        from cssec.client.wire import Enrolled  # noqa: PLC0415

        raw = self._json(self._request("POST", "/enroll", json=body))
        try:
            enrolled = Enrolled.model_validate(raw)
        except ValidationError as exc:
            detail = f"enroll response: {exc.error_count()} invalid field(s)"
            raise client_errors.ServerError(detail=detail) from None
        return Enrollment(
            client_id=str(enrolled.client_id),
            client_token=enrolled.client_token,
            server_id=str(enrolled.server_id),
            vendor_keys=enrolled.vendor_keys,
        )

    def manifest(self) -> Any:
        """The vendor-signed envelope, unverified: the caller checks it."""
        return self.manifest_offer().envelope

    def manifest_offer(self) -> ManifestOffer:
        """The envelope (unverified) and the serial the server says it rolled back from."""
        response = self._request("GET", "/manifest")
        raw = response.headers.get(STEP_BACK_HEADER, "")
        step_back_from = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None
        return ManifestOffer(self._json(response), step_back_from)

    def vendor_keys(self) -> Any:
        """The server's vendor keys and the endorsements that vouch for rotated ones:
        {"keys": [JWK, …], "endorsements": [envelope, …]}."""
        return self._json(self._request("GET", "/vendor-keys"))

    def download(self, component: Component, sha256: str, *, max_bytes: int) -> bytes:
        """The file's bytes, never more than `max_bytes` (+1, so oversize is detectable)."""
        return self._fetch_bytes(f"{AGENT_PREFIX}/files/{component.value}/{sha256}", max_bytes)

    def tuf_file(self, name: str, *, max_bytes: int) -> bytes:
        """A file of the server's TUF mirror (`/api/v1/agent/tuf/<name>`: metadata or
        `targets/…`), unverified (python-tuf checks it), never more than `max_bytes` + 1."""
        return self._fetch_bytes(f"{AGENT_PREFIX}/tuf/{name}", max_bytes)

    def _fetch_bytes(self, path: str, max_bytes: int) -> bytes:
        import httpx  # noqa: PLC0415 - loaded by __init__ already

        try:
            return self._download(path, max_bytes=max_bytes)
        except httpx.HTTPError as exc:
            if not self._follow_renewal(exc):
                raise self._unreachable(exc) from exc
        try:
            return self._download(path, max_bytes=max_bytes)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc

    def _download(self, path: str, *, max_bytes: int) -> bytes:
        with self._http.stream("GET", path) as response:
            if not response.is_success:
                response.read()
                raise error_from_response(response)
            chunks: list[bytes] = []
            received = 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                received += len(chunk)
                if received > max_bytes:
                    break
            return b"".join(chunks)[: max_bytes + 1]

    def post(self, endpoint: str, body: dict[str, Any]) -> None:
        """POST a report (used for replaying the outbox too); expects 2xx."""
        self._request("POST", f"/{endpoint}", json=body)

    def report_update(
        self, result: UpdateResultValue, versions: dict[str, int], message: str
    ) -> None:
        self.post("update-result", update_result_body(result, versions, message))

    def post_virus_log(self, scan_type: ScanType, detections: list[dict[str, Any]]) -> None:
        self.post("virus-log", {"scan_type": scan_type, "detections": detections})

    def heartbeat(self, status: dict[str, Any]) -> dict[str, Any]:
        """The issue-6 heartbeat: what the client says of itself → the server's settings."""
        raw = self._json(self._request("POST", "/heartbeat", json={"status": status}))
        if not isinstance(raw, dict):
            raise client_errors.ServerError(detail="heartbeat response is not an object")
        return raw


def update_result_body(
    result: UpdateResultValue,
    versions: dict[str, int],
    message: str,
    *,
    code: str | None = None,
    params: dict[str, int | None] | None = None,
) -> dict[str, Any]:
    """`message` in the client's language; `code` (and `params`) let the server show it in
    the reader's (an older server ignores them)."""
    body: dict[str, Any] = {"result": result, "versions": versions, "message": message}
    if code is not None:
        body["message_code"] = code
        body["message_params"] = params or {}
    return body


__all__ = [
    "AgentClient",
    "Enrollment",
    "error_from_response",
    "is_transient",
    "update_result_body",
]
