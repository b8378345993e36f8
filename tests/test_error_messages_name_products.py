"""Every error that takes a product or a component names it in the reader's language.

RevocationNeedsAdmin(product="CS") said 「製品「CS」のアクティベーションコードは…」 in the CLI
and the admin API, and a staged-rollout refusal said "rollout of virus_pattern" in English:
a person reads the product's name (C/S Sec., ウイルス感染復旧サービス) and the component's
words, while the JSON body keeps the code a script reads. The tables below cover every
`CssecError` whose messages take such a field (a new one fails the coverage test until it
is added here)."""

from __future__ import annotations

import importlib
import pkgutil
import re
import string
from collections.abc import Callable, Iterator

import pytest

import cssec
from cssec.client.errors import (
    ComponentRejected,
    LicenseExpiredAtServer,
    LicenseRejectedAtServer,
    LicenseRevokedAtServer,
)
from cssec.core.errors import (
    CssecError,
    LicenseExpired,
    LicenseRejected,
    LicenseRevoked,
    ProductNotLicensed,
    WrongProduct,
)
from cssec.core.license import LicenseState, Product
from cssec.core.policy import Component, Operation, decide, not_licensed
from cssec.server.licensing.errors import VendorConfirmationRequired
from cssec.server.licensing.refusals import confirmation_required
from cssec.vendor_service.activeupdate.bundle_refusals import BundleContractEnded
from cssec.vendor_service.activeupdate.rollout_errors import (
    NoPreviousVersion,
    RolloutInProgress,
    RolloutNotActive,
    RolloutNotFound,
)
from cssec.vendor_service.api_errors import BulkJobNotFinished
from cssec.vendor_service.errors import (
    ComponentUnchanged,
    InvalidComponentFile,
    NothingToRenew,
    ProductNotInContract,
    RevocationLiftNotAsked,
    RevocationLiftNotRequested,
    RevocationNeedsAdmin,
    UnknownComponent,
    UnknownProduct,
)

LANGS = ("ja", "en")
_ASCII_WORD = "A-Za-z0-9_"  # not \b: a Japanese particle is a word character too (「CSの」)
BARE_PRODUCT_CODE = re.compile(rf"(?<![{_ASCII_WORD}])(?:CS|DCS)(?![{_ASCII_WORD}])")
BARE_COMPONENT_KIND = re.compile(
    rf"(?<![{_ASCII_WORD}])(?:{'|'.join(c.value for c in Component)})(?![{_ASCII_WORD}])"
)


def _other(product: Product) -> Product:
    return Product.DCS if product is Product.CS else Product.CS


def _refusal(cls: type[LicenseExpired], state: LicenseState) -> Callable[[Product], CssecError]:
    """As the server's policy raises it, or as a client rebuilds it from the server's body."""

    def build(product: Product) -> CssecError:
        return cls(**decide(product, state, Operation.ACTIVEUPDATE_DOWNLOAD).error().fields)

    return build


PRODUCT_ERRORS: dict[type[CssecError], Callable[[Product], CssecError]] = {
    ProductNotInContract: lambda p: ProductNotInContract(product=p.value),
    RevocationNeedsAdmin: lambda p: RevocationNeedsAdmin(product=p.value),
    RevocationLiftNotAsked: lambda p: RevocationLiftNotAsked(product=p.value),
    RevocationLiftNotRequested: lambda p: RevocationLiftNotRequested(product=p.value),
    NothingToRenew: lambda p: NothingToRenew(product=p.value, ends_on="2027-03-31"),
    WrongProduct: lambda p: WrongProduct(expected=_other(p).value, actual=p.value),
    LicenseRevoked: _refusal(LicenseRevoked, LicenseState.REVOKED),
    LicenseRejected: _refusal(LicenseRejected, LicenseState.REJECTED),
    LicenseRevokedAtServer: _refusal(LicenseRevokedAtServer, LicenseState.REVOKED),
    LicenseRejectedAtServer: _refusal(LicenseRejectedAtServer, LicenseState.REJECTED),
    VendorConfirmationRequired: lambda p: confirmation_required(p, "revoked", CssecError()),
    ProductNotLicensed: lambda p: not_licensed(Component.DAMAGE_CLEANUP_TEMPLATE),
}
"""Builders of each product-taking error for a product, as its raisers build it."""

NAMES_NO_PRODUCT: dict[type[CssecError], Callable[[Product], CssecError]] = {
    LicenseExpired: _refusal(LicenseExpired, LicenseState.EXPIRED),
    LicenseExpiredAtServer: _refusal(LicenseExpiredAtServer, LicenseState.EXPIRED),
    BundleContractEnded: lambda p: BundleContractEnded(
        **decide(p, LicenseState.EXPIRED, Operation.ACTIVEUPDATE_DOWNLOAD).error().fields
    ),
}
"""Refusals that may say a product without a code: C/S Sec.'s own lapse reads as the
license's (the other product's is named), and the support desk's bundle refusal speaks of
the contract. Checked only for bare codes."""

COMPONENT_ERRORS: dict[type[CssecError], Callable[[Component], CssecError]] = {
    RolloutInProgress: lambda c: RolloutInProgress(component=c.value, version=3),
    RolloutNotFound: lambda c: RolloutNotFound(component=c.value, version=3),
    RolloutNotActive: lambda c: RolloutNotActive(component=c.value, version=3, state="pulled"),
    NoPreviousVersion: lambda c: NoPreviousVersion(component=c.value, version=1),
    ComponentRejected: lambda c: ComponentRejected(component=c.value, reason="size 3 != 4"),
    InvalidComponentFile: lambda c: InvalidComponentFile(
        component=c.value,
        component_ja=c.label("ja"),
        component_en=c.label("en"),
        detail_ja="空のファイル",
        detail_en="empty file",
    ),
    ComponentUnchanged: lambda c: ComponentUnchanged(
        component=c.value, component_ja=c.label("ja"), component_en=c.label("en"), version=2
    ),
}

ECHOES_INPUT = {UnknownProduct, UnknownComponent}
"""They repeat a value that is no product or component (what the person typed) and list the
codes to type instead."""

PRODUCT_FIELD = re.compile(r"^product(_ja|_en)?$")
COMPONENT_FIELD = re.compile(r"^component(_ja|_en|_label)?$")


def _errors() -> Iterator[type[CssecError]]:
    for module in pkgutil.walk_packages(cssec.__path__, "cssec."):
        if not module.name.endswith("__main__") and ".migrations" not in module.name:
            importlib.import_module(module.name)
    todo = [CssecError]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        yield cls


def _placeholders(cls: type[CssecError]) -> set[str]:
    templates = [v for k in dir(cls) if isinstance(v := getattr(cls, k), str) and "{" in v]
    return {f for t in templates for _, f, _, _ in string.Formatter().parse(t) if f}


def test_every_error_taking_a_product_or_component_is_in_a_table() -> None:
    covered = {*PRODUCT_ERRORS, *NAMES_NO_PRODUCT, *COMPONENT_ERRORS, *ECHOES_INPUT}
    takers = {
        cls
        for cls in _errors()
        if any(PRODUCT_FIELD.match(f) or COMPONENT_FIELD.match(f) for f in _placeholders(cls))
        or cls.product_fields
        or cls.component_fields
    }
    assert takers - covered == set()


@pytest.mark.parametrize("product", list(Product))
@pytest.mark.parametrize("cls", list(PRODUCT_ERRORS), ids=lambda c: c.__name__)
def test_the_message_names_the_product(cls: type[CssecError], product: Product) -> None:
    error = PRODUCT_ERRORS[cls](product)
    named = Product.DCS if cls is ProductNotLicensed else product
    for lang in LANGS:
        said = error.message(lang)
        assert named.name_in(lang) in said, said
        assert not BARE_PRODUCT_CODE.search(said), said
        assert "{" not in said, said


@pytest.mark.parametrize("product", list(Product))
@pytest.mark.parametrize("cls", list(NAMES_NO_PRODUCT), ids=lambda c: c.__name__)
def test_no_bare_product_code(cls: type[CssecError], product: Product) -> None:
    error = NAMES_NO_PRODUCT[cls](product)
    for lang in LANGS:
        assert not BARE_PRODUCT_CODE.search(error.message(lang)), error.message(lang)


@pytest.mark.parametrize("component", list(Component))
@pytest.mark.parametrize("cls", list(COMPONENT_ERRORS), ids=lambda c: c.__name__)
def test_the_message_names_the_component(cls: type[CssecError], component: Component) -> None:
    error = COMPONENT_ERRORS[cls](component)
    for lang in LANGS:
        said = error.message(lang)
        assert component.label(lang) in said, said
        assert not BARE_COMPONENT_KIND.search(said), said


@pytest.mark.parametrize("product", list(Product))
def test_the_body_keeps_the_code(product: Product) -> None:
    """Scripts read `product` and `component` as codes, whatever the message's language."""
    for lang in LANGS:
        body = RevocationNeedsAdmin(product=product.value).to_dict(lang)
        assert body["code"] == "revocation_needs_admin"
        assert body["product"] == product.value
        assert product.name_in(lang) in body["message"]
        refused = RolloutNotFound(component="virus_pattern", version=3).to_dict(lang)
        assert refused["component"] == "virus_pattern"


def test_a_name_already_given_is_kept() -> None:
    """The console passes the product's name already; it is not named twice or lost."""
    said = RevocationNeedsAdmin(product="ウイルス感染復旧サービス").message("ja")
    assert "製品「ウイルス感染復旧サービス」" in said


def test_the_bulk_job_status_in_japanese_words() -> None:
    error = BulkJobNotFinished(job_id=7, job_status="running")
    assert "（状態: 実行中）" in error.message("ja")
    assert not re.search(r"queued|running|failed", error.message("ja"))
    assert "(status: running)" in error.message("en")
    assert error.to_dict("ja")["job_status"] == "running"
