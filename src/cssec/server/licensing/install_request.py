"""What `cssec server install` is given, what it answers, and the checks on the
administrator's input (password file, target directory) made before any other work."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cssec.core.errors import CssecError, Phrase, ValidationFailed
from cssec.server.licensing.errors import AlreadyInstalled, DataDirNotEmpty
from cssec.server.licensing.trust import VendorTrust
from cssec.server.licensing.view import SlotView
from cssec.server.storage.datadir import DataDir
from cssec.server.tls.certificate import TlsMaterial
from cssec.server.tls.vendor import VendorTls

MIN_PASSWORD_LENGTH = 8


class VendorUrlRequired(CssecError):
    """An online install has nobody to ask for its codes and keys."""

    code = "vendor_url_required"
    status = 400
    message_ja = (
        "オンラインでのインストールにはライセンスサーバのURLが必要です。--vendor-url URLを"
        "指定してください。インターネットに接続できない環境では、--offline "
        "--activation-code CODE --vendor-keys-file Fでインストールできます。"
    )
    message_en = (
        "An online install needs the license service's URL: give --vendor-url URL. A site "
        "without a connection installs with --offline --activation-code CODE "
        "--vendor-keys-file F instead."
    )


@dataclass(frozen=True)
class InstallRequest:
    data_dir: Path
    vendor_url: str
    """The license service's URL; "" for an offline install that was given none (the
    server then never calls it: renewal by new codes and response files only)."""
    admin_password: str = field(repr=False)
    registration_key: str | None = None
    activation_code: str | None = None
    offline: bool = False
    company: str = ""
    contact_email: str = ""
    trust: VendorTrust = field(default_factory=VendorTrust)
    tls: TlsMaterial | None = None
    """The server's certificate and key; None: a self-signed one for the default names."""
    vendor_tls: VendorTls = field(default_factory=VendorTls)
    """The vendor's CA (--vendor-ca-file) and whether plain HTTP to it is allowed."""


@dataclass(frozen=True)
class InstallResult:
    data_dir: Path
    server_id: str
    slots: list[SlotView]
    keys_pinned: bool
    skipped: list[str] = field(default_factory=list)
    tls_fingerprint: str = ""
    """sha256:<hex> of the server's certificate: what clients pin."""


def read_password_file(path: Path) -> str:
    """The admin password: the file's first line, which must be long enough."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise ValidationFailed(
            detail=Phrase(
                f"パスワードファイル {path}を読めません（{why}）",
                f"cannot read the password file {path}: {exc}",
            )
        ) from None
    lines = text.splitlines()
    password = lines[0] if lines else ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            detail=Phrase(
                f"管理者パスワードは {MIN_PASSWORD_LENGTH} 文字以上にしてください",
                f"the admin password must be at least {MIN_PASSWORD_LENGTH} characters",
            )
        )
    return password


def check_target(target: Path) -> None:
    """Refuse an existing installation or a non-empty directory before any work."""
    if DataDir(target).is_installed():
        raise AlreadyInstalled(path=str(target))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise DataDirNotEmpty(path=str(target))
