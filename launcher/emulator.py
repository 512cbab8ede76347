"""The SQS/S3 emulator (moto in server mode) as a child process on loopback."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from launcher.environment import child_environment
from launcher.ports import free_port, wait_for_port

#: moto's fixed account id, part of every queue URL it hands out.
MOTO_ACCOUNT_ID = "123456789012"


class MotoServer:
    """`moto_server` on 127.0.0.1.

    Without a `state_dir` its state is in memory and ends with the process; with one, queued
    messages and objects are written there before each request is answered and restored at
    the next start (`launcher.durable_emulator`).
    """

    name = "emulator"

    def __init__(
        self,
        port: int | None = None,
        log_path: Path | None = None,
        recording_path: Path | None = None,
        state_dir: Path | None = None,
    ) -> None:
        """`recording_path`: where moto's request recorder writes (see `RequestRecording`)."""
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.recording_path = recording_path
        env = child_environment()
        if recording_path:
            env["MOTO_RECORDER_FILEPATH"] = str(recording_path)  # moto's own setting
        self._log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
        server = ["-m", "moto.server"]
        if state_dir:
            server = ["-m", "launcher.durable_emulator", "--state-dir", str(state_dir)]
        self._argv = [sys.executable, *server, "-H", "127.0.0.1", "-p", str(self.port)]
        self._env = env
        self.process = self._spawn()

    def _spawn(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(self._argv, stdout=self._log, stderr=subprocess.STDOUT,
                                   env=self._env)  # fmt: skip
        wait_for_port("127.0.0.1", self.port, timeout=120)  # a restore reads its state first
        return process

    def alive(self) -> bool:
        """Whether the server process still runs."""
        return self.process.poll() is None

    def restart(self) -> None:
        """Start the server again on the same port (and state) after it died."""
        self.process = self._spawn()

    @property
    def queue_url_prefix(self) -> str:
        return f"{self.endpoint}/{MOTO_ACCOUNT_ID}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator answered: `SQS <Action>` or `S3 <METHOD>`, and its body
    (with its method, URL and headers, for whoever needs to know who sent what where)."""

    name: str
    body: bytes
    method: str = ""
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body of a JSON-protocol request (SQS)."""
        return json.loads(self.body)


class RequestRecording:
    """The emulator's own log of the requests it answers while the block runs (moto's
    recorder; the server must have been started with a `recording_path`)."""

    def __init__(self, server: MotoServer) -> None:
        if not server.recording_path:
            raise ValueError("the emulator was started without a recording_path")
        self._api = f"{server.endpoint}/moto-api/recorder"
        self._path = server.recording_path

    def _call(self, action: str) -> None:
        request = urllib.request.Request(f"{self._api}/{action}", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def __enter__(self) -> RequestRecording:
        self._call("reset-recording")
        self._call("start-recording")
        return self

    def __exit__(self, *_: object) -> None:
        self._call("stop-recording")

    def requests(self) -> list[RecordedRequest]:
        """What was recorded so far, in order."""
        return [self._recorded(entry) for entry in _json_objects(self._path.read_text())]

    @staticmethod
    def _recorded(entry: dict[str, Any]) -> RecordedRequest:
        body = entry.get("body") or ""
        raw = base64.b64decode(body) if entry.get("body_encoded") else body.encode()
        headers = entry["headers"]
        target = headers.get("X-Amz-Target", "")
        name = (
            "SQS " + target.removeprefix("AmazonSQS.")
            if target.startswith("AmazonSQS.")
            else f"S3 {entry['method']}"
        )
        return RecordedRequest(name, raw, entry["method"], entry.get("url", ""), headers)

    def counts(self) -> Counter[str]:
        """Requests by name (`SQS <Action>`, `S3 <METHOD>`)."""
        return Counter(request.name for request in self.requests())


def _json_objects(text: str) -> list[dict[str, Any]]:
    """The JSON objects of `text`, one after another. moto's recorder writes an entry and
    its newline separately, so under concurrent requests two entries may share a line."""
    decoder = json.JSONDecoder()
    objects, position = [], 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return objects
        entry, position = decoder.raw_decode(text, position)
        objects.append(entry)
