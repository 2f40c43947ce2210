"""A real headless Chromium for the report tests: screenshots and DOM dumps through its
command line (--screenshot, --dump-dom), console errors and network requests through the
DevTools protocol (a small client over websocket-client, loopback only)."""
from __future__ import annotations

import base64
import io
import json
import subprocess
import tempfile
import time
from pathlib import Path

from waterfall.report.pdf import base_command, chromium


def cli(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Chromium headless with a fresh profile and `args` (the page last)."""
    # Chromium's helper processes may still write to the profile as it exits: cleanup errors are ignored
    with tempfile.TemporaryDirectory(prefix="wf-test-chromium-", ignore_cleanup_errors=True) as profile:
        return subprocess.run(base_command(Path(profile)) + args, capture_output=True, text=True, timeout=timeout)


def screenshot(page: Path, out: Path, width: int = 1280, height: int = 2400) -> Path:
    cli([f"--window-size={width},{height}", f"--screenshot={out}", page.resolve().as_uri()])
    return out


def dump_dom(page: Path) -> str:
    """The DOM as the browser built it, serialised."""
    proc = cli(["--dump-dom", page.resolve().as_uri()])
    return proc.stdout


def pixel_spread(png: Path) -> tuple[float, int]:
    """(standard deviation of the grey levels, number of distinct grey levels) of a PNG."""
    import numpy as np
    from PIL import Image

    grey = np.asarray(Image.open(io.BytesIO(png.read_bytes())).convert("L"), dtype=float)
    return float(grey.std()), int(len(np.unique(grey)))


class DevTools:
    """One headless Chromium driven over the DevTools protocol: open a page, wait for it
    to load, and collect its console messages, exceptions, log entries and requests."""

    def __init__(self):
        import websocket  # websocket-client (test extras)

        self._profile = tempfile.TemporaryDirectory(prefix="wf-cdp-", ignore_cleanup_errors=True)
        profile = Path(self._profile.name)
        self.proc = subprocess.Popen(base_command(profile) + ["--remote-debugging-port=0",
                                                              "--remote-debugging-address=127.0.0.1",
                                                              "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        port, path = port_file.read_text().split()[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=60, suppress_origin=True)
        self._id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = json.loads(self.ws.recv())
            if event.get("method") == method:
                return event
            self.events.append(event)
        raise TimeoutError(method)

    def open(self, url: str, width: int = 1280, height: int = 900) -> dict:
        """Load `url` in a new tab; return {'console': [...errors], 'requests': [urls],
        'png': bytes} after the load event and a short settle."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}, session)
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired")
        self.send("Runtime.evaluate", {"expression": "1", "awaitPromise": True}, session)  # let the queue drain
        png = base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"}, session)["data"])
        width_css = self.send("Runtime.evaluate", {"expression": "document.documentElement.scrollWidth",
                                                   "returnByValue": True}, session)["result"]["value"]
        errors, requests = [], []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
                errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                errors.append(params["entry"].get("text", ""))
            elif method == "Network.requestWillBeSent":
                requests.append(params["request"]["url"])
        self.send("Target.closeTarget", {"targetId": target})
        return {"console": errors, "requests": requests, "png": png, "scroll_width": width_css}

    def close(self) -> None:
        try:
            if getattr(self, "ws", None):
                self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self._profile.cleanup()


__all__ = ["DevTools", "chromium", "cli", "dump_dom", "pixel_spread", "screenshot"]
