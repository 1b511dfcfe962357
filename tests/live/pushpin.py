"""A real Pushpin (Debian package `pushpin`) in a subprocess, in front of a daphne: its own ports,
configuration and runtime files, as the README's "Pushpin in front" describes."""

import secrets
import shutil
from pathlib import Path

import httpx

from .server import ServerProcess, free_port

CONFIG = """\
[global]
include={{libdir}}/internal.conf
rundir={rundir}
ipc_prefix=pushpin-
port_offset=0

[runner]
services=condure,zurl,pushpin-proxy,pushpin-handler
http_port=127.0.0.1:{http_port}
logdir={rundir}
log_level=2
client_maxconn={max_connections}

[proxy]
routesfile={routes}
# Its own zurl (requests to daphne), not the system one the Debian package points at.
zurl_out_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-in
zurl_out_stream_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-in-stream
zurl_in_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-out
sig_iss=pushpin
sig_key={key}

[handler]
push_in_spec=tcp://127.0.0.1:{pull_port}
push_in_sub_specs=tcp://127.0.0.1:{sub_port}
push_in_http_addr=127.0.0.1
push_in_http_port={publish_port}
command_spec=tcp://127.0.0.1:{command_port}
stats_spec=ipc://{{rundir}}/{{ipc_prefix}}stats
# Every watcher of a run gets every event at once: no per-second cap, nothing dropped.
message_rate=0
message_hwm=0
"""


def installed():
    return shutil.which("pushpin") is not None


class PushpinServer(ServerProcess):
    """Pushpin with its routes file `* 127.0.0.1:<daphne port>`; GRIP_URL tells daphne where it publishes.

    Stopping its runner stops the services it started."""

    name = "pushpin"

    def __init__(self, directory, max_connections=20000):
        self.directory = Path(directory)
        self.port, self.publish_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = secrets.token_hex(16)
        self.grip_url = f"http://127.0.0.1:{self.publish_port}?key={self.key}"
        self.max_connections = max_connections
        self.log_path = self.directory / "pushpin.log"
        self.process = None

    def start(self, backend_port, timeout=30):
        rundir = self.directory / "run"
        rundir.mkdir(parents=True, exist_ok=True)
        routes = self.directory / "routes"
        routes.write_text(f"* 127.0.0.1:{backend_port}\n")
        config = self.directory / "pushpin.conf"
        config.write_text(
            CONFIG.format(
                rundir=rundir,
                routes=routes,
                key=self.key,
                http_port=self.port,
                publish_port=self.publish_port,
                pull_port=free_port(),
                sub_port=free_port(),
                command_port=free_port(),
                max_connections=self.max_connections,
            )
        )
        return self.launch(
            ["pushpin", "--config", str(config), "--merge-output"], ready=self._proxying_and_publishing, timeout=timeout
        )

    def _proxying_and_publishing(self):
        proxied = httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        publishing = httpx.post(f"http://127.0.0.1:{self.publish_port}/publish/", json={"items": []}, timeout=1)
        return proxied and publishing.status_code == 200
