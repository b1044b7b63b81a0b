"""The Kubernetes tier's local control plane (offline/kubernetes/cluster.sh) and the Prometheus Operator as a
process, and a small client of the API server for the tests."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path.home() / ".cache" / "monitoring-kubernetes"
API = "https://127.0.0.1:26443"
TOKEN = "monitoring-admin-token"  # offline/kubernetes/cluster.sh's static admin token
OPERATOR_PORT = 28081
_INSECURE = ssl.create_default_context()
_INSECURE.check_hostname = False
_INSECURE.verify_mode = ssl.CERT_NONE  # the API server's self-signed serving certificate, on loopback


def api(method: str, path: str, body: dict | None = None) -> dict:
    """A JSON request to the API server as the admin; HTTPError on a status >= 400."""
    request = urllib.request.Request(
        API + path, method=method, data=json.dumps(body).encode() if body is not None else None
    )
    request.add_header("Authorization", f"Bearer {TOKEN}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, context=_INSECURE, timeout=30) as response:
        return json.load(response)


def get(path: str) -> dict | None:
    """The object at PATH, or None when it does not exist."""
    try:
        return api("GET", path)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def start_cluster() -> Path:
    """etcd, kube-apiserver and kube-controller-manager started, the CRDs installed; the kubeconfig."""
    out = subprocess.run(
        ["bash", "offline/kubernetes/cluster.sh", "start"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return Path(out.stdout.split()[-1])


def stop_cluster() -> None:
    subprocess.run(["bash", "offline/kubernetes/cluster.sh", "stop"], cwd=ROOT, timeout=120, check=False)


def start_operator(kubeconfig: Path, namespace: str, log: Path) -> subprocess.Popen:
    """The Prometheus Operator (offline/kubernetes/build.sh) watching one namespace; it reads KUBECONFIG."""
    command = [
        str(CACHE / "bin" / "prometheus-operator"),
        f"--namespaces={namespace}",
        f"--web.listen-address=127.0.0.1:{OPERATOR_PORT}",
    ]
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the operator exited: {log.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{OPERATOR_PORT}/healthz", timeout=2):
                return process
        except OSError:
            time.sleep(1)
    raise AssertionError(f"the operator is not healthy after 60 s: {log.read_text()[-3000:]}")
