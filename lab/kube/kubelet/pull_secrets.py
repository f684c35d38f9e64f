"""Registry credentials from a pod's imagePullSecrets (upstream credentialprovider's DockerKeyring).

A `kubernetes.io/dockerconfigjson` Secret holds `{"auths": {"<registry>": {...}}}`, the older
`kubernetes.io/dockercfg` the same map without `auths`. An entry matches an image when its host
(a `*.` wildcard allowed) and path prefix cover the image's repository; the most specific
entries come first and each is tried in turn, as upstream's puller does. Docker Hub's keys
(`https://index.docker.io/v1/`...) stand for `docker.io`.
"""

from __future__ import annotations

import base64
import fnmatch
import json
from dataclasses import dataclass

from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.volumes.objects import ObjectGetter, ObjectUnavailable, get_config_object
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of

DOCKER_HUB = "docker.io"
HUB_ALIASES = ("index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")


@dataclass(frozen=True)
class Entry:
    host: str  # may hold a leading `*.` wildcard
    path: str  # repository prefix, "" for the whole registry
    auth: pb.AuthConfig


def _split_key(key: str) -> tuple[str, str]:
    """`https://reg:5000/v1/team` -> ("reg:5000", "team"); Docker Hub's forms -> ("docker.io", "")."""
    rest = key.split("://", 1)[-1].strip("/")
    host, _, path = rest.partition("/")
    if host in HUB_ALIASES or host == DOCKER_HUB:
        return DOCKER_HUB, ""
    if path in ("v1", "v2") or path.startswith(("v1/", "v2/")):
        path = path[3:]
    return host, path


def parse(secret: Obj) -> list[Entry]:
    """The registry entries of one pull Secret; other Secret types hold none."""
    data = secret.get("data") or {}
    kind = secret.get("type")
    if kind == "kubernetes.io/dockerconfigjson" and ".dockerconfigjson" in data:
        auths = json.loads(base64.b64decode(data[".dockerconfigjson"])).get("auths") or {}
    elif kind == "kubernetes.io/dockercfg" and ".dockercfg" in data:
        auths = json.loads(base64.b64decode(data[".dockercfg"]))
    else:
        return []
    out = []
    for key, entry in auths.items():
        username, password = str(entry.get("username") or ""), str(entry.get("password") or "")
        encoded = str(entry.get("auth") or "")
        if encoded and not (username or password):  # upstream decodes `auth` into the pair
            username, _, password = base64.b64decode(encoded).decode("utf-8", "replace").partition(":")
        host, path = _split_key(key)
        out.append(Entry(host, path, pb.AuthConfig(username=username, password=password, auth=encoded,
                                                   server_address=host,
                                                   identity_token=str(entry.get("identitytoken") or ""),
                                                   registry_token=str(entry.get("registrytoken") or ""))))
    return out


def repository(image: str) -> tuple[str, str]:
    """(registry host, repository path) of an image reference, Docker's defaults applied."""
    name = image.split("@", 1)[0]
    first, _, rest = name.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        host, path = DOCKER_HUB, name if rest else f"library/{name}"
    else:
        host, path = first, rest
    last = path.rsplit("/", 1)
    if ":" in last[-1]:  # the tag
        path = path[: len(path) - len(last[-1])] + last[-1].split(":", 1)[0]
    return host, path


def lookup(entries: list[Entry], image: str) -> list[pb.AuthConfig]:
    """Every entry covering `image`, the longest path prefix first (upstream's keyring order)."""
    host, path = repository(image)
    found = [e for e in entries
             if (e.host == host or (e.host.startswith("*.") and fnmatch.fnmatch(host, e.host)))
             and (not e.path or path == e.path or path.startswith(e.path + "/"))]
    found.sort(key=lambda e: (len(e.path), not e.host.startswith("*.")), reverse=True)
    return [e.auth for e in found]


async def keyring(pod: Obj, objects: ObjectGetter | None) -> tuple[list[Entry], list[str]]:
    """The entries of the pod's pull Secrets, and the names of those that could not be read."""
    entries: list[Entry] = []
    failed: list[str] = []
    for ref in spec_of(pod).get("imagePullSecrets") or []:
        name = str(ref.get("name") or "")
        if not name:
            continue
        if objects is None:
            failed.append(name)
            continue
        try:
            secret = await get_config_object(objects, meta.namespace(pod), name, secret=True)
            entries += parse(secret or {})
        except (ObjectUnavailable, ValueError):  # missing, unreadable, or not JSON inside
            failed.append(name)
    return entries, failed
