"""The container image, really built (podman) and run: `setup`, `api`, `worker` and `beat`
containers on the host network against the suite's PostgreSQL and emulator; events and a
trade go in over HTTP and come out processed, stats rebuilt. `make image-test` (minutes)."""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import requests

from launcher.environment import variable
from launcher.ports import free_port
from launcher.waiting import wait_until
from tests.support.builders import event_body
from tests.support.podman import Podman

pytestmark = [
    pytest.mark.integration,
    pytest.mark.image,
    pytest.mark.skipif(not variable("FLUXA_IMAGE_TEST"), reason="make image-test runs it"),
]

ROOT = Path(__file__).parents[2]
IMAGE = "localhost/fluxa:image-test"


@pytest.fixture(scope="module")
def podman():
    return Podman(Path("/var/tmp/fluxa-podman"))  # kept between runs: the base is reused


@pytest.fixture(scope="module")
def image(podman):
    base = podman.debian_base()
    podman.run(
        # docker format: OCI images drop HEALTHCHECK
        "build", "--format", "docker", "--network", "host", "--build-arg", f"BASE={base}",
        "-f", str(ROOT / "docker" / "Dockerfile"), "-t", IMAGE, str(ROOT),
    )  # fmt: skip
    return IMAGE


@pytest.fixture(scope="module")
def containers(podman, image, environ, settings, test_database, dev_issuer):
    """setup (to completion), then api, worker and beat; removed afterwards."""
    port = free_port()
    # The containers' user (uid 10001) cannot enter pytest's private temporary tree.
    keys = Path(tempfile.mkdtemp(prefix="fluxa-image-keys-"))
    keys.chmod(0o755)
    jwks = keys / "jwks.json"
    jwks.write_bytes(Path(dev_issuer.jwks_path).read_bytes())
    jwks.chmod(0o644)
    env = {
        **environ,
        "FLUXA_DATABASE_URL": test_database.proxied_url,
        "FLUXA_INPUT_QUEUE": f"Image-Input-{uuid.uuid4().hex[:6]}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": "/tmp/fluxa-metrics",
        "FLUXA_AUTH_JWKS_URL": jwks.as_uri(),
    }
    common = ["--network", "host", "--volume", f"{keys}:{keys}:ro"]
    for name, value in env.items():
        common += ["--env", f"{name}={value}"]
    suffix = uuid.uuid4().hex[:6]
    names = [f"fluxa-{role}-{suffix}" for role in ("api", "worker", "beat")]
    setup = podman.call("run", "--rm", *common, image, "setup", timeout=600)
    assert setup.returncode == 0, setup.stdout.decode() + setup.stderr.decode()
    try:
        for name, role in zip(names, ("api", "worker", "beat"), strict=True):
            podman.run("run", "--detach", "--name", name, *common, image, role)
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(f"{base}/readyz"), timeout=120, what="the api container")
        yield base, dict(zip(("api", "worker", "beat"), names, strict=True))
    finally:
        for name in names:
            podman.call("rm", "--force", name, timeout=120)
        shutil.rmtree(keys)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=3).status_code == 200
    except requests.RequestException:
        return False


def test_events_and_a_trade_are_processed_by_the_containers(containers, dev_issuer):
    base, _ = containers
    scopes = ("fluxa/events.write", "fluxa/events.read")
    machine = {"Authorization": f"Bearer {dev_issuer.mint('image-test', scopes=scopes)}"}
    source = f"image-{uuid.uuid4().hex[:6]}"
    batch = requests.post(
        f"{base}/v1/events/batch",
        json={"events": [event_body(source=source) for _ in range(5)]},
        headers=machine,
        timeout=10,
    )
    assert batch.status_code == 202, batch.text

    def listed():
        items = requests.get(
            f"{base}/v1/events", params={"source": source}, headers=machine, timeout=10
        ).json()["items"]
        return len(items) == 5 and items

    wait_until(listed, timeout=90, what="five events processed by the worker container")

    trader = {"Authorization": f"Bearer {dev_issuer.mint('image-trader')}"}
    created = requests.post(
        f"{base}/v1/trades",
        headers=trader,
        timeout=10,
        json={"symbol": "AAPL", "side": "long", "quantity": "10", "entry_price": "100",
              "entered_at": "2026-11-20T14:30:00Z", "exit_price": "105",
              "exited_at": "2026-11-20T16:00:00Z", "fees": "1"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    stats = wait_until(
        lambda: (
            (s := requests.get(f"{base}/v1/stats", headers=trader, timeout=10).json())
            and not s["stale"]
            and s["computed_at"]
            and s
        ),
        timeout=60,
        what="stats rebuilt by the worker container",
    )
    assert stats["net_pnl"] == "49"


def test_the_image_runs_as_a_non_root_user_and_its_health_check_passes(podman, containers):
    _, names = containers
    assert podman.run("exec", names["api"], "id", "-u").strip() == "10001"
    health = podman.call("healthcheck", "run", names["api"], timeout=60)
    assert health.returncode == 0, health.stdout.decode() + health.stderr.decode()
    inspected = json.loads(podman.run("image", "inspect", IMAGE))[0]
    assert inspected["Config"]["User"] == "fluxa"
    size_mb = inspected["Size"] / 2**20
    print(f"\nimage {IMAGE}: {size_mb:.0f} MiB")  # the figure docs/deploy-aws.md reports
    assert size_mb < 1024
