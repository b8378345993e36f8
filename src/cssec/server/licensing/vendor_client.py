"""The server's side of the vendor contract: registration, status and keys over httpx.

Every failure becomes a CssecError the caller can log and show: the network and the
vendor's own refusals (`invalid_activation_code`, `revoked_activation_code`, …) are told
apart, so "unreachable" never hides "refused". Statements are returned unverified; the
license manager verifies them against the pinned keys before anything changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Any

import httpx

from cssec.core.errors import (
    CssecError,
    ExpiredActivationCode,
    InvalidActivationCode,
    InvalidRegistrationKey,
    LicenseExpired,
    NotFound,
    ProductNotLicensed,
    RevokedActivationCode,
    UnknownRegistrationKey,
    ValidationFailed,
    VendorUnreachable,
    WrongProduct,
)
from cssec.core.signing import VerifyingKey
from cssec.server.tls.vendor import VendorTls

_VENDOR_ERRORS: dict[str, type[CssecError]] = {
    "invalid_activation_code": InvalidActivationCode,
    "expired_activation_code": ExpiredActivationCode,
    "revoked_activation_code": RevokedActivationCode,
    "license_expired": LicenseExpired,
    "product_not_licensed": ProductNotLicensed,  # the Damage Cleanup template, to a CS code
    "wrong_product": WrongProduct,
    "invalid_registration_key": InvalidRegistrationKey,
    "unknown_registration_key": UnknownRegistrationKey,
    "validation_error": ValidationFailed,
}
# Fields the local error messages interpolate, with a fallback when the vendor sent none.
_FIELD_DEFAULTS: dict[str, dict[str, Any]] = {
    "invalid_activation_code": {
        "detail_ja": "ライセンスサーバが認識できないコードです",
        "detail_en": "the license service does not recognise it",
    },
    "invalid_registration_key": {
        "detail_ja": "ライセンスサーバが認識できないキーです",
        "detail_en": "the license service does not recognise it",
    },
    "expired_activation_code": {"expires_on": "?"},
    "wrong_product": {"expected": "?", "actual": "?"},
    "validation_error": {"detail": "?"},
}
_PASSED_FIELDS = (
    "detail_ja",
    "detail_en",
    "reason",
    "position",
    "expires_on",
    "expected",
    "actual",
    "detail",
    "operation",
    "operation_ja",
    "operation_en",
    "state",
    "revocation",
    "refusal",
)


@dataclass(frozen=True)
class IssuedCode:
    product: str
    activation_code: str
    expires_on: date


class VendorClient:
    """One connection pool to the vendor; use as `async with VendorClient(...) as vendor`."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        proxy: str | None = None,
        timeout: float = 10.0,
        language: str = "ja",
        tls: VendorTls | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        tls = tls if tls is not None else VendorTls()
        # Checked on each call (a CssecError there is handled like any refusal): plain HTTP
        # only to a loopback vendor or when install allowed it.
        self._insecure: CssecError | None = None
        try:
            tls.check(self.base_url)
        except CssecError as exc:
            self._insecure = exc
        # The environment is not read (trust_env=False): only the proxy setting applies;
        # certificates are verified against the system store (SSL_CERT_FILE honoured by
        # OpenSSL itself) or the CA given at install, never certifi's bundle.
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            proxy=None if transport is not None else proxy,
            timeout=httpx.Timeout(timeout),
            trust_env=False,
            verify=tls.context(),
            headers={"Accept-Language": language, "User-Agent": "cssec-server/1"},
        )

    async def __aenter__(self) -> VendorClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        if self._insecure is not None:
            raise self._insecure
        try:
            response = await self._client.request(method, path, json=body)
        except httpx.TimeoutException:
            raise VendorUnreachable(cause="timeout") from None
        except httpx.HTTPError as exc:
            raise VendorUnreachable(cause=_describe(exc)) from None
        if response.status_code == 200:
            try:
                return response.json()
            except ValueError:
                raise VendorUnreachable(cause="malformed response") from None
        raise _refusal(response)

    async def fetch_keys(self) -> list[VerifyingKey]:
        """GET /api/v1/keys: the vendor's trusted public keys, current first."""
        keys, _endorsements = await self.fetch_key_set()
        return keys

    async def fetch_key_set(self) -> tuple[list[VerifyingKey], list[Any]]:
        """GET /api/v1/keys: the keys, and the rotations' endorsements (unverified: see
        `core.signing.follow_endorsements`)."""
        data = await self._call("GET", "/api/v1/keys")
        keys: list[VerifyingKey] = []
        raw = data.get("keys") if isinstance(data, dict) else None
        for jwk in raw if isinstance(raw, list) else []:
            try:
                keys.append(VerifyingKey.from_jwk(jwk))
            except (ValueError, TypeError, AttributeError):
                continue
        if not keys:
            raise VendorUnreachable(cause="no usable public key in /api/v1/keys")
        endorsements = data.get("endorsements") if isinstance(data, dict) else None
        return keys, endorsements if isinstance(endorsements, list) else []

    async def register(
        self, *, registration_key: str, company: str, contact_email: str, server_id: str
    ) -> list[IssuedCode]:
        """POST /api/v1/registrations: the contract's activation codes."""
        data = await self._call(
            "POST",
            "/api/v1/registrations",
            {
                "registration_key": registration_key,
                "company": company,
                "contact_email": contact_email,
                "server_id": server_id,
            },
        )
        try:
            return [
                IssuedCode(
                    product=str(item["product"]),
                    activation_code=str(item["activation_code"]),
                    expires_on=date.fromisoformat(str(item["expires_on"])),
                )
                for item in data["activation_codes"]
            ]
        except (KeyError, TypeError, ValueError):
            raise VendorUnreachable(cause="malformed registration response") from None

    async def status(
        self, *, activation_code: str, server_id: str, nonce: str, seats_used: int | None = None
    ) -> dict[str, Any]:
        """POST /api/v1/status: the signed envelope, not yet verified. `nonce` is echoed in
        it; a revoked code's refusal carries the signed revocation as its `revocation`.
        `seats_used` (clients seen lately) goes along for the vendor's status history."""
        body: dict[str, Any] = {
            "activation_code": activation_code,
            "server_id": server_id,
            "nonce": nonce,
        }
        if seats_used is not None:
            body["seats_used"] = seats_used
        data = await self._call("POST", "/api/v1/status", body)
        if not isinstance(data, dict):
            raise VendorUnreachable(cause="malformed status response")
        return data

    async def activeupdate_manifest(self, *, activation_code: str, server_id: str) -> Any:
        """POST /api/v1/activeupdate/manifest: the signed manifest envelope, unverified."""
        return await self._call(
            "POST",
            "/api/v1/activeupdate/manifest",
            {"activation_code": activation_code, "server_id": server_id},
        )

    async def activeupdate_file(
        self, sha256: str, *, activation_code: str, server_id: str, max_bytes: int
    ) -> bytes:
        """GET /api/v1/activeupdate/files/{sha256}: at most `max_bytes` + 1 bytes, unverified.

        A body cut off by the peer comes back short (the caller sees it is truncated)."""
        if self._insecure is not None:
            raise self._insecure
        headers = {"X-Cssec-Activation-Code": activation_code, "X-Cssec-Server-Id": server_id}
        chunks: list[bytes] = []
        received = 0
        try:
            async with self._client.stream(
                "GET", f"/api/v1/activeupdate/files/{sha256}", headers=headers
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise _refusal(response)
                try:
                    async for chunk in response.aiter_bytes():
                        chunks.append(chunk)
                        received += len(chunk)
                        if received > max_bytes:
                            break
                except httpx.RemoteProtocolError:
                    pass  # the peer closed mid-body: what arrived is returned, and is short
        except httpx.TimeoutException:
            raise VendorUnreachable(cause="timeout") from None
        except httpx.HTTPError as exc:
            raise VendorUnreachable(cause=_describe(exc)) from None
        return b"".join(chunks)[: max_bytes + 1]

    async def tuf_bytes(
        self, path: str, *, activation_code: str, server_id: str, max_bytes: int
    ) -> bytes:
        """GET a TUF metadata or target file under /api/v1/tuf/: at most `max_bytes` + 1
        bytes, unverified (python-tuf checks them). NotFound for a 404 (a vendor without a
        TUF root, or no such version); the vendor's refusals as for the manifest."""
        if self._insecure is not None:
            raise self._insecure
        headers = {"X-Cssec-Activation-Code": activation_code, "X-Cssec-Server-Id": server_id}
        chunks: list[bytes] = []
        received = 0
        try:
            async with self._client.stream("GET", path, headers=headers) as response:
                if response.status_code == 404:
                    raise NotFound()
                if response.status_code != 200:
                    await response.aread()
                    raise _refusal(response)
                try:
                    async for chunk in response.aiter_bytes():
                        chunks.append(chunk)
                        received += len(chunk)
                        if received > max_bytes:
                            break
                except httpx.RemoteProtocolError:
                    pass  # cut short: python-tuf's length and hash checks refuse it
        except httpx.TimeoutException:
            raise VendorUnreachable(cause="timeout") from None
        except httpx.HTTPError as exc:
            raise VendorUnreachable(cause=_describe(exc)) from None
        return b"".join(chunks)[: max_bytes + 1]


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return (
                # English only: VendorUnreachable says it in Japanese for a Japanese
                # reader (never "… / 証明書を検証できません" in both at once).
                "TLS certificate not trusted: check the system CA store, SSL_CERT_FILE or "
                "--vendor-ca-file"
            )
        return "connection failed"
    if isinstance(exc, httpx.ProxyError):
        return "proxy error"
    return type(exc).__name__


def _refusal(response: httpx.Response) -> CssecError:
    """The vendor's error as a local CssecError (messages in the server's languages)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    code = body.get("code") if isinstance(body, dict) else None
    cls = _VENDOR_ERRORS.get(code) if isinstance(code, str) else None
    if cls is None or not isinstance(body, dict):
        if response.status_code == 429:
            return VendorUnreachable(cause="rate limited by the license service")
        return VendorUnreachable(cause=f"HTTP {response.status_code}")
    fields: dict[str, Any] = dict(_FIELD_DEFAULTS.get(cls.code, {}))
    fields.update({k: body[k] for k in _PASSED_FIELDS if body.get(k) is not None})
    return cls(**fields)
