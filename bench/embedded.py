"""Benchmark: ``batchrun apply`` with the embedded local JMA, in-process against a child process.

Run with ``.venv/bin/python -m bench.embedded [--jobs 1000]``. Each run starts in a fresh
folder (a fresh database), timed from process start to exit:

- ``child``: plain ``batchrun apply`` with no endpoint — the embedded local JMA runs in a
  child process (what batchrun does);
- ``in-process``: the same apply with the local JMA in the apply process itself (the
  server shares the GIL with the submit and watch threads), driven by this module;

each for ``--jobs`` no-op jobs, then for the quickstart demo (6 jobs, workers start while
they wait), first and second (nothing to do) run. No assertions: numbers for people.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from bench.support import BATCHRUN, ROOT, STEPS, compile_sources, python_child, run_child

DEMO = ROOT / "manifests"


def sweep(folder: Path, jobs: int) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(
        f"version: 1\nbatch: embedded\nstep: {{function: noop, version: \"1.0.0\"}}\n"
        f"local: {{steps: [{STEPS}]}}\ngrid: {{index: {{range: [0, {jobs}]}}}}\n"
        f"name: \"noop-{{{{ index }}}}\"\nexecution: {{submit: 8, max_running: {jobs}}}\n",
        encoding="utf-8",
    )
    return path


def demo(folder: Path) -> Path:
    shutil.copy(DEMO / "quickstart.yaml", folder / "quickstart.yaml")
    shutil.copytree(DEMO / "steps", folder / "steps")
    return folder / "quickstart.yaml"


def timed(mode: str, manifest: Path) -> float:
    if mode == "child":
        done = run_child([BATCHRUN, "apply", str(manifest), "--yes"], cwd=manifest.parent)
    else:
        done = python_child("bench.embedded", "--in-process", str(manifest))
    if done.returncode != 0:
        raise SystemExit(f"{mode} apply of {manifest.name} failed: {done.stderr[-2000:]}")
    return done.seconds


def in_process(manifest: Path) -> None:
    """``batchrun apply MANIFEST`` with the local JMA served from this very process."""
    from batchrun.cli.main import main
    from batchrun.connection import local_database
    from batchrun.localjma import LocalJMA
    from batchrun.manifest import load_manifest

    loaded = load_manifest(manifest)
    steps = [str(path) for path in loaded.local.steps] if loaded.local else []
    workers = loaded.local.workers if loaded.local else None
    local_database(loaded).parent.mkdir(parents=True, exist_ok=True)
    with LocalJMA(local_database(loaded), steps=steps, workers=workers) as jma:
        sys.argv = ["batchrun", "apply", str(manifest), "--yes", "--endpoint", jma.url]
        try:
            main()
        except SystemExit as done:
            if done.code:
                raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1000, help="no-op jobs in the sweep")
    parser.add_argument("--in-process", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.in_process:
        in_process(options.in_process)
        return
    compile_sources()
    print(f"{'run':34} {'child s':>8} {'in-process s':>13}")
    with tempfile.TemporaryDirectory(prefix="embedded-") as scratch:
        runs = [(f"{options.jobs} no-op jobs, first run", lambda f: sweep(f, options.jobs)),
                ("quickstart demo, first run", demo)]
        for number, (label, make) in enumerate(runs):
            seconds = {}
            for mode in ("child", "in-process"):
                folder = Path(scratch) / f"{mode}-{number}"
                folder.mkdir()
                manifest = make(folder)
                seconds[mode] = timed(mode, manifest)
                if "demo" in label:
                    seconds[f"{mode} again"] = timed(mode, manifest)
            print(f"{label:34} {seconds['child']:8.2f} {seconds['in-process']:13.2f}")
            if "demo" in label:
                print(f"{'quickstart demo, second run':34} {seconds['child again']:8.2f} "
                      f"{seconds['in-process again']:13.2f}")


if __name__ == "__main__":
    main()
