"""A kubeconfig like kubectl's gets the client through TLS with a client certificate or a token."""

import base64
import datetime
import ipaddress
import ssl

import pytest
import yaml
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lab.kube.client import Client, load_kubeconfig
from lab.kube.machinery.catalog import NAMESPACES


def _cert(cn, issuer_key=None, issuer_name=None, ca=False, san_ip=None):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san_ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(san_ip))]),
                                        critical=False)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert, key, cert.public_bytes(serialization.Encoding.PEM), pem_key


@pytest.fixture
async def tls_server(tmp_path):
    """An HTTPS server on loopback that requires a client certificate signed by our CA."""
    ca, ca_key, ca_pem, _ = _cert("lab-ca", ca=True)
    _, _, srv_pem, srv_key = _cert("kube-apiserver", ca_key, ca.subject, san_ip="127.0.0.1")
    _, _, cli_pem, cli_key = _cert("admin", ca_key, ca.subject)
    (tmp_path / "ca.crt").write_bytes(ca_pem)
    (tmp_path / "srv.crt").write_bytes(srv_pem)
    (tmp_path / "srv.key").write_bytes(srv_key)
    seen = {}

    async def namespaces(request):
        peer = request.transport.get_extra_info("peercert")
        seen["cn"] = dict(x[0] for x in peer["subject"])["commonName"] if peer else None
        seen["auth"] = request.headers.get("Authorization")
        return web.json_response({"kind": "NamespaceList", "apiVersion": "v1",
                                  "metadata": {"resourceVersion": "7"}, "items": []})

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=tmp_path / "ca.crt")
    ctx.load_cert_chain(tmp_path / "srv.crt", tmp_path / "srv.key")
    ctx.verify_mode = ssl.CERT_OPTIONAL
    app = web.Application()
    app.router.add_get("/api/v1/namespaces", namespaces)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await site.start()
    port = runner.addresses[0][1]
    yield {"server": f"https://127.0.0.1:{port}", "ca": ca_pem, "cert": cli_pem, "key": cli_key, "seen": seen,
           "dir": tmp_path}
    await runner.cleanup()


def _kubeconfig(path, cluster, user):
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "lab",
           "clusters": [{"name": "lab", "cluster": cluster}], "users": [{"name": "admin", "user": user}],
           "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "admin"}}]}
    path.write_text(yaml.safe_dump(doc))
    return path


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_embedded_data_client_certificate(tls_server, tmp_path):
    path = _kubeconfig(tmp_path / "admin.kubeconfig",
                       {"server": tls_server["server"], "certificate-authority-data": b64(tls_server["ca"])},
                       {"client-certificate-data": b64(tls_server["cert"]),
                        "client-key-data": b64(tls_server["key"])})
    async with Client(load_kubeconfig(path)) as client:
        listed = await client.list(NAMESPACES)
    assert listed["metadata"]["resourceVersion"] == "7"
    assert tls_server["seen"]["cn"] == "admin"


async def test_file_paths_relative_to_the_kubeconfig_and_a_token(tls_server, tmp_path):
    (tmp_path / "ca.pem").write_bytes(tls_server["ca"])
    path = _kubeconfig(tmp_path / "kc", {"server": tls_server["server"], "certificate-authority": "ca.pem"},
                       {"token": "s3cret"})
    async with Client(load_kubeconfig(path, context="lab")) as client:
        await client.list(NAMESPACES)
    assert tls_server["seen"] == {"cn": None, "auth": "Bearer s3cret"}


async def test_an_unknown_ca_is_refused_unless_insecure(tls_server, tmp_path):
    other_ca = _cert("other-ca", ca=True)[2]
    bad = _kubeconfig(tmp_path / "bad", {"server": tls_server["server"],
                                         "certificate-authority-data": b64(other_ca)}, {})
    async with Client(load_kubeconfig(bad)) as client:
        with pytest.raises(Exception) as err:
            await client.list(NAMESPACES)
    assert "certificate" in str(err.value).lower()
    insecure = _kubeconfig(tmp_path / "insecure", {"server": tls_server["server"],
                                                   "insecure-skip-tls-verify": True}, {})
    async with Client(load_kubeconfig(insecure)) as client:
        assert (await client.list(NAMESPACES))["items"] == []


def test_missing_context_is_a_clear_error(tmp_path):
    path = _kubeconfig(tmp_path / "kc", {"server": "https://127.0.0.1:6443"}, {})
    with pytest.raises(ValueError, match="no context named 'nope'"):
        load_kubeconfig(path, context="nope")
