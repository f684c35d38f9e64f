"""The node image is bootstrapped from the host's own Debian mirror, nothing else."""

from __future__ import annotations

from pathlib import Path

from lab.machines.apt_sources import AptSource, debian_sources, host_sources, parse_deb822, parse_one_line

DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://mirror.example/debian
Suites: bookworm
Components: main
"""


def test_deb822_stanzas_expand_to_one_source_per_suite() -> None:
    assert parse_deb822(DEB822) == [
        AptSource("http://mirror.example/debian", "bookworm", ("main",)),
        AptSource("http://mirror.example/debian", "bookworm-updates", ("main",)),
    ]


def test_one_line_sources_skip_options_comments_and_deb_src() -> None:
    text = ("deb [arch=amd64 signed-by=/k.gpg] http://sec.example/debian-security bookworm-security main contrib\n"
            "# deb http://old.example/debian buster main\n"
            "deb-src http://mirror.example/debian bookworm main\n")
    assert parse_one_line(text) == [
        AptSource("http://sec.example/debian-security", "bookworm-security", ("main", "contrib")),
    ]


def test_only_debian_suites_of_the_codename_reach_the_image(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)
    (tmp_path / "sources.list.d" / "vendor.list").write_text(
        "deb https://vendor.example/apt cloud-sdk-bookworm main\n"
        "deb http://sec.example/debian-security bookworm-security main\n")
    picked = debian_sources("bookworm", host_sources(tmp_path))
    assert [s.line() for s in picked] == [
        "deb http://mirror.example/debian bookworm main",
        "deb http://mirror.example/debian bookworm-updates main",
        "deb http://sec.example/debian-security bookworm-security main",
    ]
