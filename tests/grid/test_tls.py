"""A TLS cluster with a private CA: the right client runs, any other client is refused.

The test makes its own private CA and issues scheduler, worker and client certificates, plus a
"rogue" client certificate from another CA. Scheduler and worker run with ``--protocol tls
--tls-ca-file --tls-cert --tls-key``; distributed then requires a certificate signed by the CA
from every peer (``ssl.CERT_REQUIRED``), so a client with a certificate from another CA, or
with none, is refused by the scheduler in the TLS handshake, before it can submit anything
(PITFALLS 13).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from risk.cube_io import open_cube
from tests.grid.cluster_procs import (
    DaskCluster,
    Processes,
    TlsFiles,
    batch_argv,
    run_batch,
    wait_for,
)
from tests.grid.conftest import N_TRADES, DemoFiles, Undisturbed
from tests.grid.expected import assert_same_cube

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

Ca = tuple[ec.EllipticCurvePrivateKey, x509.Certificate]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(
    subject: str, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )


def make_ca(common_name: str, path: Path) -> Ca:
    """A self-signed CA certificate (written to ``path``) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(common_name, _name(common_name), key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def issue(ca: Ca, ca_file: Path, common_name: str, directory: Path) -> TlsFiles:
    """A certificate for 127.0.0.1 signed by ``ca``, usable as TLS server and client."""
    ca_key, ca_cert = ca
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(common_name, ca_cert.subject, key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = directory / f"{common_name}.pem", directory / f"{common_name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return TlsFiles(ca_file, cert_file, key_file)


def tasks_seen(cluster: DaskCluster) -> tuple[int, int]:
    """(scheduler task transitions, tasks executed by all workers) since they started."""
    with cluster.client() as c:
        sched: int = c.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)
        ran = c.run(lambda dask_worker: dask_worker.state.executed_count)
    return sched, sum(ran.values())


@pytest.mark.timeout(180)
def test_tls_cluster_admits_only_clients_of_its_ca(
    procs: Processes,
    tmp_path: Path,
    demo_files: DemoFiles,
    undisturbed: Undisturbed,
) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    ca_file = certs / "ca.pem"
    ca = make_ca("riskgrid test CA", ca_file)
    other_ca = make_ca("some other CA", certs / "other-ca.pem")
    client = issue(ca, ca_file, "client", certs)
    # the rogue client trusts our CA (it can verify the scheduler) but its own certificate
    # was signed by another CA
    rogue = issue(other_ca, ca_file, "rogue", certs)
    cluster = DaskCluster(
        procs,
        tmp_path / "cluster",
        tls_scheduler=issue(ca, ca_file, "scheduler", certs),
        tls_worker=issue(ca, ca_file, "worker", certs),
        tls_client=client,
    )
    address = cluster.start_scheduler()
    assert address.startswith("tls://127.0.0.1:")
    cluster.start_workers("w0")

    def scheduler_says(reason: str) -> None:
        """The scheduler logs why it refused a handshake (polled: the log may lag the client)."""
        wait_for(lambda: reason in procs.log("scheduler", 100_000), 10, f"scheduler log: {reason}")

    def batch(name: str, *tls_flags: str) -> tuple[int, str, Path]:
        out = tmp_path / name
        argv = batch_argv(demo_files.portfolio, demo_files.market, out, address, *tls_flags)
        run = run_batch(procs, name, [*argv, "--chunk-size", "100"], out)
        return run.code, run.output, out

    # 1. A certificate from another CA: the scheduler refuses the handshake (its log says why;
    #    the client sees an unknown-CA alert or a bare EOF, depending on timing).
    code, output, out = batch("rogue", *rogue.flags())
    assert code == 2, output  # a credentials problem: resuming would not help
    assert output.startswith(f"riskgrid: cannot reach the cluster at {address}: ")
    refused = "(TLS handshake refused: is --tls-cert signed by the cluster's CA"
    assert refused in output
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["status"], manifest["exit_code"]) == ("refused", 2)
    assert manifest["cluster"]["workers"] == []
    assert "SSL" in manifest["cluster"]["error"]  # SSLError or SSLEOFError
    assert refused in manifest["cluster"]["error"]
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]  # no run, no cube
    scheduler_says("certificate verify failed: unable to get local issuer certificate")

    # 2. No client certificate at all (distributed cannot even make such a client, so a plain
    #    TLS socket that trusts our CA): the scheduler ends the handshake. In TLS 1.3 the
    #    server's verdict on the client's certificate arrives with the first read.
    host, port = address.removeprefix("tls://").rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=str(ca_file))
    ctx.check_hostname = False  # as distributed: a private CA, IP addresses
    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        ctx.wrap_socket(raw) as tls,
        pytest.raises(ssl.SSLError) as no_cert,
    ):
        tls.recv(1)
    assert no_cert.value.reason == "TLSV13_ALERT_CERTIFICATE_REQUIRED"
    scheduler_says("peer did not return a certificate")

    # 3. riskgrid batch without TLS options against the tls:// address: refused by riskgrid
    #    itself, a usage error, before any connection.
    code, output, out = batch("no-tls")
    assert code == 2, output
    assert f"riskgrid: error: scheduler {address} speaks TLS: give the CA" in output
    assert not out.exists()

    # Nothing was ever submitted: no task transition on the scheduler, nothing run on the worker.
    assert tasks_seen(cluster) == (0, 0)

    # 4. The right client: the run completes, with the same cube as on the plain TCP cluster.
    code, output, out = batch("client", *client.flags())
    assert code == 0, output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["counts"]["valued"] == N_TRADES
    assert manifest["cluster"]["scheduler"] == address
    assert [w["address"].split("://")[0] for w in manifest["cluster"]["workers"]] == ["tls"]
    assert_same_cube(open_cube(out / "cube.zarr"), undisturbed.cube)
    sched, ran = tasks_seen(cluster)
    assert sched > 0
    assert ran == manifest["plan"]["n_chunks"] == 8  # the counters do count tasks
