"""The password policy for passwords set or changed from now on. Passwords already stored (the
demo's "demo" among them) keep working: the policy is checked when a password is chosen, never
at sign-in."""

from __future__ import annotations

from engine.errors import FieldError, ValidationFailed

MIN_LENGTH = 10
MAX_LENGTH = 200


def password_problems(
    password: str, username: str = "", field: str = "password"
) -> list[FieldError]:
    """What is wrong with `password` as the password of `username`."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"密码至少 {MIN_LENGTH} 位")
    if len(password) > MAX_LENGTH:
        problems.append(f"密码最多 {MAX_LENGTH} 位")
    if password.isdigit():
        problems.append("密码不能全是数字")
    if username and username.casefold() == password.casefold():
        problems.append("密码不能与用户名相同")
    return [FieldError(field, p) for p in problems]


def check_password_policy(password: str, username: str = "", field: str = "password") -> None:
    problems = password_problems(password, username, field)
    if problems:
        raise ValidationFailed("密码不符合要求", problems)
