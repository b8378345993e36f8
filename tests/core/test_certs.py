"""Server certificates: fingerprints, the operator's own pair checked, and renewals that only
the old key can sign (a chain followed from the pin, nothing else)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cssec.core.certs import (
    certificate_fingerprint,
    check_key_pair,
    follow_renewals,
    make_self_signed,
    pem_to_der,
    sign_renewal,
    summarize,
)
from cssec.core.install_tokens import join_install_token, split_install_token

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _pair(*names: str) -> tuple[bytes, bytes]:
    return make_self_signed(list(names) or ["server.example", "127.0.0.1"], now=NOW)


def _fp(cert: bytes) -> str:
    return certificate_fingerprint(pem_to_der(cert))


def test_a_self_signed_certificate_names_hosts_and_addresses() -> None:
    _key, cert = _pair("pc-server.example.local", "pc-server", "127.0.0.1")
    summary = summarize(cert)
    assert summary.names == ["pc-server.example.local", "pc-server", "127.0.0.1"]
    assert summary.fingerprint == _fp(cert)
    assert len(summary.fingerprint) == len("sha256:") + 64
    assert summary.not_after - NOW > timedelta(days=3000)


def test_the_operators_pair_must_match_and_be_valid() -> None:
    key, cert = _pair()
    other_key, _other = _pair()
    assert check_key_pair(cert, key, now=NOW).fingerprint == _fp(cert)
    with pytest.raises(ValueError, match="does not belong"):
        check_key_pair(cert, other_key, now=NOW)
    with pytest.raises(ValueError, match="expired"):
        check_key_pair(cert, key, now=NOW + timedelta(days=4000))
    with pytest.raises(ValueError, match="PEM"):
        check_key_pair(b"nonsense", key, now=NOW)


def test_a_chain_of_renewals_signed_by_the_old_keys_is_followed() -> None:
    key1, cert1 = _pair()
    key2, cert2 = _pair()
    _key3, cert3 = _pair()
    first = sign_renewal(key1, cert1, cert2, at=NOW)
    second = sign_renewal(key2, cert2, cert3, at=NOW)
    assert follow_renewals(_fp(cert1), _fp(cert2), [first]) == pem_to_der(cert2)
    assert follow_renewals(_fp(cert1), _fp(cert3), [second, first]) == pem_to_der(cert3)
    assert follow_renewals(_fp(cert2), _fp(cert3), [first, second]) == pem_to_der(cert3)
    assert follow_renewals(_fp(cert1), _fp(cert3), [second]) is None


def test_a_renewal_signed_by_another_key_is_refused() -> None:
    _key1, cert1 = _pair()
    evil_key, evil_cert = _pair()
    forged = sign_renewal(evil_key, cert1, evil_cert, at=NOW)
    assert follow_renewals(_fp(cert1), _fp(evil_cert), [forged]) is None


def test_a_tampered_renewal_is_refused() -> None:
    key1, cert1 = _pair()
    _key2, cert2 = _pair()
    _evil_key, evil_cert = _pair()
    good = sign_renewal(key1, cert1, cert2, at=NOW)
    swapped = {**good, "renewal": {**good["renewal"], "new_cert": evil_cert.decode()}}
    renamed = {**good, "renewal": {**good["renewal"], "new_fingerprint": _fp(evil_cert)}}
    none_alg = {**good, "alg": "none"}
    for bad in (swapped, renamed, none_alg, {"renewal": "x"}, None, 7):
        assert follow_renewals(_fp(cert1), _fp(evil_cert), [bad]) is None
    assert follow_renewals(_fp(cert1), _fp(cert2), [none_alg]) is None


def test_an_install_token_carries_the_fingerprint() -> None:
    _key, cert = _pair()
    text = join_install_token("abc_DEF-123", _fp(cert))
    assert split_install_token(text) == ("abc_DEF-123", _fp(cert))
    assert split_install_token("abc_DEF-123") == ("abc_DEF-123", None)
    assert join_install_token("abc", None) == "abc"
    assert split_install_token("abc.not-a-fingerprint") == ("abc.not-a-fingerprint", None)
