from cssec.web.security import constant_time_equal, hash_password, needs_rehash, verify_password


def test_argon2_hashes_verify_only_the_right_password() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "correct horsf")
    assert not needs_rehash(hashed)


def test_unknown_users_and_garbage_hashes_never_verify() -> None:
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "anything")


def test_constant_time_equal() -> None:
    assert constant_time_equal("abc", "abc")
    assert constant_time_equal(b"abc", "abc")
    assert not constant_time_equal("abc", "abd")
    assert not constant_time_equal("abc", "abcd")
