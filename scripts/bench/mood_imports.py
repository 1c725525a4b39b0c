"""Moods from apps arrive in batches: one durable write per batch, not one per mood.

Against a real `hearth serve`, in the same run:
- baseline: sequential PUT /v1/mood, each acknowledged after its own fsyncs (moods/s);
- a Daylio import of N rows (moods/s acknowledged; goal: >= 20x the PUT rate);
- a Health Auto Export sync of the same N moods, then its resend (all duplicates);
- worst /health latency while the import's events are embedded in the background;
- how long until the outbox is drained (every imported mood searchable).

Run: .venv/bin/python scripts/bench/mood_imports.py [--rows 2000] [--puts 200]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path[0] = str(Path(__file__).resolve().parents[2])  # the repo root, not scripts/bench
from tests.utils.server import ServerProcess  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
HEADER = "full_date,date,weekday,time,mood,activities,note_title,note\n"


def daylio_csv(rows: int) -> bytes:
    first = datetime(2020, 1, 1)
    lines = [
        f"{(first + timedelta(hours=6 * i)).strftime('%Y-%m-%d,x,x,%H:%M')},good,"
        f'"work | walk","Day {i}","A short note about day {i} and how it went"'
        for i in range(rows)
    ]
    return (HEADER + "\n".join(lines) + "\n").encode()


def hae_body(rows: int) -> bytes:
    first = datetime(2021, 1, 1, tzinfo=UTC)
    entries = [
        {
            "id": f"bench-{i}",
            "start": (first + timedelta(hours=5 * i)).strftime("%Y-%m-%d %H:%M:%S +0000"),
            "labels": ["Calm"],
            "associations": ["Work"],
            "valence": 0.4,
        }
        for i in range(rows)
    ]
    return json.dumps({"data": {"stateOfMind": entries}}).encode()


def probe(url: str, stop: threading.Event, worst: list[float]) -> None:
    with httpx.Client(timeout=30) as c:
        while not stop.is_set():
            t = time.perf_counter()
            c.get(url + "/health")
            worst[0] = max(worst[0], time.perf_counter() - t)
            time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--puts", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data", token=TOKEN, HEARTH_ACCESS_LOG="false")
        url = server.start().url
        headers = {"Authorization": f"Bearer {TOKEN}"}
        try:
            with httpx.Client(base_url=url, headers=headers, timeout=600) as c:
                t = time.perf_counter()
                for i in range(args.puts):
                    c.put("/v1/mood", json={"mood": "calm", "updated_at": 1e9 + i})
                put_rate = args.puts / (time.perf_counter() - t)
                while (Path(tmp) / "data/state/outbox.jsonl").stat().st_size:
                    time.sleep(0.2)

                stop, worst = threading.Event(), [0.0]
                prober = threading.Thread(target=probe, args=(url, stop, worst))
                prober.start()
                body = daylio_csv(args.rows)
                t = time.perf_counter()
                r = c.post("/v1/import/daylio", content=body, headers={"Content-Type": "text/csv"})
                import_s = time.perf_counter() - t
                assert r.status_code == 200 and r.json()["imported"] == args.rows, r.text
                while (Path(tmp) / "data/state/outbox.jsonl").stat().st_size:
                    time.sleep(0.2)
                drained_s = time.perf_counter() - t
                stop.set()
                prober.join()

                hae = hae_body(args.rows)
                t = time.perf_counter()
                first = c.post("/v1/ingest/health-auto-export", content=hae).json()
                hae_s = time.perf_counter() - t
                while (Path(tmp) / "data/state/outbox.jsonl").stat().st_size:
                    time.sleep(0.2)
                t = time.perf_counter()
                again = c.post("/v1/ingest/health-auto-export", content=hae).json()
                resend_s = time.perf_counter() - t
                assert first["moods"]["created"] == args.rows, first
                assert again["moods"]["duplicates"] == args.rows, again
        finally:
            server.stop()
    import_rate = args.rows / import_s
    print(f"PUT /v1/mood, sequential:        {put_rate:8.0f} moods/s (baseline)")
    print(
        f"Daylio import of {args.rows} rows:     {import_rate:8.0f} moods/s acknowledged "
        f"({import_s:.2f} s) = {import_rate / put_rate:.0f}x baseline (goal >= 20x)"
    )
    print(f"  all embedded (outbox drained) after {drained_s:.1f} s")
    print(f"  worst /health latency meanwhile: {worst[0] * 1000:.0f} ms")
    print(
        f"Health Auto Export, {args.rows} moods: {args.rows / hae_s:8.0f} moods/s ({hae_s:.2f} s)"
    )
    print(f"  resend of the same {args.rows} (all duplicates): {resend_s:.2f} s")


if __name__ == "__main__":
    main()
