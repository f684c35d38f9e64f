"""Object names: `generateName` suffixes, DNS-1123 and qualified-name (label key/value)
validation with upstream messages.

Mirrors apiserver `storage/names` and apimachinery `util/validation`, so error text
matches what kubectl users see from a real cluster.
"""

from __future__ import annotations

import re
import secrets

MAX_NAME_LENGTH = 63
RANDOM_LENGTH = 5
MAX_GENERATED_NAME_LENGTH = MAX_NAME_LENGTH - RANDOM_LENGTH
# upstream util/rand alphabet: no vowels (no accidental words), no confusable 0/1/3
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"

DNS1123_LABEL_MAX_LENGTH = 63
DNS1123_SUBDOMAIN_MAX_LENGTH = 253
_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FMT = _LABEL_FMT + r"(\." + _LABEL_FMT + ")*"
_LABEL_RE = re.compile("^" + _LABEL_FMT + "$")
_SUBDOMAIN_RE = re.compile("^" + _SUBDOMAIN_FMT + "$")
_LABEL_ERR = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_SUBDOMAIN_ERR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)


def random_suffix(n: int = RANDOM_LENGTH) -> str:
    return "".join(secrets.choice(_ALPHANUMS) for _ in range(n))


def generate_name(base: str) -> str:
    """`base` cut to 58 characters plus 5 random characters, as upstream SimpleNameGenerator."""
    return base[:MAX_GENERATED_NAME_LENGTH] + random_suffix()


def _max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    # byte-for-byte upstream RegexError, double space before "or" included
    ex = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {ex}regex used for validation is '{fmt}')"


def is_dns1123_label(value: str) -> list[str]:
    """Problems with `value` as a DNS-1123 label (namespaces, services); [] when valid."""
    errs: list[str] = []
    if len(value) > DNS1123_LABEL_MAX_LENGTH:
        errs.append(_max_len_error(DNS1123_LABEL_MAX_LENGTH))
    if not _LABEL_RE.match(value):
        errs.append(_regex_error(_LABEL_ERR, _LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    """Problems with `value` as a DNS-1123 subdomain (most object names); [] when valid."""
    errs: list[str] = []
    if len(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(_max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _SUBDOMAIN_RE.match(value):
        errs.append(_regex_error(_SUBDOMAIN_ERR, _SUBDOMAIN_FMT, "example.com"))
    return errs


QUALIFIED_NAME_MAX_LENGTH = 63
LABEL_VALUE_MAX_LENGTH = 63
_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME_RE = re.compile("^" + _QNAME_FMT + "$")
_LABEL_VALUE_FMT = "(" + _QNAME_FMT + ")?"
_QNAME_ERR = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
              "with an alphanumeric character")
_LABEL_VALUE_ERR = ("a valid label must be an empty string or consist of alphanumeric characters, "
                    "'-', '_' or '.', and must start and end with an alphanumeric character")


def is_qualified_name(value: str) -> list[str]:
    """Problems with `value` as `[prefix/]name` (label and annotation keys); [] when valid."""
    parts = value.split("/")
    if len(parts) == 1:
        prefix, name = "", parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return ["prefix part must be non-empty"]
    else:
        return ["a qualified name " + _regex_error(_QNAME_ERR, _QNAME_FMT, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    errs = ["prefix part " + e for e in is_dns1123_subdomain(prefix)] if prefix else []
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > QUALIFIED_NAME_MAX_LENGTH:
        errs.append("name part " + _max_len_error(QUALIFIED_NAME_MAX_LENGTH))
    if name and not _QNAME_RE.match(name):
        errs.append("name part " + _regex_error(_QNAME_ERR, _QNAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


def is_valid_label_value(value: str) -> list[str]:
    """Problems with `value` as a label value (empty is fine); [] when valid."""
    errs: list[str] = []
    if len(value) > LABEL_VALUE_MAX_LENGTH:
        errs.append(_max_len_error(LABEL_VALUE_MAX_LENGTH))
    if value and not _QNAME_RE.match(value):
        errs.append(_regex_error(_LABEL_VALUE_ERR, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def path_segment_problems(value: str) -> list[str]:
    """Why `value` cannot be one segment of a URL or storage key (upstream IsValidPathSegmentName)."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]
