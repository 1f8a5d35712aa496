"""Shared helpers for the benchmarks: machine facts, percentiles, Markdown output,
and updating one generated block of docs/performance.md.

A generated block sits between two HTML comments so a benchmark can rewrite its
own figures without touching the text around them:

    <!-- BEGIN knowledge_scale -->
    ...generated...
    <!-- END knowledge_scale -->
"""
from __future__ import annotations

import math
import os
import platform
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent
PERFORMANCE_MD = ROOT / "docs" / "performance.md"
DOC_HEADER = """# Performance

Measured figures for the assistant's parts. Each section is written by one benchmark under
`bench/`; the figures between `<!-- BEGIN name -->` and `<!-- END name -->` are generated
(rerun the command given in the section to refresh them), the text around them is not.
"""


# -- machine and revision ---------------------------------------------------------
def cpu_count() -> int:
    """Cores this process may run on (the affinity mask, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def commit(short: bool = True) -> str:
    """The checked-out commit, with "+dirty" when tracked files differ from it."""
    try:
        args = ["git", "rev-parse", "--short", "HEAD"] if short else ["git", "rev-parse", "HEAD"]
        rev = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (rev or "unknown") + ("+dirty" if dirty else "")


def timestamp() -> str:
    """Local date and time with its UTC offset, minutes precision."""
    return datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M %z")


def machine_line() -> str:
    return (f"Machine: {cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}; "
            f"commit {commit()}; run {timestamp()}.")


# -- memory -------------------------------------------------------------------------
def rss_bytes() -> dict[str, int]:
    """Resident memory of this process: {"rss": current, "peak": high-water mark} in bytes.

    psutil when installed; else /proc/self/status (VmRSS / VmHWM); else resource (peak only).
    """
    try:
        import psutil  # type: ignore

        info = psutil.Process().memory_info()
        peak = getattr(info, "peak_wset", None) or _proc_status().get("VmHWM") or info.rss
        return {"rss": int(info.rss), "peak": int(peak)}
    except ImportError:
        pass
    st = _proc_status()
    if "VmRSS" in st:
        return {"rss": st["VmRSS"], "peak": st.get("VmHWM", st["VmRSS"])}
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {"rss": peak, "peak": peak}


def _proc_status() -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0]) * 1024  # reported in kB
    except (OSError, ValueError, IndexError):
        pass
    return out


# -- numbers ------------------------------------------------------------------------
def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of unsorted values; nan for none."""
    if not values:
        return math.nan
    s = sorted(values)
    k = max(1, math.ceil(p / 100 * len(s)))
    return s[min(k, len(s)) - 1]


def fmt_ms(seconds: float) -> str:
    """Seconds as milliseconds with sensible precision."""
    if seconds != seconds:  # nan
        return "–"
    ms = seconds * 1000
    if ms < 1:
        return f"{ms:.3f}"
    if ms < 100:
        return f"{ms:.2f}"
    return f"{ms:,.0f}"


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f}" if seconds < 100 else f"{seconds:,.0f}"


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def fmt_int(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


# -- Markdown -----------------------------------------------------------------------
def md_table(headers: Sequence[str], rows: Iterable[Sequence[object]], align: str | None = None) -> str:
    """A GitHub Markdown table. `align`: one letter per column, l or r (default: first l, rest r)."""
    headers = [str(h) for h in headers]
    align = align or ("l" + "r" * (len(headers) - 1))
    cell = lambda v: str(v).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |",
             "|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|"]
    for row in rows:
        row = list(row)
        if len(row) != len(headers):
            raise ValueError(f"row has {len(row)} cells, table has {len(headers)} columns")
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines)


def markers(name: str) -> tuple[str, str]:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"bad block name {name!r}")
    return f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"


def update_block(path: Path, name: str, body: str, heading: str, intro: str = "") -> None:
    """Put `body` between the markers of block `name` in the Markdown file at `path`.

    Creates the file (with DOC_HEADER) and, when the markers are missing, appends a
    `## heading` section holding `intro` and the block. Text outside the markers is kept.
    """
    begin, end = markers(name)
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else DOC_HEADER
    block = f"{begin}\n{body.strip()}\n{end}"
    if begin in text and end in text and text.index(begin) < text.index(end):
        a, b = text.index(begin), text.index(end) + len(end)
        text = text[:a] + block + text[b:]
    else:
        section = f"## {heading}\n\n" + (intro.strip() + "\n\n" if intro.strip() else "") + block + "\n"
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def read_block(path: Path, name: str) -> str | None:
    """The body of a generated block, or None when the file or the markers are missing."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return None
    return read_block_text(text, name)


def read_block_text(text: str, name: str) -> str | None:
    """The body of a generated block within Markdown text, or None."""
    begin, end = markers(name)
    if begin not in text or end not in text:
        return None
    return text[text.index(begin) + len(begin): text.index(end)].strip()
