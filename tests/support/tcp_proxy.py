"""A loopback TCP proxy that a test can cut, black-hole and restore (fault injection)."""

from __future__ import annotations

import contextlib
import errno
import select
import socket
import threading

from launcher.waiting import wait_until


class TcpProxy:
    """Forwards 127.0.0.1:`port` to a TCP address or a Unix socket path.

    `refuse()` closes the listener and every open connection (clients see
    connection refused); `blackhole()` keeps accepting but forwards nothing
    (clients hang); `restore()` forwards again.
    """

    def __init__(self, upstream: tuple[str, int] | str) -> None:
        self.upstream = upstream
        self._listener = self._listen(0)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._mode = "forward"
        self._stopped = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    @staticmethod
    def _listen(port: int) -> socket.socket:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(64)
        sock.settimeout(0.2)
        return sock

    def _connect_upstream(self) -> socket.socket:
        if isinstance(self.upstream, str):
            sock = socket.socket(socket.AF_UNIX)
            sock.connect(self.upstream)
        else:
            sock = socket.create_connection(self.upstream, timeout=5)
        return sock

    def _accept_loop(self) -> None:
        while not self._stopped:
            listener = self._listener
            if listener is None:
                threading.Event().wait(0.05)
                continue
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            if self._mode == "blackhole":
                with self._lock:
                    self._pairs.append((client, client))
                continue
            try:
                upstream = self._connect_upstream()
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        sockets = [a, b]
        try:
            while not self._stopped:
                readable, _, _ = select.select(sockets, [], [], 0.2)
                if self._mode == "blackhole":
                    continue
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)
        except (OSError, ValueError):  # a socket closed under us by refuse()/restore()
            return
        finally:
            self._close_pair(a, b)

    def _close_pair(self, a: socket.socket, b: socket.socket) -> None:
        for sock in (a, b):
            with contextlib.suppress(OSError):
                sock.close()
        with self._lock:
            self._pairs = [p for p in self._pairs if p != (a, b)]

    def _drop_connections(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()

    def refuse(self) -> None:
        """Connections are refused and open ones are reset."""
        self._mode = "refuse"
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self._drop_connections()

    def blackhole(self) -> None:
        """Connections are accepted (or kept) but nothing gets through."""
        self._mode = "blackhole"

    def restore(self) -> None:
        """Forward again; black-holed connections are dropped so clients reconnect."""
        if self._mode == "blackhole":
            self._drop_connections()
        if self._listener is None:
            # The accept loop may still sit in accept() on the closed listener for up to
            # its 0.2 s timeout, holding the port; bind again once it lets go.
            self._listener = wait_until(self._rebind, timeout=5, interval=0.05, what="rebind")
        self._mode = "forward"

    def _rebind(self) -> socket.socket | None:
        try:
            return self._listen(self.port)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            return None

    def close(self) -> None:
        self._stopped = True
        self.refuse()
