"""Identifiers customers give and how they are checked: mobile numbers, resident ID numbers, policy
numbers, and the stable name of a service. Pure functions; a bad value raises ValidationError with
one or more Issue(code, field, message) (codes are stable, messages Chinese and say what to fix)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.clock import CHINA_TZ
from core.text import plain

@dataclass(frozen=True)
class Issue:
    code: str
    field: str
    message: str


class ValidationError(ValueError):
    """One or more input problems; nothing was stored."""

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        super().__init__("；".join(i.message for i in self.issues))

    @property
    def codes(self) -> list[str]:
        return [i.code for i in self.issues]

    @property
    def message(self) -> str:
        return "；".join(i.message for i in self.issues)


def _fail(code: str, field_name: str, message: str):
    raise ValidationError([Issue(code, field_name, message)])


def halfwidth(text: str) -> str:
    """Full-width digits/letters to ASCII, strip surrounding blanks."""
    return unicodedata.normalize("NFKC", text or "").strip()


# -- mobile numbers ----------------------------------------------------------
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalize_mobile(text: Any, field_name: str = "contact_phone") -> str:
    """Mainland mobile number: 11 digits starting 13-19; accepts +86/0086, blanks and dashes."""
    if text is None or not str(text).strip():
        _fail("mobile_missing", field_name, "请提供联系手机号。")
    raw = plain(halfwidth(str(text))).strip()  # stored as typed: no NUL, control characters, lone surrogates
    if len(raw) > 40:
        _fail("mobile_invalid", field_name, "手机号格式不正确，请输入 11 位中国大陆手机号，例如 13812345678。")
    digits = re.sub(r"[\s\-()（）]", "", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MOBILE.match(digits):
        _fail("mobile_invalid", field_name, "手机号格式不正确，请输入 11 位中国大陆手机号，例如 13812345678。")
    return digits


def is_mobile(text: Any) -> bool:
    try:
        normalize_mobile(text)
        return True
    except ValidationError:
        return False


# -- resident ID numbers (GB 11643-1999) -------------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^[1-9]\d{16}[\dX]$")


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def id_birth_date(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def normalize_id_number(text: Any, field_name: str = "id_number", today: date | None = None) -> str:
    """18-character resident ID number with valid birth date and check character."""
    if text is None or not str(text).strip():
        _fail("id_number_missing", field_name, "请提供身份证号码。")
    s = halfwidth(str(text)).replace(" ", "").upper()
    if len(s) > 40 or not _ID_SHAPE.match(s):
        _fail("id_number_invalid", field_name, "身份证号码格式不正确，应为 18 位（最后一位可以是数字或 X）。")
    try:
        born = id_birth_date(s)
    except ValueError:
        _fail("id_number_invalid", field_name, "身份证号码中的出生日期不正确，请核对后重新输入。")
    today = today or datetime.now(CHINA_TZ).date()
    if born > today or born.year < 1900:
        _fail("id_number_invalid", field_name, "身份证号码中的出生日期不正确，请核对后重新输入。")
    if id_check_char(s[:17]) != s[17]:
        _fail("id_number_checksum", field_name, "身份证号码校验位不正确，可能有数字输错了，请核对后重新输入。")
    return s


def is_id_number(text: Any) -> bool:
    try:
        normalize_id_number(text)
        return True
    except ValidationError:
        return False


def normalize_id_last4(text: Any, field_name: str = "id_last4") -> str:
    s = halfwidth(str(text or "")).replace(" ", "").upper()
    if not re.fullmatch(r"\d{3}[\dX]", s):
        _fail("id_last4_invalid", field_name, "请提供身份证号码的后四位（最后一位可以是 X）。")
    return s


# -- policy numbers ----------------------------------------------------------
_POLICY = re.compile(r"^[A-Z0-9][A-Z0-9\-]{5,31}$")


def normalize_policy_number(text: Any, field_name: str = "policy_number") -> str:
    """6-32 letters, digits and dashes (case-insensitive, full-width accepted)."""
    if text is None or not str(text).strip():
        _fail("policy_number_missing", field_name, "请提供保单号。")
    s = re.sub(r"\s+", "", halfwidth(str(text))).upper()
    if not _POLICY.match(s):
        _fail("policy_number_invalid", field_name,
              "保单号格式不正确：保单号由 6-32 位字母、数字组成，请对照保单或电子保单重新输入。")
    return s




def mask_mobile(m: str | None) -> str | None:
    return f"{m[:3]}****{m[-4:]}" if m and len(m) == 11 else None


def mask_id(i: str | None) -> str | None:
    return ("*" * (len(i) - 4) + i[-4:]) if i and len(i) > 4 else None


_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{3})\d{10}(\d{3}[\dXx])(?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9])(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?![0-9])")


def redact(text: str | None) -> str | None:
    """Free text with every mainland mobile (139****5678) and 18-character ID number (1101**********1234)
    masked, full-width digits included; for transcripts, handoff records and log lines."""
    if not text:
        return text
    s = unicodedata.normalize("NFKC", text) if any("\uff10" <= c <= "\uff19" for c in text) else text
    s = _ID_IN_TEXT.sub(lambda m: m.group(1) + "*" * 10 + m.group(2), s)
    return _MOBILE_IN_TEXT.sub(lambda m: m.group(1) + "****" + m.group(3), s)


@dataclass(frozen=True)
class ServiceRef:
    """A service as the knowledge store names it; stable across `knowledge build` runs."""

    manual_id: str
    key: str
    name: str = ""
