"""Gateway benchmark: the upstream directly, nginx, clearance and LiteLLM, side by side.

One fixed JSON upstream (a small uvloop server answering every POST with the same chat
completion), one load generator (wrk), all on 127.0.0.1. Throughput at 32 connections; added
latency (p50, p99) at 1 connection, against the upstream measured directly. nginx and clearance
run twice: with one worker process each, and with N each (`--workers`, default the number of
cores; clearance through `serve(..., workers=N)` exactly as `clearance gateway --workers N`,
nginx with `worker_processes N` and `reuseport`, as clearance's workers use SO_REUSEPORT). A peer
that cannot run (nginx or wrk absent, LiteLLM not installable here) is reported as null with the
reason.

    python bench/gateway.py --seconds 5 --json bench/_work/gateway.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "_work"
BODY = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 0,
        "model": "bench-model",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }
)
REQUEST = json.dumps({"model": "bench-model", "messages": [{"role": "user", "content": "hi"}]})

UPSTREAM = textwrap.dedent(
    """
    import asyncio, json, sys
    BODY = sys.argv[2].encode()
    HEAD = (b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n"
            b"Content-Length: %d\\r\\n\\r\\n" % len(BODY))
    SSE_HEAD = (b"HTTP/1.1 200 OK\\r\\nContent-Type: text/event-stream\\r\\n"
                b"X-Accel-Buffering: no\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n")
    def chunk(data):
        return b"%x\\r\\n%s\\r\\n" % (len(data), data)
    def event(delta, finish=None, usage=None):
        body = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0,
                "model": "bench-model",
                "choices": [] if usage else [{"index": 0, "delta": delta,
                                              "finish_reason": finish}]}
        if usage:
            body["usage"] = usage
        return chunk(b"data: " + json.dumps(body).encode() + b"\\n\\n")
    FIRST = event({"role": "assistant", "content": "ok"})
    REST = (event({}, "stop")
            + event({}, usage={"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6})
            + chunk(b"data: [DONE]\\n\\n") + b"0\\r\\n\\r\\n")
    class P(asyncio.Protocol):
        def connection_made(self, t): self.t = t; self.buf = b""
        def data_received(self, d):
            self.buf += d
            while True:
                i = self.buf.find(b"\\r\\n\\r\\n")
                if i < 0: return
                head = self.buf[:i].lower(); n = 0
                for line in head.split(b"\\r\\n"):
                    if line.startswith(b"content-length:"): n = int(line[15:])
                if len(self.buf) < i + 4 + n: return
                body = self.buf[i + 4:i + 4 + n]
                self.buf = self.buf[i + 4 + n:]
                if b'"stream": true' in body or b'"stream":true' in body:
                    # the first event at once, the rest a little later: a proxy that buffers
                    # the stream shows it in its time to first byte
                    self.t.write(SSE_HEAD + FIRST)
                    asyncio.get_running_loop().call_later(0.005, self.t.write, REST)
                else:
                    self.t.write(HEAD + BODY)
    try:
        import uvloop; uvloop.install()
    except ImportError:
        pass
    async def main():
        s = await asyncio.get_running_loop().create_server(P, "127.0.0.1", int(sys.argv[1]))
        await s.serve_forever()
    asyncio.run(main())
    """
)

GATEWAY = textwrap.dedent(
    """
    import datetime as dt, sys
    from clearance.gateway import Gateway, GatewayServer, Upstream, Upstreams, serve
    from clearance.ledger import SigningKey, sign_envelope
    from clearance.policy import PAYLOAD_TYPE, build_snapshot
    port, upstream, secret_sha = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    workers = int(sys.argv[4])
    key = SigningKey.generate("bench.local/log")
    now = dt.datetime.now(dt.UTC)
    content = {
        "organizations": {"org": {"kind": "partner", "country": "US", "group": "tier-1"}},
        "keys": {"0123456789abcdef": {"principal": "p", "organization": "org",
                                       "secret_sha256": secret_sha}},
        "models": {"bench-model": {"id": "m", "organization": "dev", "status": "approved",
                                    "tier": "public", "jurisdictions": ["tier-1"],
                                    "channels": ["api"], "restricted_to": None}},
        "grants": [],
    }
    snapshot = build_snapshot(content, version=1, issued_at=now,
                              expires_at=now + dt.timedelta(hours=1))
    gateway = Gateway(upstreams=Upstreams({"*": Upstream(upstream, "sk-upstream")}),
                      trusted=[key.verifier])
    gateway.install(sign_envelope(snapshot.payload(), PAYLOAD_TYPE, key).to_json())
    # served exactly as `clearance gateway` serves it
    serve(GatewayServer(gateway), "127.0.0.1", port, log_level="error", workers=workers)
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def wrk(url: str, connections: int, seconds: int, headers: dict[str, str]) -> dict[str, float]:
    script = WORK / "post.lua"
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(REQUEST)}"]
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    lines.append(
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format("P50 %d\\nP99 %d\\n", latency:percentile(50), '
        "latency:percentile(99)))\nend"
    )
    script.write_text("\n".join(lines) + "\n")
    out = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "-s", str(script),
         url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} failed responses from {url}")
    p50 = float(re.search(r"P50 (\d+)", out).group(1))  # type: ignore[union-attr]
    p99 = float(re.search(r"P99 (\d+)", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": p50, "p99": p99}


def ttfb(url: str, headers: dict[str, str], count: int) -> dict[str, float]:
    """Time to the first SSE byte of a streamed chat completion, at 1 connection (µs)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    body = json.dumps({**json.loads(REQUEST), "stream": True}).encode()
    head = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
    head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    times = []
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(count + 20):
            start = time.perf_counter()
            sock.sendall(request)
            received = b""
            first = 0.0
            while not received.endswith(b"\r\n0\r\n\r\n"):
                data = sock.recv(65536)
                if not data:
                    raise RuntimeError(f"{url} closed the stream")
                received += data
                if not first and b"data:" in received:
                    first = time.perf_counter() - start
                    if not received.startswith(b"HTTP/1.1 200"):
                        raise RuntimeError(f"{url}: {received[:60]!r}")
            if i >= 20:  # the first 20 warm up
                times.append(first * 1e6)
    times.sort()
    return {"p50": times[len(times) // 2], "p99": times[int(len(times) * 0.99)]}


def decision_speed() -> dict[str, float]:
    """The decision alone (µs), with the reference in the same run and their ratios.

    The model's deployment table has 10 jurisdiction groups x 5 capped sectors and the caller
    sits in a capped sector cell, so every look-up of the table is on the path; the reference is
    a table of one group and no sector (the shape of a one-tier decision).
    """
    table = _decision_speed(10, 5)
    reference = _decision_speed(1, 0)
    ratios = {f"{k}_ratio": table[k] / reference[k] for k in ("cached", "uncached")}
    return table | {f"reference_{k}": v for k, v in reference.items()} | ratios


def _decision_speed(n_groups: int, n_sectors: int) -> dict[str, float]:
    import datetime as dt

    from clearance.policy import Decider, build_snapshot

    now = dt.datetime.now(dt.UTC)
    groups = [f"group-{n}" for n in range(n_groups)]
    sectors = ["finance", "government", "health", "military", "research"][:n_sectors]
    tiers = dict.fromkeys(groups, "public")
    sector_tiers = {g: dict.fromkeys(sectors, "public_safeguarded") for g in groups}
    content = {
        "organizations": {"org": {"kind": "partner", "country": "US", "group": groups[-1],
                                  "sector": "research"}},
        "keys": {},
        "models": {"bench-model": {"id": "m", "organization": "dev", "status": "approved",
                                    "tier": "public", "tiers": tiers,
                                    "sector_tiers": sector_tiers,
                                    "channels": ["api"], "restricted_to": None}},
        "grants": [],
    }  # fmt: skip
    snapshot = build_snapshot(
        content, version=1, issued_at=now, expires_at=now + dt.timedelta(hours=1)
    )
    at = now.timestamp()
    first = []
    for _ in range(50):
        decider = Decider()
        decider.swap(snapshot)
        start = time.perf_counter()
        decider.decide_uncached("org", "bench-model", "", at)
        first.append((time.perf_counter() - start) * 1e6)
    n = 100_000
    start = time.perf_counter()
    for _ in range(n):
        decider.decide("org", "bench-model", "", at)
    cached = (time.perf_counter() - start) / n * 1e6
    n = 20_000
    start = time.perf_counter()
    for _ in range(n):
        decider.decide_uncached("org", "bench-model", "", at)
    uncached = (time.perf_counter() - start) / n * 1e6
    first.sort()
    return {"cached": cached, "uncached": uncached, "first_cedar_evaluation": first[25]}


def start_nginx(upstream_port: int, workers: int = 1) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    reuseport = " reuseport" if workers > 1 else ""
    folder = Path(tempfile.mkdtemp(dir=WORK))
    (folder / "nginx.conf").write_text(
        textwrap.dedent(
            f"""
            worker_processes {workers}; daemon off; pid {folder}/nginx.pid; error_log stderr error;
            events {{ worker_connections 1024; }}
            http {{
              access_log off;
              upstream u {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}
              server {{
                listen 127.0.0.1:{port}{reuseport};
                location / {{ proxy_pass http://u; proxy_http_version 1.1;
                             proxy_set_header Connection ""; }}
              }}
            }}
            """
        )
    )
    process = subprocess.Popen(["nginx", "-c", str(folder / "nginx.conf"), "-p", str(folder)])
    wait_port(port)
    return process, port


def start_litellm(upstream_port: int) -> tuple[subprocess.Popen[bytes], int, str]:
    venv = WORK / "litellm-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "litellm[proxy]==1.106.12"],
            check=True, timeout=900,
        )  # fmt: skip
    port = free_port()
    master = "sk-" + os.urandom(24).hex()
    config = WORK / "litellm.yaml"
    config.write_text(
        "model_list:\n  - model_name: bench-model\n    litellm_params:\n"
        f"      model: openai/bench-model\n      api_base: http://127.0.0.1:{upstream_port}/v1\n"
        "      api_key: sk-upstream\n"
    )
    env = {**os.environ, "LITELLM_MASTER_KEY": master, "LITELLM_LOG": "ERROR"}
    process = subprocess.Popen(
        [str(venv / "bin" / "litellm"), "--config", str(config), "--port", str(port),
         "--host", "127.0.0.1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_port(port, timeout=180)
    return process, port, master


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-litellm", action="store_true", help="Skip LiteLLM.")
    parser.add_argument("--streams", type=int, default=300, help="Streams timed per peer.")
    parser.add_argument(
        "--decisions-only", action="store_true", help="Time the decision alone, then stop."
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="Worker processes for the N-worker runs (cores)."
    )
    args = parser.parse_args()
    from clearance.gateway import default_workers

    workers = args.workers or default_workers()
    WORK.mkdir(exist_ok=True)
    if args.decisions_only:
        print(json.dumps({"decision_us": decision_speed(), "load_average": os.getloadavg()}))
        return
    result: dict[str, Any] = {
        "workers": workers,
        "rps": {
            "direct": None,
            "nginx": None,
            "clearance": None,
            "litellm": None,
            f"nginx_{workers}_workers": None,
            f"clearance_{workers}_workers": None,
        },
        "added_latency_us": {"nginx": None, "clearance": None, "litellm": None},
        "streaming_ttfb_us": {"direct": None, "nginx": None, "clearance": None, "litellm": None},
        "added_streaming_ttfb_us": {"nginx": None, "clearance": None, "litellm": None},
        "decision_us": decision_speed(),
        "load_average": os.getloadavg(),
        "reasons": {},
        "measured_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    if shutil.which("wrk") is None:
        reason = "wrk is not installed (apt-get install -y wrk)"
        print(f"every peer: null ({reason})")
        result["reasons"]["all"] = reason
        return finish(result, args.json)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        upstream_port = free_port()
        processes.append(
            subprocess.Popen([sys.executable, "-c", UPSTREAM, str(upstream_port), BODY])
        )
        wait_port(upstream_port)
        peers: dict[str, tuple[str, dict[str, str]]] = {
            "direct": (f"http://127.0.0.1:{upstream_port}/v1/chat/completions", {})
        }
        if shutil.which("nginx"):
            process, port = start_nginx(upstream_port)
            processes.append(process)
            peers["nginx"] = (f"http://127.0.0.1:{port}/v1/chat/completions", {})
            process, port = start_nginx(upstream_port, workers)
            processes.append(process)
            peers[f"nginx_{workers}_workers"] = (
                f"http://127.0.0.1:{port}/v1/chat/completions",
                {},
            )
        else:
            result["reasons"]["nginx"] = "nginx is not installed (apt-get install -y nginx)"
        import hashlib

        secret = "benchsecret"
        for count, name in ((1, "clearance"), (workers, f"clearance_{workers}_workers")):
            gateway_port = free_port()
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        GATEWAY,
                        str(gateway_port),
                        f"http://127.0.0.1:{upstream_port}/v1",
                        hashlib.sha256(secret.encode()).hexdigest(),
                        str(count),
                    ]
                )
            )
            wait_port(gateway_port)
            peers[name] = (
                f"http://127.0.0.1:{gateway_port}/v1/chat/completions",
                {"Authorization": f"Bearer clr_0123456789abcdef_{secret}"},
            )
        if args.no_litellm:
            result["reasons"]["litellm"] = "skipped (--no-litellm)"
        else:
            try:
                process, port, master = start_litellm(upstream_port)
                processes.append(process)
                peers["litellm"] = (
                    f"http://127.0.0.1:{port}/v1/chat/completions",
                    {"Authorization": f"Bearer {master}"},
                )
            except Exception as exc:
                result["reasons"]["litellm"] = f"LiteLLM could not run here: {exc}"
        measured: dict[str, dict[str, float]] = {}
        for name, (url, headers) in peers.items():
            try:
                wrk(url, 1, 1, headers)  # warm up
                busy = wrk(url, 32, args.seconds, headers)
                single = wrk(url, 1, args.seconds, headers)
                measured[name] = {"rps": busy["rps"], "p50": single["p50"], "p99": single["p99"]}
                result["rps"][name] = busy["rps"]
                print(f"{name}: {busy['rps']:.0f} req/s at 32 connections; "
                      f"p50 {single['p50']:.0f} µs, p99 {single['p99']:.0f} µs at 1")  # fmt: skip
            except Exception as exc:
                result["reasons"][name] = str(exc)
                print(f"{name}: null ({exc})")
                continue
            try:
                first = ttfb(url, headers, args.streams)
                result["streaming_ttfb_us"][name] = first
                print(f"{name}: streaming TTFB p50 {first['p50']:.0f} µs, "
                      f"p99 {first['p99']:.0f} µs")  # fmt: skip
            except Exception as exc:
                result["reasons"][f"{name}_streaming"] = str(exc)
                print(f"{name} streaming: null ({exc})")
        ttfbs = result["streaming_ttfb_us"]
        for name in ("nginx", "clearance", "litellm"):
            if ttfbs["direct"] and ttfbs[name]:
                result["added_streaming_ttfb_us"][name] = {
                    "p50": ttfbs[name]["p50"] - ttfbs["direct"]["p50"],
                    "p99": ttfbs[name]["p99"] - ttfbs["direct"]["p99"],
                }
        direct = measured.get("direct")
        for name in ("nginx", "clearance", "litellm"):
            if direct and name in measured:
                result["added_latency_us"][name] = {
                    "p50": measured[name]["p50"] - direct["p50"],
                    "p99": measured[name]["p99"] - direct["p99"],
                }
        rps = result["rps"]
        result["ratios"] = {
            "clearance_over_nginx": rps["clearance"] / rps["nginx"]
            if rps["clearance"] and rps["nginx"]
            else None,
            "clearance_over_litellm": rps["clearance"] / rps["litellm"]
            if rps["clearance"] and rps["litellm"]
            else None,
            f"clearance_over_nginx_at_{workers}_workers": (
                rps[f"clearance_{workers}_workers"] / rps[f"nginx_{workers}_workers"]
                if rps[f"clearance_{workers}_workers"] and rps[f"nginx_{workers}_workers"]
                else None
            ),
            f"clearance_{workers}_workers_over_1": (
                rps[f"clearance_{workers}_workers"] / rps["clearance"]
                if rps[f"clearance_{workers}_workers"] and rps["clearance"]
                else None
            ),
        }
        for name, reason in result["reasons"].items():
            print(f"{name}: null ({reason})")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
    result["load_average_after"] = os.getloadavg()
    finish(result, args.json)


def finish(result: dict[str, Any], path: Path | None) -> None:
    text = json.dumps(result, indent=2)
    print(text)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")


if __name__ == "__main__":
    main()
