"""podman as this machine runs it (as root, runc, cgroupfs, no default ulimits), and a base
image built from Debian's packages, since no image registry is reachable here."""

from __future__ import annotations

import subprocess
from pathlib import Path

CONTAINERS_CONF = """\
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
"""
BASE_PACKAGES = "python3,python3-venv,ca-certificates"


class Podman:
    """`podman --runtime runc …` with its own containers.conf under `state`."""

    def __init__(self, state: Path) -> None:
        state.mkdir(parents=True, exist_ok=True)
        self.conf = state / "containers.conf"
        self.conf.write_text(CONTAINERS_CONF)
        self.state = state

    @property
    def env(self) -> dict[str, str]:
        return {"CONTAINERS_CONF": str(self.conf), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}

    def call(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["podman", "--runtime", "runc", *args], env=self.env, capture_output=True,
            timeout=timeout,
        )  # fmt: skip

    def run(self, *args: str, timeout: float = 1800) -> str:
        """podman's output; a failure raises with the end of it."""
        result = self.call(*args, timeout=timeout)
        output = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
        if result.returncode != 0:
            raise RuntimeError(f"podman {' '.join(args[:3])} … failed:\n{output[-4000:]}")
        return result.stdout.decode(errors="replace")

    def has_image(self, name: str) -> bool:
        return self.call("image", "exists", name).returncode == 0

    def debian_base(self, name: str = "localhost/fluxa-base:bookworm") -> str:
        """A minimal Debian bookworm with Python, imported as `name` (built once)."""
        if self.has_image(name):
            return name
        root = self.state / "bookworm"
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", "bookworm",
             str(root), "http://deb.debian.org/debian"],
            check=True, capture_output=True, timeout=1800,
        )  # fmt: skip
        _trust_this_machines_authorities(root)
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(
            ["podman", "import", "-", name],
            stdin=tar.stdout,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=600,
        )
        tar.wait()
        return name


def _trust_this_machines_authorities(root: Path) -> None:
    """This machine reaches PyPI through a proxy with its own certificate authorities
    (/usr/local/share/ca-certificates): the base trusts them too, and pip (which reads
    its own bundle otherwise) uses the system's, as a company's base image would."""
    extra = Path("/usr/local/share/ca-certificates")
    target = root / "usr/local/share/ca-certificates"
    for authority in extra.glob("*.crt") if extra.exists() else []:
        (target / authority.name).write_bytes(authority.read_bytes())
    subprocess.run(["chroot", str(root), "update-ca-certificates"], check=True, capture_output=True)
    (root / "etc/pip.conf").write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
