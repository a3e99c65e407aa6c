"""Run the pipeline parity and speed comparison; print and save one markdown table.

Called by ``benchmarks/pipeline_parity/run`` (see README.md), with rustybt's
python. Every framework job is a fresh worker process (worker.py) in that
framework's venv; its peak memory is the worker's ``ru_maxrss`` as
``os.wait4`` reports it. Jobs run one after another, never two at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

from compare import (  # noqa: E402
    ATOL,
    RTOL,
    FrameComparison,
    compare_frames,
    comparison_markdown,
    zipline_only_markdown,
)
from frameio import load_frame  # noqa: E402
from gen_csvdir import write_csvdir  # noqa: E402

FRAMEWORKS = ("zipline", "rustybt")
PIPELINE_SPEEDUP = 3.0  # rustybt's run_pipeline at least this many times faster
BACKTEST_SPEEDUP = 10.0  # the ranking backtest
# Prices on a grid of eighths: binary fractions with 3 decimals, so zipline's
# storage (integer thousandths, read back times 0.001) returns them exactly and
# both engines start from the same floats (see README.md: with cents, zipline's
# reading is an ulp off and breaks exact ties its own way).
PARITY_TICK = 0.125
ROOT_VARIABLES = {"zipline": "ZIPLINE_ROOT", "rustybt": "RUSTYBT_ROOT"}


@dataclass
class Job:
    framework: str
    job: str
    data: str
    status: str = "ok"
    result: dict[str, Any] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    wall_seconds: float = 0.0
    load_at_end: float = 0.0  # the 1-minute load average when the job ended

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Runner:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.work).resolve()
        self.pythons = {"zipline": args.zipline_python, "rustybt": args.rustybt_python}
        self.jobs: list[Job] = []

    def data_set(self, assets: int, years: int) -> Path:
        """The csvdir of ``assets`` x ``years`` (written once, kept in the work directory)."""
        folder = self.work / f"data-{assets}x{years}-tick{self.args.tick:g}"
        manifest = folder / "manifest.json"
        if not manifest.exists():
            print(f"== writing {folder}", flush=True)
            write_csvdir(folder, assets, years, self.args.tick)
        return folder

    def spawn(self, framework: str, job: str, data: Path, frame: Path | None = None) -> Job:
        """One worker process: its result JSON, peak RSS and status."""
        key = f"{framework}-{job}-{data.name}"
        result_path = self.work / "results" / f"{key}.json"
        result_path.parent.mkdir(parents=True, exist_ok=True)
        result_path.unlink(missing_ok=True)
        log = self.work / "logs" / f"{key}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            self.pythons[framework],
            str(HERE / "worker.py"),
            framework,
            job,
            str(data),
            str(result_path),
        ]
        if frame is not None:
            frame.unlink(missing_ok=True)
            cmd += ["--frame", str(frame)]
        env = {
            **os.environ,
            ROOT_VARIABLES[framework]: str(self.work / "roots" / f"{framework}-{data.name}"),
            "PYTHONPATH": str(self.args.repo) if framework == "rustybt" else "",
        }
        entry = Job(framework, job, data.name)
        print(f"  {key} ...", end="", flush=True)
        started = time.perf_counter()
        with open(log, "w") as fh:
            fh.write("$ " + shlex.join(cmd) + "\n")
            fh.flush()
            proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=HERE)
            while True:
                pid, code, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() - started > self.args.timeout:
                    proc.kill()
                    pid, code, usage = os.wait4(proc.pid, 0)
                    entry.status = f"timeout after {self.args.timeout:.0f} s"
                    break
                time.sleep(0.05)
        entry.wall_seconds = time.perf_counter() - started
        # Other processes skew the times: about 1 is this job alone on the machine.
        entry.load_at_end = os.getloadavg()[0]
        entry.peak_rss_mb = usage.ru_maxrss / 1024.0  # Linux: kilobytes
        exit_code = os.waitstatus_to_exitcode(code)
        if entry.ok and exit_code != 0:
            entry.status = f"failed (exit {exit_code}; {self.last_line(log)}; see {log})"
        if entry.ok and result_path.exists():
            entry.result = json.loads(result_path.read_text())
        elif entry.ok:
            entry.status = f"failed (no result; see {log})"
        if entry.ok:
            print(f" {entry.result['seconds']:.2f} s, {entry.peak_rss_mb:.0f} MB", flush=True)
        else:
            print(f" {entry.status}", flush=True)
        self.jobs.append(entry)
        return entry

    @staticmethod
    def last_line(log: Path) -> str:
        lines = [line for line in log.read_text().splitlines() if line.strip()]
        return lines[-1][:200] if lines else "no output"

    def ingest(self, data: Path) -> dict[str, bool]:
        """Ingest ``data`` into each framework once; which frameworks have it."""
        ready = {}
        for framework in self.args.frameworks:
            marker = self.work / "roots" / f"{framework}-{data.name}.ingested"
            if not marker.exists():
                if not self.spawn(framework, "ingest", data).ok:
                    ready[framework] = False
                    continue
                marker.write_text("ok")
            ready[framework] = True
        return ready

    # -- the parts -------------------------------------------------------------
    def cell_parity(self, job: str, title: str) -> tuple[list[str], dict[str, Any], bool]:
        """Run ``job`` (pipeline or backtest) in both frameworks on the parity data; compare."""
        data = self.data_set(self.args.assets, self.args.years)
        ready = self.ingest(data)
        frames: dict[str, Path] = {}
        runs: dict[str, Job] = {}
        for framework in self.args.frameworks:
            if not ready[framework]:
                continue
            frame = self.work / "frames" / f"{framework}-{job}-{data.name}.npz"
            runs[framework] = self.spawn(framework, job, data, frame)
            if runs[framework].ok:
                frames[framework] = frame
        size = f"{self.args.assets} assets x {self.args.years} years, tick {self.args.tick:g}"
        title = f"{title} ({size})"
        if "zipline" not in frames:
            why = runs["zipline"].status if "zipline" in runs else "zipline did not ingest"
            return [f"### {title}: zipline failed ({why})"], {"zipline": why}, False
        zipline = load_frame(frames["zipline"])
        if "rustybt" not in frames:
            why = runs["rustybt"].status if "rustybt" in runs else "not run"
            return zipline_only_markdown(title, zipline, why), {"rustybt": why}, False
        comparison: FrameComparison = compare_frames(zipline, load_frame(frames["rustybt"]))
        return comparison_markdown(title, comparison), comparison.as_dict(), comparison.ok

    def fastest(self, framework: str, job: str, data: Path) -> Job:
        """``--repeat`` runs of a job: the fastest (its time and peak RSS), or the first failure."""
        best: Job | None = None
        for _ in range(self.args.repeat):
            run = self.spawn(framework, job, data)
            if not run.ok:
                return run
            if best is None or run.result["seconds"] < best.result["seconds"]:
                best = run
        assert best is not None
        return best

    def speed(self) -> tuple[list[str], dict[str, Any], bool]:
        """run_pipeline and the ranking backtest on the speed data, both frameworks."""
        data = self.data_set(self.args.speed_assets, self.args.speed_years)
        ready = self.ingest(data)
        rows = []
        passed = True
        lines = [
            f"### Speed ({self.args.speed_assets} assets x {self.args.speed_years} years, "
            f"tick {self.args.tick:g})",
            "",
            "| workload | zipline s | rustybt s | speedup | target | zipline peak RSS MB "
            "| rustybt peak RSS MB | load (z / r) | result |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        workloads = (
            ("pipeline", "run_pipeline of the parity pipeline", PIPELINE_SPEEDUP, True),
            (
                "rank",
                "backtest: top 50 by a daily ranking, monthly rebalance",
                BACKTEST_SPEEDUP,
                False,
            ),
        )
        for job, label, target, rss_gated in workloads:
            runs = {f: self.fastest(f, job, data) for f in self.args.frameworks if ready[f]}
            z, r = runs.get("zipline"), runs.get("rustybt")
            row: dict[str, Any] = {"workload": job, "label": label, "target": target}
            for name, run in (("zipline", z), ("rustybt", r)):
                row[name] = asdict_job(run) if run else None
            if z and r and z.ok and r.ok:
                speedup = z.result["seconds"] / r.result["seconds"]
                rss_ok = not rss_gated or r.peak_rss_mb <= z.peak_rss_mb
                ok = speedup >= target and rss_ok
                verdict = "PASS" if ok else "FAIL"
                if not rss_ok:
                    verdict += " (memory)"
                row |= {"speedup": speedup, "ok": ok}
                lines.append(
                    f"| {label} | {z.result['seconds']:.2f} | {r.result['seconds']:.2f} | "
                    f"{speedup:.1f}x | {target:.0f}x | {z.peak_rss_mb:.0f} | "
                    f"{r.peak_rss_mb:.0f} | {z.load_at_end:.1f} / {r.load_at_end:.1f} | "
                    f"{verdict} |"
                )
            else:
                ok = False
                cells = [
                    f"{run.result['seconds']:.2f}"
                    if run and run.ok
                    else (run.status if run else "not run")
                    for run in (z, r)
                ]
                rss = [f"{run.peak_rss_mb:.0f}" if run and run.ok else "" for run in (z, r)]
                lines.append(
                    f"| {label} | {cells[0]} | {cells[1]} | | {target:.0f}x | {rss[0]} | "
                    f"{rss[1]} | | not compared |"
                )
            passed &= ok
            rows.append(row)
        if any(run["zipline"] and run["rustybt"] for run in rows):
            z_rank = next(r for r in rows if r["workload"] == "rank")
            values = [
                (z_rank[f] or {}).get("result", {}).get("final_value")
                for f in ("zipline", "rustybt")
            ]
            lines += [
                "",
                f"Ranking backtest final portfolio value: zipline {values[0]}, "
                f"rustybt {values[1]} (not gated: zipline's csvdir writes dividends without "
                "a pay date, so zipline never pays them in cash; see README.md). "
                "Load: the 1-minute load average as each job ended "
                f"({os.cpu_count()} CPUs; about 1 is the job alone).",
            ]
        return lines, {"workloads": rows}, passed


def asdict_job(job: Job) -> dict[str, Any]:
    return {
        "status": job.status,
        "peak_rss_mb": job.peak_rss_mb,
        "wall_seconds": job.wall_seconds,
        "load_at_end": job.load_at_end,
        "result": job.result,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=50, help="parity data: assets (50)")
    parser.add_argument("--years", type=int, default=3, help="parity data: years (3)")
    parser.add_argument(
        "--parts",
        default="pipeline,backtest",
        help="any of pipeline,backtest,speed (default pipeline,backtest)",
    )
    parser.add_argument(
        "--tick",
        type=float,
        default=PARITY_TICK,
        help=f"price grid of the data ({PARITY_TICK}; 0.01 for cents)",
    )
    parser.add_argument("--speed-assets", type=int, default=500)
    parser.add_argument("--speed-years", type=int, default=10)
    parser.add_argument("--frameworks", default="zipline,rustybt")
    parser.add_argument("--work", required=True, help="data, bundles, frames, logs")
    parser.add_argument("--zipline-python", required=True)
    parser.add_argument("--rustybt-python", default=sys.executable)
    parser.add_argument("--repo", default=str(REPO), help="the rustybt tree under test")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per job")
    parser.add_argument("--repeat", type=int, default=1, help="speed: best of N runs (1)")
    parser.add_argument("--results", default=str(HERE / "results"), help="where the table goes")
    parser.add_argument("--command", default="", help="the command line, for the record")
    args = parser.parse_args()
    args.frameworks = [f for f in args.frameworks.split(",") if f]
    if "zipline" not in args.frameworks or set(args.frameworks) - set(FRAMEWORKS):
        raise SystemExit("--frameworks: zipline (the reference), optionally rustybt")
    parts = [p for p in args.parts.split(",") if p]
    if set(parts) - {"pipeline", "backtest", "speed"}:
        raise SystemExit(f"--parts: unknown part in {args.parts!r}")
    runner = Runner(args)
    started = time.perf_counter()
    sections: list[str] = []
    record: dict[str, Any] = {}
    passed = True
    titles = {"pipeline": "run_pipeline, every cell", "backtest": "pipeline_output in a backtest"}
    for part in parts:
        print(f"== {part}", flush=True)
        if part == "speed":
            lines, detail, ok = runner.speed()
        else:
            lines, detail, ok = runner.cell_parity(part, titles[part])
        sections += [*lines, ""]
        record[part] = {"ok": ok, **detail}
        passed &= ok
    header = [
        "## Pipeline parity: rustybt vs zipline-reloaded",
        "",
        f"`{args.command or 'parity.py'}` on {platform.node()} ({os.cpu_count()} CPUs), "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; rustybt tree {args.repo}; "
        f"tolerance {RTOL:g} relative (floor {ATOL:g} absolute), NaN where zipline has NaN. "
        f"Overall: {'PASS' if passed else 'FAIL'}.",
        "",
    ]
    text = "\n".join(header + sections)
    print()
    print(text)
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / "latest.md").write_text(text + "\n")
    record |= {
        "command": args.command,
        "ok": passed,
        "seconds": time.perf_counter() - started,
        "jobs": [
            {"framework": j.framework, "job": j.job, "data": j.data, **asdict_job(j)}
            for j in runner.jobs
        ],
    }
    (results / "latest.json").write_text(json.dumps(record, indent=2, default=str))
    print(
        f"\nwritten: {results / 'latest.md'}, {results / 'latest.json'} "
        f"({time.perf_counter() - started:.0f} s)"
    )
    raise SystemExit(0 if passed else 1)


if __name__ == "__main__":
    main()
