"""``python -m bench [--scale S] [--only NAME]``: run every benchmark in bench/ and print
each as a ratio to the physical limit measured in the same run.

Exit status: 0 every benchmark reached its target, 1 one fell short, 2 one crashed."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

import bench

REQUIRED = ("name", "seconds", "limit_seconds", "ratio", "target", "notes")


def discover() -> dict[str, Callable[[float], list[dict[str, Any]]]]:
    found: dict[str, Callable[[float], list[dict[str, Any]]]] = {}
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        run = getattr(module, "run", None)
        if callable(run):
            found[info.name] = run
    return found


def run_all(scale: float = 1.0, only: list[str] | None = None,
            console: Console | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Run the benchmarks; returns (results, names of the benchmarks that crashed)."""
    console = console or Console()
    benches = discover()
    if only:
        unknown = set(only) - set(benches)
        if unknown:
            raise SystemExit(f"no benchmark named {', '.join(sorted(unknown))} "
                             f"(have: {', '.join(benches)})")
        benches = {k: v for k, v in benches.items() if k in only}
    results: list[dict[str, Any]] = []
    crashed: list[str] = []
    for name, run in benches.items():
        console.print(f"[bold]▶ {name}[/] (scale {scale:g})")
        started = time.perf_counter()
        try:
            rows = run(scale)
            for row in rows:
                missing = [k for k in REQUIRED if k not in row]
                if missing:
                    raise ValueError(f"{name}: result without {', '.join(missing)}")
            results.extend(rows)
        except Exception:
            console.print(f"[red]{name} crashed[/]")
            console.print(traceback.format_exc(), markup=False, highlight=False)
            crashed.append(name)
        console.print(f"  done in {time.perf_counter() - started:.1f} s")
    return results, crashed


def table(results: list[dict[str, Any]], crashed: list[str], scale: float) -> Table:
    out = Table(title=f"Benchmarks (scale {scale:g}): ratio = limit / portal, higher is better")
    for column, justify in (("benchmark", "left"), ("portal s", "right"), ("limit s", "right"),
                            ("ratio", "right"), ("target", "right"), ("", "center"), ("notes", "left")):
        out.add_column(column, justify=justify)  # type: ignore[arg-type]
    for r in results:
        ok = r["ratio"] >= r["target"]
        out.add_row(r["name"], f"{r['seconds']:.2f}", f"{r['limit_seconds']:.2f}", f"{r['ratio']:.2f}",
                    f"≥ {r['target']:g}", "[green]pass[/]" if ok else "[red]FAIL[/]", r["notes"])
    for name in crashed:
        out.add_row(name, "-", "-", "-", "-", "[red]CRASH[/]", "see the traceback above")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of each benchmark's full size (default 1.0)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this benchmark (module name; repeatable)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 160)
    if args.list:
        for name in discover():
            console.print(name)
        return 0
    if args.scale <= 0:
        parser.error("--scale must be positive")
    results, crashed = run_all(args.scale, args.only, console)
    console.print(table(results, crashed, args.scale))
    if crashed:
        return 2
    return 0 if all(r["ratio"] >= r["target"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
