"""Errors of the component updates: each says what happened and what to do next."""

from __future__ import annotations

import re

from cssec.core.errors import CssecError, Phrase

# cause → (ja, en): why an update attempt failed, as the update log and the refusal say it.
CAUSES: dict[str, tuple[str, str]] = {
    "vendor_unreachable": (
        "ActiveUpdate サーバに接続できませんでした",
        "ActiveUpdate could not be reached",
    ),
    "vendor_refused": (
        "ActiveUpdate サーバがダウンロードを拒否しました",
        "ActiveUpdate refused the download",
    ),
    "bad_manifest": (
        "マニフェストの署名または内容を検証できませんでした",
        "the manifest's signature or contents could not be verified",
    ),
    "stale_manifest": (
        "現在より古いマニフェストが返されました",
        "the manifest is older than the current one",
    ),
    "hash_mismatch": (
        "ダウンロードしたファイルのハッシュがマニフェストと一致しません",
        "a downloaded file does not match the manifest's SHA-256",
    ),
    "truncated": (
        "ダウンロードが途中で切れました (サイズ不足)",
        "a download was cut short (too few bytes)",
    ),
    "oversize": (
        "ダウンロードしたファイルがマニフェストのサイズを超えています",
        "a downloaded file is larger than the manifest says",
    ),
    "invalid_component": (
        "ダウンロードしたファイルをコンポーネントとして読み込めません",
        "a downloaded file does not work as its component",
    ),
    "disk_error": (
        "ファイルを保存できませんでした (ディスクの空き容量や権限)",
        "a file could not be stored (disk space or permissions)",
    ),
    "stale_metadata": (
        "ActiveUpdateの署名付きメタデータの有効期限が切れています (更新が止められている"
        "可能性があります)",
        "ActiveUpdate's signed metadata has expired (updates may be being frozen)",
    ),
    "rolled_back_metadata": (
        "保持しているもの、または期待したものより古い署名付きメタデータが返されました "
        "(ロールバック攻撃、または異なる版の組み合わせ)",
        "older signed metadata than held or expected was returned (a rollback or "
        "mix-and-match attack)",
    ),
    "bad_metadata": (
        "署名付きメタデータを検証できませんでした (署名、組み合わせ、内容)",
        "the signed metadata could not be verified (signatures, consistency or contents)",
    ),
    "not_configured": (
        "ライセンスサーバの URLが設定されていません",
        "no license service URL is configured",
    ),
}


_ENGLISH_PROSE = re.compile(r"[A-Za-z]+ [A-Za-z]+")


def aside(detail: str) -> Phrase:
    """The technical detail in parentheses: none when there is none (never 「（-）」), and
    in Japanese none when it is English prose (a TUF or OS message; the error's `detail`
    field and the English message keep it)."""
    if not detail:
        return Phrase("", "")
    ja = "" if _ENGLISH_PROSE.search(detail) else f"（{detail}）"
    return Phrase(ja, f" ({detail})")


class ComponentUpdateFailed(CssecError):
    """An update attempt failed; nothing was switched."""

    code = "component_update_failed"
    status = 502
    message_ja = (
        "コンポーネントのアップデートに失敗しました: {cause_ja}{aside}。"
        "現在のコンポーネントはそのまま使用されます。ネットワークとプロキシの設定、"
        "ディスクの空き容量を確認し、もう一度アップデートしてください。解決しない場合は"
        "法人お問合せ窓口にお問い合わせください。"
    )
    message_en = (
        "The component update failed: {cause_en}{aside}. The current components stay in "
        "use. Check the network and proxy settings and the free disk space, then update "
        "again; if it persists, contact corporate support."
    )

    def __init__(self, cause: str, detail: str = "") -> None:
        ja, en = CAUSES.get(cause, (cause, cause))
        super().__init__(cause=cause, cause_ja=ja, cause_en=en, detail=detail, aside=aside(detail))

    @property
    def cause(self) -> str:
        return str(self.fields["cause"])


class ComponentsUnavailable(CssecError):
    """The server has no components yet (an offline install before its first update)."""

    code = "components_unavailable"
    status = 503
    message_ja = (
        "C/S Sec. サーバにはまだコンポーネントがありません。サーバ管理者が "
        "[アップデート] → [コンポーネント]で [今すぐアップデート]を実行する（インターネットに"
        "接続できないサーバでは、法人お問合せ窓口から受け取ったコンポーネントバンドルを同じ画面の"
        "[バンドルを取り込む]で取り込む）まで待ってから、もう一度お試しください。"
    )
    message_en = (
        "The C/S Sec. server has no components yet. Ask the administrator to run "
        "Updates → Components → Update now (a server without Internet access imports the "
        "component bundle from the support desk on the same page), then try again."
    )


class NothingToRollBack(CssecError):
    code = "nothing_to_roll_back"
    status = 409
    message_ja = (
        "ロールバックできる以前のコンポーネントがありません。"
        "ロールバックは直前のアップデートを 1 回分だけ元に戻せます。"
    )
    message_en = (
        "There are no previous components to roll back to. A rollback undoes the latest "
        "update, one step only."
    )


MAX_BUNDLE_BYTES = 64 * 1024 * 1024
"""The largest component bundle a server imports (the Web manager's upload too)."""

BUNDLE_CAUSES: dict[str, tuple[str, str]] = {
    "bad_bundle": (
        "ファイルがコンポーネントバンドルではないか、壊れています",
        "the file is not a component bundle, or it is damaged",
    ),
    "other_site": (
        "このサーバのアクティベーションコード用に作成されたバンドルではありません",
        "the bundle was made for another site's activation code",
    ),
    "bundle_too_old": (
        "バンドルの作成から30日を超えています",
        "the bundle was made more than 30 days ago",
    ),
    "older_bundle": (
        "インストール済みのコンポーネントより古いバンドルです（ロールバックは受け付けません）",
        "the bundle is older than the installed components (a rollback is refused)",
    ),
}


class BundleRefused(CssecError):
    """A component bundle was not imported; nothing was switched."""

    code = "bundle_refused"
    status = 400
    message_ja = (
        "コンポーネントバンドルを取り込めませんでした: {cause_ja}{aside}。"
        "現在のコンポーネントはそのまま使用されます。法人お問合せ窓口に、このサーバの"
        "アクティベーションコード用の新しいバンドルを依頼して、取り込み直してください。"
    )
    message_en = (
        "The component bundle was not imported: {cause_en}{aside}. The current "
        "components stay in use. Ask corporate support for a new bundle for this server's "
        "activation code, then import it."
    )

    def __init__(self, cause: str, detail: str = "") -> None:
        ja, en = BUNDLE_CAUSES.get(cause) or CAUSES.get(cause, (cause, cause))
        super().__init__(cause=cause, cause_ja=ja, cause_en=en, detail=detail, aside=aside(detail))

    @property
    def cause(self) -> str:
        return str(self.fields["cause"])
