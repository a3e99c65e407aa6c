"""Run rustybt and its peers side by side; print and save one table.

Called by ``benchmarks/peers/run`` (which makes the peer venvs first); see
README.md. Each measurement is a fresh process; its peak RSS is the child's
``ru_maxrss`` as ``os.wait4`` reports it. Jobs run one after another, never two
at a time, so that they do not share the two cores.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
# "lean" and "featured" are no peers: the leanest exact engine (lean_worker.py)
# and the same plus an engine's duties (featured_worker.py), run as yardsticks.
PEERS = ("zipline", "backtrader", "vectorbt", "lean", "featured")
# The yardsticks implement W1/W2 only; W5/W6 (the crossover) run on these.
CROSSOVER_ENGINES = ("rustybt", "zipline", "backtrader", "vectorbt")
WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6", "GRID100", "WF5")
# grid100 (the crossover's 10 x 10 grid search) runs on these; wf5 (walk-forward) on rustybt.
GRID_ENGINES = ("rustybt", "zipline", "backtrader")
README_START = "<!-- peers-table:start -->"
README_END = "<!-- peers-table:end -->"


@dataclass
class Row:
    workload: str
    size: str
    framework: str
    key: str
    seconds: float | None = None
    final_value: float | None = None
    fills: int | None = None
    peak_rss_mb: float | None = None
    status: str = "ok"
    detail: dict[str, Any] = field(default_factory=dict)


class Runner:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.work).resolve()
        self.logs = self.work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.rows: list[Row] = []
        self.loads: dict[str, float] = {}
        # (framework, data set) -> whether its bundle was ingested in this run.
        self.ingested: dict[tuple[str, str], bool] = {}
        self.pythons = {
            "rustybt": args.rustybt_python,
            "zipline": str(HERE / ".venv-zipline" / "bin" / "python"),
            "backtrader": str(HERE / ".venv-backtrader" / "bin" / "python"),
            "vectorbt": str(HERE / ".venv-vectorbt" / "bin" / "python"),
            # numpy and pandas only: rustybt's venv, without rustybt on the path.
            "lean": args.rustybt_python,
            "featured": args.rustybt_python,
        }

    # -- helpers ---------------------------------------------------------------
    def wanted(self, key: str) -> bool:
        framework = key.split("-")[0].rstrip("0123456789")
        if framework != "rustybt" and framework not in self.args.peers:
            return False
        return not any(fnmatch.fnmatch(key, pat) for pat in self.args.skip)

    def spawn(
        self, framework: str, argv: list[str], key: str, env: dict[str, str] | None = None
    ) -> tuple[dict[str, Any] | None, float, str]:
        """Run one worker in a fresh process: (result, peak RSS MB, status)."""
        result_path = self.work / "results" / f"{key}.json"
        result_path.parent.mkdir(parents=True, exist_ok=True)
        result_path.unlink(missing_ok=True)
        full_env = {
            **os.environ,
            "PEERS_CAPITAL": str(self.args.capital),
            "PEERS_GRID": str(self.args.grid),
            "PEERS_WF_TRIALS": str(self.args.wf_trials),
            "PYTHONPATH": str(REPO) if framework == "rustybt" else "",
            **(env or {}),
        }
        log = self.logs / f"{key}.log"
        cmd = [self.pythons[framework], *argv[:-1], str(result_path)] if argv[-1] == "RESULT" else [
            self.pythons[framework], *argv]  # fmt: skip
        started = time.perf_counter()
        with open(log, "w") as fh:
            fh.write("$ " + shlex.join(cmd) + "\n")
            fh.flush()
            proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=full_env,
                                    cwd=str(HERE))  # fmt: skip
            status = "ok"
            while True:
                pid, code, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if self.args.timeout and time.perf_counter() - started > self.args.timeout:
                    proc.kill()
                    pid, code, usage = os.wait4(proc.pid, 0)
                    status = f"timeout after {self.args.timeout:.0f} s"
                    break
                time.sleep(0.05)
            proc.returncode = os.waitstatus_to_exitcode(code)
        rss_mb = usage.ru_maxrss / 1024.0  # Linux: kilobytes
        # Other processes on the machine skew the times: keep the 1-minute load
        # average seen at the job's end (about 1 = this job alone on 2 cores).
        self.loads[key] = os.getloadavg()[0]
        if status == "ok" and proc.returncode != 0:
            status = f"failed (exit {proc.returncode}; see {log})"
        result = json.loads(result_path.read_text()) if result_path.exists() else None
        if status == "ok" and result is None:
            status = f"failed (no result; see {log})"
        return result, rss_mb, status

    def measure(
        self, workload: str, size: str, framework: str, key: str, argv: list[str],
        env: dict[str, str] | None = None, report: bool = True,
    ) -> Row:  # fmt: skip
        """Run a job ``--repeat`` times; keep the fastest run's numbers."""
        row = Row(workload, size, framework, key)
        best: tuple[dict[str, Any], float] | None = None
        for i in range(self.args.repeat):
            print(f"  {key}{f' #{i + 1}' if self.args.repeat > 1 else ''} ...", end="", flush=True)
            result, rss, status = self.spawn(framework, argv, key, env)
            if status != "ok" or result is None:
                print(f" {status}")
                row.status = status
                break
            print(f" {result['seconds']:.3f} s, {rss:.0f} MB")
            if best is None or result["seconds"] < best[0]["seconds"]:
                best = (result, rss)
        if best is not None and row.status == "ok":
            result, rss = best
            row.seconds = result["seconds"]
            row.final_value = result.get("final_value")
            row.fills = result.get("fills")
            row.peak_rss_mb = rss
            row.detail = {**result, "load_1min_at_end": self.loads.get(key)}
        if report:
            self.rows.append(row)
        return row

    # -- steps -----------------------------------------------------------------
    def dataset(self, frequency: str, assets: int, sessions: int = 0) -> Path:
        name = f"{frequency}-{assets}" + (f"-{sessions}s" if sessions else "")
        out = self.work / "data" / name
        if (out / "manifest.json").exists():
            print(f"== data: {out} (reused)")
            return out
        print(f"== data: {out}")
        shutil.rmtree(out, ignore_errors=True)
        argv = [str(HERE / "gen_data.py"), frequency, str(out), "--assets", str(assets)]
        if sessions:
            argv += ["--sessions", str(sessions)]
        subprocess.run([self.pythons["rustybt"], *argv], check=True,
                       env={**os.environ, "PYTHONPATH": ""})  # fmt: skip
        return out

    def root_env(self, framework: str, data: Path) -> dict[str, str]:
        var = "RUSTYBT_ROOT" if framework == "rustybt" else "ZIPLINE_ROOT"
        return {var: str(self.work / "roots" / f"{framework}-{data.name}")}

    def ingest(self, framework: str, data: Path, workload: str, size: str, report: bool) -> bool:
        """A fresh root, then the timed ingest; True if the bundle is there."""
        env = self.root_env(framework, data)
        root = Path(next(iter(env.values())))
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        key = f"{framework}-ingest-{data.name}"
        row = self.measure(workload, size, framework, key,
                           ["zipline_like.py", framework, "ingest", str(data), "RESULT"],
                           env, report)  # fmt: skip
        self.ingested[(framework, data.name)] = row.status == "ok"
        return row.status == "ok"

    def ensure_ingested(self, framework: str, data: Path, size: str) -> bool:
        """Ingest (untimed in the table) unless this run already ingested that data."""
        if (framework, data.name) in self.ingested:
            return self.ingested[(framework, data.name)]
        print(f"== ingest: {framework}, {data.name}")
        return self.ingest(framework, data, "csvdir ingest (setup)", size, report=False)

    def run_backtest(
        self, framework: str, data: Path, workload: str, size: str, key: str,
        strategy: str = "rebalance",
    ) -> None:  # fmt: skip
        """One backtest job; ``strategy`` is "rebalance" (W1/W2) or "crossover" (W5/W6)."""
        if framework in ("rustybt", "zipline"):
            job = "run" if strategy == "rebalance" else "crossover"
            argv = ["zipline_like.py", framework, job, str(data), "RESULT"]
            env = self.root_env(framework, data)
        else:
            # lean and featured run the W1/W2 strategy only: they take no strategy argument.
            chosen = [strategy] if framework in CROSSOVER_ENGINES else []
            argv = [f"{framework}_worker.py", str(data), *chosen, "RESULT"]
            env = None
        self.measure(workload, size, framework, key, argv, env)

    def run(self) -> None:
        a = self.args
        t0 = time.perf_counter()
        engines = ["rustybt", *[p for p in PEERS if p in a.peers]]
        if "vectorbt" in a.peers:
            # numba compiles vectorbt's kernels on first use and caches them on
            # disk; do that once here so no timed process pays for it.
            warm = self.dataset("daily", min(a.assets))
            print("== vectorbt: numba cache warm-up (untimed)")
            self.spawn("vectorbt", ["vectorbt_worker.py", str(warm), "RESULT"], "vectorbt-warmup")

        ingest_n = a.ingest_assets or max(a.assets)
        opens = "W3" in a.workloads or "W4" in a.workloads
        daily_sizes = sorted(set(a.assets) | ({ingest_n} if opens else set()))
        for n in daily_sizes:
            is_w3 = n == ingest_n and "W3" in a.workloads
            w1 = "W1" in a.workloads and n in a.assets
            if not (w1 or (opens and n == ingest_n)):
                continue
            data = self.dataset("daily", n)
            for fw in ("rustybt", "zipline"):
                need = (w1 and self.wanted(f"{fw}{n}")) or (is_w3 and self.wanted(f"{fw}-w3")) or (
                    n == ingest_n and "W4" in a.workloads and self.wanted(f"{fw}-w4"))  # fmt: skip
                if fw not in engines or not need:
                    continue
                print(f"== ingest: {fw}, daily {n} assets")
                ok = self.ingest(fw, data, "W3 csvdir ingest" if is_w3 else "csvdir ingest (setup)",
                                 f"{n} x daily", report=is_w3)  # fmt: skip
                if ok and n == ingest_n and "W4" in a.workloads and self.wanted(f"{fw}-w4"):
                    print(f"== W4 open: {fw}, {n} assets")
                    self.measure("W4 open + first history", f"{n} x daily", fw, f"{fw}-w4-{n}",
                                 ["zipline_like.py", fw, "open", str(data), "RESULT"],
                                 self.root_env(fw, data))  # fmt: skip
            if not w1:
                continue
            print(f"== W1 daily: {n} assets")
            for fw in engines:
                if self.wanted(f"{fw}{n}"):
                    self.run_backtest(fw, data, "W1 daily", f"{n} x daily", f"{fw}-w1-{n}")

        if "W2" in a.workloads:
            data = self.dataset("minute", a.minute_assets, a.minute_sessions)
            size = f"{a.minute_assets} x minute" + (
                f" ({a.minute_sessions} sessions)" if a.minute_sessions else " (1 year)"
            )
            for fw in ("rustybt", "zipline"):
                if fw in engines and self.wanted(f"{fw}-w2"):
                    print(f"== ingest: {fw}, minute")
                    self.ingest(fw, data, "csvdir ingest (setup)", size, report=True)
            print(f"== W2 minute: {size}")
            for fw in engines:
                if self.wanted(f"{fw}-w2"):
                    self.run_backtest(fw, data, "W2 minute", size, f"{fw}-w2")

        crossover = [fw for fw in engines if fw in CROSSOVER_ENGINES]
        if "W5" in a.workloads:
            for n, sessions in a.crossover_daily:
                data = self.dataset("daily", n, sessions)
                size = f"{n} x daily" + (f" ({sessions} sessions)" if sessions else "")
                tag = f"{n}x{sessions}" if sessions else f"{n}"
                print(f"== W5 crossover daily: {size}")
                for fw in crossover:
                    key = f"{fw}-w5-{tag}"
                    if not self.wanted(key):
                        continue
                    if fw in ("rustybt", "zipline") and not self.ensure_ingested(fw, data, size):
                        continue
                    self.run_backtest(fw, data, "W5 crossover daily", size, key, "crossover")

        if "GRID100" in a.workloads or "WF5" in a.workloads:
            self.run_searches(engines)

        if "W6" in a.workloads:
            n, sessions = a.crossover_minute_assets, a.crossover_minute_sessions
            data = self.dataset("minute", n, sessions)
            size = f"{n} x minute ({sessions} sessions)"
            print(f"== W6 crossover minute: {size}")
            for fw in crossover:
                key = f"{fw}-w6"
                if not self.wanted(key):
                    continue
                if fw in ("rustybt", "zipline") and not self.ensure_ingested(fw, data, size):
                    continue
                self.run_backtest(fw, data, "W6 crossover minute", size, key, "crossover")
        self.elapsed = time.perf_counter() - t0

    def run_searches(self, engines: list[str]) -> None:
        """grid100 on rustybt, zipline and backtrader; wf5 on rustybt (see README)."""
        a = self.args
        data = self.dataset("daily", a.grid_assets)
        size = f"{a.grid_assets} x daily, {a.grid} x {a.grid} grid"
        jobs = []
        if "GRID100" in a.workloads:
            jobs += [("grid100 search", fw, f"{fw}-grid100", "grid") for fw in engines
                     if fw in GRID_ENGINES]  # fmt: skip
        if "WF5" in a.workloads:
            jobs.append(("wf5 walk-forward", "rustybt", "rustybt-wf5", "wf"))
        for workload, fw, key, job in jobs:
            if not self.wanted(key):
                continue
            if fw in ("rustybt", "zipline") and not self.ensure_ingested(fw, data, size):
                continue
            print(f"== {workload}: {fw}, {size}")
            if fw == "backtrader":
                argv = ["backtrader_worker.py", str(data), job, "RESULT"]
                env = None
            else:
                argv = ["zipline_like.py", fw, job, str(data), "RESULT"]
                env = self.root_env(fw, data)
            self.measure(workload, size, fw, key, argv, env)

    # -- output ----------------------------------------------------------------
    def table(self) -> list[dict[str, Any]]:
        base = {(r.workload, r.size): r.seconds for r in self.rows
                if r.framework == "rustybt" and r.seconds}  # fmt: skip
        out = []
        order = {name: i for i, name in enumerate(("rustybt", *PEERS))}

        def sort_key(r: Row) -> tuple[int, str, int, int]:
            n = int(r.size.split()[0]) if r.size.split()[0].isdigit() else 0
            setup = r.workload.startswith("csvdir ingest")
            return (int(setup), r.workload, n, order.get(r.framework, 9))

        for r in sorted(self.rows, key=sort_key):
            ref = base.get((r.workload, r.size))
            out.append({
                "workload": r.workload,
                "size": r.size,
                "framework": r.framework,
                "version": r.detail.get("version"),
                "seconds": r.seconds,
                "vs_rustybt": (r.seconds / ref) if (ref and r.seconds) else None,
                "final_value": r.final_value,
                "fills": r.fills,
                "peak_rss_mb": r.peak_rss_mb,
                "status": r.status,
                "timed": r.detail.get("timed"),
                "best": self.best_text(r.detail),
                "detail": r.detail,
            })  # fmt: skip
        return out

    @staticmethod
    def best_text(detail: dict[str, Any]) -> str | None:
        """grid100: ``"28, 50"``, the best (fast, slow); wf5: each window's choice."""
        if "best_params" in detail:
            return ", ".join(str(v) for v in detail["best_params"].values())
        if "windows" in detail and isinstance(detail["windows"], list):
            return "; ".join(f"{w['fast']}, {w['slow']}" for w in detail["windows"])
        return None

    @staticmethod
    def rustybt_source(rows: list[dict[str, Any]]) -> str:
        """Where the rustybt rows' package came from, and the commit of that tree."""
        modules = {r["detail"].get("module") for r in rows if r["framework"] == "rustybt"}
        modules.discard(None)
        if not modules:
            return "-"
        package = Path(sorted(modules)[0]).parent
        git = ["git", "-C", str(package)]
        try:
            commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                                    text=True, check=True).stdout.strip()  # fmt: skip
            dirty = subprocess.run([*git, "status", "--porcelain", "--", "."], capture_output=True,
                                   text=True, check=True).stdout.strip()  # fmt: skip
        except (OSError, subprocess.CalledProcessError):
            return f"`{package}`"
        return f"`{package}` at commit {commit}" + (" with local changes" if dirty else "")

    def markdown(self, rows: list[dict[str, Any]], command: str) -> str:
        versions = {}
        for r in rows:
            if r["version"]:
                versions[r["framework"]] = r["version"]
        lines = [
            f"Command: `{command}`  ",
            f"Date: {time.strftime('%Y-%m-%d %H:%M %Z')}; machine: {os.cpu_count()} cores, "
            f"{platform.processor() or platform.machine()}, Python {platform.python_version()}; "
            f"total {self.elapsed / 60:.1f} min  ",
            "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + "  ",
            f"rustybt measured: {self.rustybt_source(rows)}  ",
            "Highest 1-minute load average seen at a job's end: "
            f"{max(self.loads.values(), default=0):.2f} (about 1 = a job alone on the machine; "
            "more means another process shared the cores and the times are inflated)  ",
            f"Capital {self.args.capital:,.0f}; seconds = the timed call only (see README); "
            "x rustybt = seconds / rustybt's seconds on the same row group "
            "(above 1: slower than rustybt).",
            "",
        ]
        # The searches' rows name their best (fast, slow) in one more column.
        searches = any(r["best"] for r in rows)
        best_header, best_rule = (" best (fast, slow) |", "---|") if searches else ("", "")
        lines += [
            "| workload | size | framework | seconds | x rustybt | final portfolio value | fills "
            f"|{best_header} peak RSS MB |",
            f"|---|---|---|---:|---:|---:|---:|{best_rule}---:|",
        ]
        for r in rows:
            best_cell = f" {r['best'] or ''} |" if searches else ""
            if r["status"] != "ok":
                lines.append(f"| {r['workload']} | {r['size']} | {r['framework']} | "
                             f"{r['status']} | | | |{' |' if searches else ''} |")  # fmt: skip
                continue
            v = r["vs_rustybt"]
            ratio = "" if v is None else (f"{v:.2f}" if v >= 0.095 else f"{v:.3f}")
            value = f"{r['final_value']:,.2f}" if r["final_value"] is not None else ""
            fills = f"{r['fills']:,}" if r["fills"] is not None else ""
            lines.append(
                f"| {r['workload']} | {r['size']} | {r['framework']} | {r['seconds']:.3f} | "
                f"{ratio} | {value} | {fills} |{best_cell} {r['peak_rss_mb']:.0f} |"
            )
        return "\n".join([*lines, "", *self.agreement(rows), *self.trial_agreement(rows)]) + "\n"

    @staticmethod
    def agreement(rows: list[dict[str, Any]]) -> list[str]:
        """Which backtest rows end on another value or fill count than rustybt's.

        rustybt and zipline must agree to the cent; backtrader and vectorbt may
        differ by a few fills in W1/W2 (README: "Why the final values differ").
        """
        reference = {(r["workload"], r["size"]): r for r in rows
                     if r["framework"] == "rustybt" and r["final_value"] is not None}  # fmt: skip
        same, differ = [], []
        for r in rows:
            ref = reference.get((r["workload"], r["size"]))
            if ref is None or r is ref or r["final_value"] is None or r["status"] != "ok":
                continue
            value_gap = r["final_value"] - ref["final_value"]
            fill_gap = (r["fills"] or 0) - (ref["fills"] or 0)
            if abs(value_gap) < 0.005 and fill_gap == 0:
                same.append(f"{r['workload']} {r['size']} {r['framework']}")
            else:
                differ.append(f"{r['workload']}, {r['size']}, {r['framework']}: value "
                              f"{value_gap:+,.2f}, fills {fill_gap:+,}")  # fmt: skip
        if not same and not differ:
            return []
        lines = [f"Same final value (to the cent) and fills as rustybt: {len(same)} of "
                 f"{len(same) + len(differ)} backtest rows."]  # fmt: skip
        if differ:
            lines[0] += " Different:"
            lines += [f"- {d}" for d in differ]
        return lines

    @staticmethod
    def trial_agreement(rows: list[dict[str, Any]]) -> list[str]:
        """grid100: how many of the peers' trials end on rustybt's value (to the cent) and fills."""
        ok = [r for r in rows if r["status"] == "ok"]
        searches = [r for r in ok if isinstance(r["detail"].get("trials"), list)]
        trials = {r["framework"]: {(t["fast"], t["slow"]): t for t in r["detail"]["trials"]}
                  for r in searches}  # fmt: skip
        reference = trials.pop("rustybt", None)
        if not reference:
            return []
        lines = []
        for framework, theirs in trials.items():
            same = [pair for pair, t in theirs.items() if pair in reference
                    and abs(t["final_value"] - reference[pair]["final_value"]) < 0.005
                    and t["fills"] == reference[pair]["fills"]]  # fmt: skip
            worst = max((abs(t["final_value"] - reference[p]["final_value"]), p)
                        for p, t in theirs.items() if p in reference)  # fmt: skip
            lines.append(f"grid100, {framework}: {len(same)} of {len(reference)} trials end on "
                         f"rustybt's final value (to the cent) and fills; largest gap "
                         f"{worst[0]:,.2f} at (fast, slow) = {worst[1]}.")  # fmt: skip
        return ["", *lines]


def workload_list(text: str) -> list[str]:
    """``"w1, W5"`` -> ``["W1", "W5"]``; an unknown name is an error."""
    names = [w.strip().upper() for w in text.split(",") if w.strip()]
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown workload(s) {', '.join(unknown)}; choose from {','.join(WORKLOADS)}"
        )
    return names


def daily_sizes(text: str) -> list[tuple[int, int]]:
    """``"1x2148,50"`` -> ``[(1, 2148), (50, 0)]`` (0: every session)."""
    sizes = []
    for item in (x.strip().lower() for x in text.split(",") if x.strip()):
        assets, _, sessions = item.partition("x")
        try:
            sizes.append((int(assets), int(sessions) if sessions else 0))
        except ValueError:
            raise argparse.ArgumentTypeError(f"not ASSETS or ASSETSxSESSIONS: {item!r}") from None
    return sizes


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ints = lambda s: [int(x) for x in s.split(",") if x]  # noqa: E731
    words = lambda s: [x.strip() for x in s.split(",") if x.strip()]  # noqa: E731
    p.add_argument("--assets", type=ints, default=[50, 500], help="W1 universe sizes (50,500)")
    p.add_argument("--workloads", type=workload_list, default=list(WORKLOADS[:6]),
                   help="subset of " + ",".join(WORKLOADS) + " (W5,W6: the crossover; GRID100, "
                   "WF5: its parameter searches, run only when named; case-insensitive; "
                   "default W1-W6)")  # fmt: skip
    p.add_argument(
        "--peers", type=words, default=list(PEERS), help="zipline,backtrader,vectorbt,lean,featured"
    )
    p.add_argument("--skip", type=words, default=[],
                   help="job keys or globs: zipline500 (W1, 500 assets), backtrader-w2, "
                   "zipline-w3, zipline-w4, '*-w2', zipline-grid100, rustybt-wf5")  # fmt: skip
    p.add_argument(
        "--ingest-assets", type=int, default=0, help="W3/W4 size (default: the largest --assets)"
    )
    p.add_argument("--minute-assets", type=int, default=50)
    p.add_argument("--minute-sessions", type=int, default=0, help="W2 span (0: 2023, 250 sessions)")
    p.add_argument("--crossover-daily", type=daily_sizes, default=[(1, 2148), (50, 0)],
                   help="W5 sizes: ASSETS (all 2,516 sessions) or ASSETSxSESSIONS (the first "
                   "sessions), comma separated (1x2148,50)")  # fmt: skip
    p.add_argument("--crossover-minute-assets", type=int, default=50, help="W6 assets")
    p.add_argument("--grid-assets", type=int, default=50,
                   help="grid100/wf5 assets (all 2,516 daily sessions)")  # fmt: skip
    p.add_argument(
        "--grid",
        type=int,
        default=10,
        choices=range(1, 11),
        metavar="1..10",
        help="grid100/wf5: the first N fast and N slow windows (10: 10 x 10)",
    )
    p.add_argument("--wf-trials", type=int, default=20, help="wf5: trials per window")
    p.add_argument("--crossover-minute-sessions", type=int, default=21,
                   help="W6 span: the first N sessions of 2023")  # fmt: skip
    p.add_argument("--capital", type=float, default=10_000_000.0)
    p.add_argument("--repeat", type=int, default=1, help="runs per job; the fastest is kept")
    p.add_argument("--timeout", type=float, default=0, help="seconds before a job is killed")
    p.add_argument("--work", default=os.environ.get("PEERS_WORK", "/tmp/rustybt-peers"),
                   help="data, bundles and logs (data is reused between runs)")  # fmt: skip
    p.add_argument("--results", default=str(HERE / "results"))
    p.add_argument("--update-readme", action="store_true", help="put the table in README.md")
    p.add_argument("--rustybt-python", default=str(REPO / ".venv" / "bin" / "python"))
    p.add_argument("--command", default="benchmarks/peers/run " + shlex.join(argv))
    return p.parse_args(argv)


def main() -> None:
    args = parse_args(sys.argv[1:])
    runner = Runner(args)
    runner.run()
    rows = runner.table()
    md = runner.markdown(rows, args.command)
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / "latest.md").write_text(md)
    (results / "latest.json").write_text(json.dumps(
        {"command": args.command, "capital": args.capital, "elapsed_s": runner.elapsed,
         "cores": os.cpu_count(), "rows": rows}, indent=1, default=str))  # fmt: skip
    if args.update_readme:
        readme = HERE / "README.md"
        text = readme.read_text()
        start, end = text.index(README_START) + len(README_START), text.index(README_END)
        readme.write_text(text[:start] + "\n" + md + text[end:])
    print()
    print(md)
    print(f"written: {results / 'latest.md'}, {results / 'latest.json'}; logs: {runner.logs}")
    if any(r["status"] != "ok" for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
