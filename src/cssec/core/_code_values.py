"""The values `cssec.core.codes` hands out: decoded codes, MAC keys and check outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Final, Generic, TypeVar

from cssec.core._symbols import (
    ACTIVATION_CODE_GROUPS,
    REGISTRATION_KEY_GROUPS,
    Kind,
    format_symbols,
)
from cssec.core.errors import (
    CssecError,
    InvalidActivationCode,
    InvalidRegistrationKey,
    WrongProduct,
)
from cssec.core.license import Product, VersionType

MIN_SECRET_BYTES: Final = 32

T = TypeVar("T")


@dataclass(frozen=True)
class MacKey:
    kid: int
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_SECRET_BYTES:
            raise ValueError(f"MAC secret must be at least {MIN_SECRET_BYTES} bytes")
        if not 0 <= self.kid < 64:
            raise ValueError("kid must be in 0..63")


@dataclass(frozen=True, slots=True)
class ActivationCode:
    product: Product
    version: int
    version_type: VersionType
    seats: int
    expires_on: date
    serial: int
    kid: int
    mac: bytes
    text: str
    # The decoded integer, kept by the parser so the MAC check need not re-pack the
    # fields; 0 (unknown) for codes built any other way, including dataclasses.replace.
    _bits: int = field(default=0, init=False, repr=False, compare=False)

    @property
    def formatted(self) -> str:
        return format_symbols(self.text, ACTIVATION_CODE_GROUPS)


@dataclass(frozen=True)
class RegistrationKey:
    version: int
    kid: int
    serial: int
    mac: bytes
    text: str

    @property
    def formatted(self) -> str:
        return format_symbols(self.text, REGISTRATION_KEY_GROUPS)


class CodeError(StrEnum):
    EMPTY = "empty"
    WRONG_LENGTH = "wrong_length"
    BAD_CHARACTER = "bad_character"
    CHECK_FAILED = "check_failed"
    UNSUPPORTED_VERSION = "unsupported_version"
    WRONG_PRODUCT = "wrong_product"
    MAC_FAILED = "mac_failed"
    WRONG_KIND = "wrong_kind"
    OUT_OF_RANGE = "out_of_range"


@dataclass(frozen=True, slots=True)
class CodeCheck(Generic[T]):
    """Outcome of checking user input: the decoded value, or the first thing wrong with it.

    `value` is also set for WRONG_PRODUCT and MAC_FAILED, where the code itself decoded
    fine. `position` is 1-based in the text as typed, for BAD_CHARACTER (and the product
    prefix); `detail` is a short ja/en phrase (empty when ok). `kind` picks the error class
    `to_error` builds, since `value` is None for most errors; `expected_product` is what
    the caller asked for, for WrongProduct.
    """

    value: T | None
    error: CodeError | None
    position: int | None
    detail: dict[str, str]
    kind: Kind = "activation_code"
    expected_product: Product | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_error(self) -> CssecError:
        if self.error is None:
            raise ValueError("to_error() called on a code that checked out")
        fields: dict[str, Any] = {
            "detail_ja": self.detail["ja"],
            "detail_en": self.detail["en"],
            "reason": self.error.value,
            "position": self.position,
        }
        if self.error is CodeError.WRONG_PRODUCT and isinstance(self.value, ActivationCode):
            assert self.expected_product is not None
            return WrongProduct(
                expected=self.expected_product.value, actual=self.value.product.value, **fields
            )
        if self.kind == "registration_key":
            return InvalidRegistrationKey(**fields)
        return InvalidActivationCode(**fields)


class Verdict(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"


def failed(
    kind: Kind,
    error: CodeError,
    detail: dict[str, str],
    *,
    position: int | None = None,
    value: Any = None,
    expected: Product | None = None,
) -> CodeCheck[Any]:
    """A failed check, with its own copy of `detail` so callers may change it."""
    return CodeCheck(value, error, position, dict(detail), kind, expected)


# --- Building values without the generated __init__ ----------------------------------------
#
# A frozen dataclass's __init__ sets every field through object.__setattr__, a call per
# field, and that was most of what decoding a valid code cost. The parser instead sets the
# fields as plain attributes of a blank with the same slots, then assigns the dataclass as
# its __class__ (Python allows that between classes with the same slots over the same base).
# What comes out is the object __init__ would have built: same class, same field values,
# frozen from then on. tests/core/test_code_fast_path.py compares the two.


class BlankActivationCode:
    """Becomes an ActivationCode once every field is set."""

    __slots__ = ActivationCode.__slots__


class _BlankCheck(Generic[T]):
    """Becomes a CodeCheck; Generic[T] because CodeCheck's base must match too."""

    __slots__ = CodeCheck.__slots__


def new_ok_check(value: T, kind: Kind, expected: Product | None) -> CodeCheck[T]:
    """A passed check, built without the generated __init__ (see above)."""
    blank: Any = _BlankCheck()
    blank.value = value
    blank.error = None
    blank.position = None
    blank.detail = {}
    blank.kind = kind
    blank.expected_product = expected
    blank.__class__ = CodeCheck
    check: CodeCheck[T] = blank
    return check
