"""The host's Debian mirror, as one-line apt sources for building images.

The node image is bootstrapped from the same mirror the host uses (labs have no internet
beyond it), so we read /etc/apt/sources.list and the deb822 *.sources files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SOURCES_DIR = Path("/etc/apt")


@dataclass(frozen=True)
class AptSource:
    uri: str
    suite: str
    components: tuple[str, ...]

    def line(self) -> str:
        return f"deb {self.uri} {self.suite} {' '.join(self.components)}"


def parse_one_line(text: str) -> list[AptSource]:
    """`deb [opts] URI SUITE COMP...` lines (sources.list format)."""
    found: list[AptSource] = []
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            while words and not words[0].endswith("]"):
                words = words[1:]
            words = words[1:]
        if len(words) >= 3:
            found.append(AptSource(words[0], words[1], tuple(words[2:])))
    return found


def parse_deb822(text: str) -> list[AptSource]:
    """Stanzas of `Types: / URIs: / Suites: / Components:` (*.sources format)."""
    found: list[AptSource] = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for raw in stanza.splitlines():
            if raw.startswith("#") or ":" not in raw or raw[:1].isspace():
                continue
            key, value = raw.split(":", 1)
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled") == "no":
            continue
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                found.append(AptSource(uri, suite, tuple(fields.get("components", "main").split())))
    return found


def host_sources(root: Path = SOURCES_DIR) -> list[AptSource]:
    files = [root / "sources.list", *sorted((root / "sources.list.d").glob("*"))]
    found: list[AptSource] = []
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text()
        found += parse_deb822(text) if path.suffix == ".sources" else parse_one_line(text)
    return found


def debian_sources(codename: str, sources: list[AptSource]) -> list[AptSource]:
    """Only the Debian suites of `codename` (bookworm, bookworm-updates, bookworm-security);
    third-party repos on the host (other suite names) are left out of the image."""
    wanted = {codename, f"{codename}-updates", f"{codename}-security", f"{codename}/updates"}
    picked: list[AptSource] = []
    for source in sources:
        if source.suite in wanted and source not in picked:
            picked.append(source)
    return picked
