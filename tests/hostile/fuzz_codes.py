"""Coverage-guided fuzzing of the code parsers with atheris, run by hand (not collected):

    .venv/bin/python tests/hostile/fuzz_codes.py -atheris_runs=2000000
    .venv/bin/python tests/hostile/fuzz_codes.py -max_total_time=600 corpus/   # keeps a corpus

Any input is decoded as UTF-8 (with surrogates escaped, so lone surrogates get in too) and
given to every parser and to the vendor's full check under a fixed MAC key. A crash is any
exception, a check that says ok without a value (or the reverse), a refusal that fails to
render in Japanese or English, or a forged code or key that passes the MAC. Needs atheris
(`pip install atheris`; not a project dependency).
"""

from __future__ import annotations

import json
import sys

import atheris

with atheris.instrument_imports():
    from cssec.core.codes import (
        check_activation_code,
        check_registration_key,
        classify,
        normalize,
        parse_activation_code,
        parse_registration_key,
    )

KEYS = {0: b"fuzzing-key-0-" + b"k" * 18, 1: b"fuzzing-key-1-" + b"k" * 18}


def _rendered(check: object) -> None:
    ok = getattr(check, "ok")  # noqa: B009  (CodeCheck is generic; keep this script untyped)
    value = getattr(check, "value")  # noqa: B009
    if ok:
        if value is None:
            raise AssertionError("ok without a value")
        return
    error = check.to_error()  # type: ignore[attr-defined]
    for lang in ("ja", "en"):
        body = error.to_dict(lang)
        if not body["message"]:
            raise AssertionError(f"empty {lang} message for {body}")
        json.dumps(body)


def test_one_input(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    for check in (parse_activation_code(text), parse_registration_key(text)):
        _rendered(check)
    for check in (check_activation_code(text, KEYS), check_registration_key(text, KEYS)):
        _rendered(check)
        if check.ok:
            raise AssertionError(f"forgery accepted: {text!r}")
    classify(text)
    normalize(text)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
