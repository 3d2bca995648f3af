"""Serve one or more apps with uvicorn in one process, each on its own port, with URLs printed.

The sockets are bound here, before uvicorn starts, so a port in use is one clear error and the
printed URL is the address actually bound (``--port 0`` prints the port the system chose).
"""

from __future__ import annotations

import asyncio
import socket
import sys

import uvicorn

from autocoder.apps.controls import check_bind
from autocoder.apps.service import WorkerService
from autocoder.apps.worker_app import build_app
from autocoder.engine.logbuffer import RingBuffer
from autocoder.errors import AutocoderError, ConfigError, one_line
from autocoder.settings import Settings, as_given
from autocoder.workers.catalog import worker_spec

DASHBOARD = "dashboard"
COMBINED = "combined"  # autocoder.apps.combined.COMBINED: every worker and the dashboard, one port
ALL_INTERFACES = ("0.0.0.0", "::")  # noqa: S104
FREE_PORT_TRIES = 20  # blocks of ports `autocoder up` tries when the default one is taken
# How long a stop waits for open connections. Every open page holds one (Gradio's heartbeat
# stream), and without a bound uvicorn would wait for them forever before the workers' shutdown
# (their final push) runs: a Space stopped with a visitor's tab open would lose records.
CONNECTIONS_GRACE_S = 5


def _server(app: object, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=CONNECTIONS_GRACE_S,
    )
    return uvicorn.Server(config)


def _app(name: str, settings: Settings, ring: RingBuffer) -> tuple[object, str, str]:
    """The app of ``name`` (a worker, ``dashboard`` or ``combined``), its title and what it
    works on."""
    if name == COMBINED:
        from autocoder.apps.combined import combined_app, mounted_names

        paths = ", ".join(f"/{worker}/" for worker in mounted_names())
        about = f"target {settings.target}; dashboard at /, workers at {paths}"
        return combined_app(settings, ring), "Combined Space", about
    if name == DASHBOARD:
        from autocoder.apps.dashboard.app import dashboard_app

        where = "the Hub" if settings.hub_mode else str(settings.data_dir.resolve())
        return dashboard_app(settings), "Monitoring Dashboard", f"reading {where}"
    service = WorkerService(worker_spec(name), settings)
    return build_app(service, ring), service.spec.title, f"target {service.target.display}"


def bind(host: str, port: int, label: str | None = None) -> socket.socket:
    """A listening socket on ``host:port``; ConfigError naming the port as the user gave it
    (``label``, default ``AUTOCODER_PORT=PORT``) when that fails."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as e:
        raise ConfigError(
            f"AUTOCODER_HOST={host!r} cannot be bound ({e}); use an address of this machine"
        ) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        raise ConfigError(
            f"{label or f'AUTOCODER_PORT={port}'} on {host} cannot be used ({e.strerror or e}); "
            "choose another with --port or AUTOCODER_PORT, or stop what listens there"
        ) from None
    sock.set_inheritable(True)
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def bound_urls(sock: socket.socket, space_host: str | None = None) -> str:
    """The URL of the bound address; for all interfaces also the one to use on this machine."""
    host, port = sock.getsockname()[:2]
    if host not in ALL_INTERFACES:
        return _url(host, port)
    local = "::1" if host == "::" else "127.0.0.1"
    public = f"; public: https://{space_host}/" if space_host else ""
    here = _url(local, port)
    return f"{_url(host, port)} (bound to all interfaces; from this machine: {here}{public})"


def _local_url(sock: socket.socket) -> str:
    """The URL of ``sock`` from this machine (loopback when bound to all interfaces)."""
    host, port = sock.getsockname()[:2]
    local = ("::1" if host == "::" else "127.0.0.1") if host in ALL_INTERFACES else host
    return _url(local, port).rstrip("/")


def _sibling_urls(names: list[str], sockets: list[socket.socket]) -> str:
    """``AUTOCODER_WORKER_URLS`` for the dashboard of ``autocoder up``: its siblings' loopback;
    for the combined app, the workers mounted beside its dashboard on the same port."""
    pairs = []
    for name, sock in zip(names, sockets, strict=True):
        if name == COMBINED:
            from autocoder.apps.combined import worker_urls

            pairs.append(worker_urls(_local_url(sock)))
        elif name != DASHBOARD:
            pairs.append(f"{name}={_local_url(sock)}")
    return ",".join(pairs)


def with_sibling_urls(
    names: list[str], sockets: list[socket.socket], settings: Settings
) -> Settings:
    """``settings`` with the dashboard pointed at the apps served beside it: ``autocoder up``'s
    sibling ports, or the workers mounted on the combined app's port. A dashboard served alone
    (its own Space) keeps what it would derive: https://USER-SPACE.hf.space in Hub mode."""
    if (DASHBOARD not in names and COMBINED not in names) or settings.worker_urls:
        return settings
    urls = _sibling_urls(names, sockets)
    return settings.model_copy(update={"worker_urls": urls}) if urls else settings


def _port_label(given_as: str, first: int, port: int) -> str:
    """``--port 7860``, ``AUTOCODER_PORT=7860``, or ``port 7861 (--port 7860 + 1)``."""
    given = as_given(given_as, first).replace("'", "")
    return given if port == first else f"port {port} ({given} + {port - first})"


def _bind_all(host: str, ports: list[int], given_as: str) -> list[socket.socket]:
    """One socket per port, or none: the ones bound are closed when one port fails."""
    sockets: list[socket.socket] = []
    try:
        for port in ports:
            sockets.append(bind(host, port, _port_label(given_as, ports[0], port)))
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _free_block(
    host: str, first: int, count: int, tries: int = FREE_PORT_TRIES
) -> list[socket.socket]:
    """Sockets on ``count`` consecutive ports from ``first``, else from the next free block."""
    for start in range(first, first + count * tries, count):
        try:
            sockets = _bind_all(host, list(range(start, start + count)), "AUTOCODER_PORT")
        except ConfigError:
            continue
        if start != first:
            print(f"port {first} is in use; serving on {start}-{start + count - 1}", flush=True)
        return sockets
    return _bind_all(host, list(range(first, first + count)), "AUTOCODER_PORT")


def serve_all(names: list[str], settings: Settings, ring: RingBuffer) -> None:
    """Run the apps of ``names`` on consecutive ports from ``settings.port`` until interrupted.

    Everything that can fail at start (settings, the data folder, the ports) fails before any
    app serves and before any record is written, with one :class:`AutocoderError`.
    ``autocoder up`` (the dashboard and its workers) with no port given moves to the next free
    block of ports instead, and says so; a port that was asked for is never changed.
    """
    check_bind(settings)
    host, count = settings.bind_host, len(names)
    find_free = DASHBOARD in names and count > 1 and not settings.was_given("port")
    if find_free and settings.port:
        sockets = _free_block(host, settings.port, count)
    else:
        ports = [settings.port + offset if settings.port else 0 for offset in range(count)]
        sockets = _bind_all(host, ports, settings.given_as("port"))
    try:
        settings = with_sibling_urls(names, sockets, settings)
        apps = [_app(name, settings, ring) for name in names]
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    servers = []
    for (app, title, about), sock in zip(apps, sockets, strict=True):
        servers.append((_server(app, settings.bind_host, sock.getsockname()[1]), sock))
        print(f"{title}: {bound_urls(sock, settings.space_host)}  ({about})", flush=True)
    print(f"data: {settings.data_dir.resolve()}  · Ctrl+C stops", flush=True)

    async def main() -> None:
        await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in servers))

    try:
        asyncio.run(main())
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C after its graceful shutdown has run
        print("stopped", flush=True)
    finally:
        for sock in sockets:
            sock.close()


def run_space(name: str) -> None:
    """What a Space's ``app.py`` calls: settings from the environment, one app, served forever.
    ``name`` is a worker, ``dashboard``, or ``combined`` (every worker and the dashboard).

    A start-up failure (bad setting, unusable data folder, port in use) is one line on stderr
    and exit status 2, as with the ``autocoder`` command.
    """
    from autocoder.engine.logbuffer import install_logging
    from autocoder.settings import load_settings

    secrets: list[str | None] = []
    try:
        settings = load_settings()
        secrets = settings.secrets()
        serve_all([name], settings, install_logging(secrets))
    except (AutocoderError, OSError) as e:
        print(f"autocoder: error: {one_line(e, secrets)}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
