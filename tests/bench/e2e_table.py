"""The end-to-end benchmark's one table: each figure beside its floor and the ratio."""

from __future__ import annotations

from dataclasses import dataclass

from tests.bench.e2e_floors import Sample
from tests.bench.e2e_phases import Phase

PROTOCOL_COMMITS = 4  # decide, claim (SUBMITTING), the venue's answer (NEW), the fill booking
BEFORE_SEND = 2  # of those, committed before the order is sent: decide, claim


@dataclass(frozen=True)
class Floors:
    xadd: Sample
    ping: Sample
    commit: Sample
    http: Sample
    http50: Sample

    def latency(self, q: float) -> float:
        """XADD, the commits before the send, one HTTP request: in series, nothing else."""
        return self.xadd.q(q) + BEFORE_SEND * self.commit.q(q) + self.http.q(q)

    def serial_rate(self, http: Sample) -> float:
        """Signals/s one at a time, each paying its floors in series (p50s)."""
        return 1 / (self.xadd.p50 + PROTOCOL_COMMITS * self.commit.p50 + http.p50)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def row(self, what: str, value: str, floor: str = "", ratio: str = "") -> None:
        self.rows.append((what, value, floor, ratio))

    def section(self, title: str) -> None:
        self.rows.append((title, "", "", ""))

    def render(self) -> str:
        head = ("measure", "value", "floor (same run)", "ratio")
        measured = [r for r in self.rows if any(r[1:])]  # titles and notes run over
        widths = [max(len(r[i]) for r in [head, *measured]) for i in range(4)]
        line = "  ".join("-" * w for w in widths)
        out = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)), line]
        for r in self.rows:
            if not any(r[1:]):
                out.append(r[0])
                continue
            out.append("  ".join([r[0].ljust(widths[0]), r[1].rjust(widths[1]),
                                  r[2].rjust(widths[2]), r[3].rjust(widths[3])]))
        return "\n".join(out)


def incomplete(phase: Phase) -> str:
    return "" if phase.complete else " (INCOMPLETE: timed out)"


def cpu(phase: Phase) -> str:
    return f"engine CPU {phase.engine_cpu:.0%}, venue CPU {phase.venue_cpu:.0%}"


def throughput_rows(t: Table, label: str, phase: Phase, floor_rate: float, floor_label: str) -> None:
    x = phase.extra
    t.row(f"  {label}: to the venue, steady{incomplete(phase)}", f"{x['venue_steady']:.0f}/s",
          f"{floor_rate:.0f}/s {floor_label}", f"×{x['venue_steady'] / floor_rate:.2f}")
    t.row(f"  {label}: settled (every fill booked)", f"{x['settled']:.0f}/s",
          f"{floor_rate:.0f}/s", f"×{x['settled'] / floor_rate:.2f}")
    t.row(f"  {label}: {phase.n} signals in {x['seconds']:.1f} s; {cpu(phase)}", "", "", "")


def store_row(t: Table, label: str, phase: Phase) -> None:
    tx, writing, statements, leases = phase.store
    t.row(f"  {label}",
          f"{tx:.2f} tx, {writing:.2f} writing, {statements:.1f} stmts, {leases:.2f} leases",
          f"{PROTOCOL_COMMITS} commits", f"×{writing / PROTOCOL_COMMITS:.2f}")
