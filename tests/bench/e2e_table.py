"""The end-to-end benchmark's one table: each figure beside its floor and the ratio."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.bench.e2e_floors import Sample
from tests.bench.e2e_phases import Phase

PROTOCOL_COMMITS = 4  # decide, claim (SUBMITTING), the venue's answer (NEW), the fill booking
BEFORE_SEND = 2  # of those, committed before the order is sent: decide, claim
LEGEND = """\
Floors: latency = XADD + 2 commits (decide, claim: the ones before the send) + one HTTP request,
p50 beside p50, and the sum of the p99s beside p99 (a generous floor). Serial rate = one signal at
a time paying XADD + 4 commits (decide, claim, the venue's answer, the fill booking) + one HTTP
request; the engine overlaps symbols, so beating it is possible. "To the venue, steady": orders
reaching the venue per second between the 10th and 90th percentile arrivals. "Settled": all
signals of the burst over the time from the first XADD until the last fill was booked. Each phase
runs in a life of the engine of its own, in this order, on one database: what the engine re-reads
per signal grows from phase to phase."""


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


@dataclass
class Results:
    """What a run measured; a phase that failed is None (its reason is in ``failures``)."""

    floors: Floors
    memory_goal: int
    max_minutes: float
    rss_cold: float
    autovacuum: bool = True  # the server vacuums on its own (else the benchmark does)
    alone: Phase | None = None
    latency: tuple[Sample, Phase] | None = None
    fast: Phase | None = None
    slow: Phase | None = None
    limited: Phase | None = None
    two: Phase | None = None  # the 0 ms burst with a second worker process in the group
    memory: Phase | None = None
    end: dict[str, Any] | None = None
    failures: list[str] = field(default_factory=list)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def row(self, what: str, value: str, floor: str = "", ratio: str = "") -> None:
        self.rows.append((what, value, floor, ratio))

    def note(self, text: str) -> None:
        """A title or a remark, running over the columns."""
        self.rows.append((text, "", "", ""))

    def render(self) -> str:
        head = ("measure", "value", "floor (same run)", "ratio")
        measured = [r for r in self.rows if any(r[1:])]
        widths = [max(len(r[i]) for r in [head, *measured]) for i in range(4)]
        out = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
               "  ".join("-" * w for w in widths)]
        for r in self.rows:
            if not any(r[1:]):
                out.append(r[0])
                continue
            out.append("  ".join([r[0].ljust(widths[0]), r[1].rjust(widths[1]),
                                  r[2].rjust(widths[2]), r[3].rjust(widths[3])]).rstrip())
        return "\n".join(out)


def incomplete(phase: Phase) -> str:
    return "" if phase.complete else " (INCOMPLETE: timed out)"


def cpu(phase: Phase) -> str:
    return f"engine CPU {phase.engine_cpu:.0%}, venue CPU {phase.venue_cpu:.0%} of one core"


def history(phase: Phase) -> str:
    points = phase.extra.get("points_at_start", -1)
    return "" if points < 0 else f"; {points:.0f} equity points stored at the start"


def failed(t: Table) -> None:
    t.note("  not measured: the phase failed (see below)")


def latency_rows(t: Table, r: Results) -> None:
    t.note("Latency, XADD → order reaching the venue, one signal at a time")
    if r.latency is None:
        return failed(t)
    lat, phase = r.latency
    for name, q in (("p50", 0.5), ("p99", 0.99)):
        floor = r.floors.latency(q)
        t.row(f"  {name} over {phase.n}{incomplete(phase)}", ms(lat.q(q)), ms(floor),
              f"×{lat.q(q) / floor:.2f}")
    steps = {k.removeprefix("step "): v for k, v in phase.extra.items() if k.startswith("step ")}
    if steps:
        named = ("decide", "the decide transaction"), ("lease", "the send lease"), (
            "claim", "the claim (→ SUBMITTING)"), ("send", "the venue's answer (HTTP)")
        parts = [f"{label} {steps[step] * 1000:.2f}" for step, label in named if step in steps]
        before = sum(steps.get(step, 0.0) for step in ("decide", "lease", "claim"))
        t.note(f"  p50 of each step (ms): {', '.join(parts)}; before the send "
               f"{before * 1000:.2f} of the {lat.p50 * 1000:.2f} (the rest: the read, the "
               "hand-overs between tasks, the request reaching the venue)")


def throughput_rows(t: Table, label: str, phase: Phase | None, floor_rate: float) -> None:
    if phase is None:
        return failed(t)
    x = phase.extra
    t.row(f"  {label}: to the venue, steady{incomplete(phase)}", f"{x['venue_steady']:.0f}/s",
          f"{floor_rate:.0f}/s serial", f"×{x['venue_steady'] / floor_rate:.2f}")
    t.row(f"  {label}: settled (every fill booked)", f"{x['settled']:.0f}/s",
          f"{floor_rate:.0f}/s", f"×{x['settled'] / floor_rate:.2f}")
    t.note(f"  {label}: {phase.n} signals in {x['seconds']:.1f} s; {cpu(phase)}{history(phase)}")
    cpu_per_signal(t, label, phase)


def cpu_per_signal(t: Table, label: str, phase: Phase, engine: float | None = None) -> None:
    """Where the machine's CPU went, per signal: the engine (``engine``: its share of a core,
    when not the phase's in-process one alone), the venue, PostgreSQL, Redis."""
    if not phase.services_cpu or not phase.n:
        return
    per = phase.extra["metered_s"] / phase.n * 1000  # ms of CPU per signal for a core's share
    busy, idle = phase.machine_cpu
    parts = {"engine": phase.engine_cpu if engine is None else engine, "venue": phase.venue_cpu,
             "PostgreSQL": phase.services_cpu["postgres"],
             "Redis": phase.services_cpu["redis-server"]}
    rest = busy - sum(parts.values())
    t.note(f"  {label}: CPU per signal: " + ", ".join(
        f"{name} {share * per:.2f} ms" for name, share in parts.items())
        + f", other {rest * per:.2f} ms; the machine busy {busy:.2f} of {busy + idle:.2f} cores")


def two_worker_rows(t: Table, phase: Phase | None, floor_rate: float) -> None:
    t.note("Sustained signals/s, 10 symbols, limits lifted, a second worker process in the group")
    if phase is None:
        return failed(t)
    x = phase.extra
    t.row(f"  venue 0 ms, two workers: to the venue, steady{incomplete(phase)}",
          f"{x['venue_steady']:.0f}/s", f"{floor_rate:.0f}/s serial",
          f"×{x['venue_steady'] / floor_rate:.2f}")
    t.row("  venue 0 ms, two workers: settled (every fill booked)", f"{x['settled']:.0f}/s",
          f"{floor_rate:.0f}/s", f"×{x['settled'] / floor_rate:.2f}")
    t.note(f"  {phase.n} signals in {x['seconds']:.1f} s; engines' CPU {phase.engine_cpu:.0%} "
           f"(in-process) + {x['worker_cpu']:.0%} (second worker), venue CPU "
           f"{phase.venue_cpu:.0%} of one core")
    cpu_per_signal(t, "two workers", phase, phase.engine_cpu + x["worker_cpu"])


def limited_rows(t: Table, phase: Phase | None) -> None:
    t.note("Burst with GMO's limits on both sides (20 POST/s, 20 GET/s)")
    if phase is None:
        return failed(t)
    x = phase.extra
    t.row(f"  POST /v1/order rate, steady{incomplete(phase)}", f"{x['venue_steady']:.2f}/s",
          "20/s limit", f"{x['venue_steady'] / 20:.1%} (target ≥ 95%)")
    t.row("  ERR-5003 seen by our clients / counted by the venue",
          f"{x['rate_limited']:.0f} / {x['refused']:.0f}", "0", "target 0")
    t.row("  settled (every fill booked)", f"{x['settled']:.2f}/s", "20/s limit",
          f"{x['settled'] / 20:.1%}")
    t.note(f"  {phase.n} signals in {x['seconds']:.1f} s; {cpu(phase)}{history(phase)}")


def store_row(t: Table, label: str, phase: Phase | None) -> None:
    if phase is None:
        return
    tx, writing, statements, leases = phase.store
    t.row(f"  {label}{incomplete(phase)}",
          f"{tx:.2f} tx, {writing:.2f} writing, {statements:.1f} hops, {leases:.2f} leases",
          f"{PROTOCOL_COMMITS} commits", f"×{writing / PROTOCOL_COMMITS:.2f}")


def memory_rows(t: Table, r: Results, published: int) -> None:
    t.note("Resident memory (VmRSS of the engine's process)")
    t.row("  at process start (before anything ran)", f"{r.rss_cold:.1f} MiB")
    mem = r.memory
    if mem is None:
        return failed(t)
    x = mem.extra
    done = int(x["done"])
    t.row(f"  before the memory phase (after {published - done} signals)",
          f"{x['rss_start']:.1f} MiB")
    t.row(f"  after {done} more signals ({x['seconds']:.0f} s){incomplete(mem)}",
          f"{x['rss_end']:.1f} MiB", "", f"growth {(x['rss_end'] / x['rss_start'] - 1):+.1%}")
    if done < r.memory_goal:
        per_k = (x["rss_end"] - x["rss_start"]) / max(done, 1) * 1000
        t.note(f"  NOT {r.memory_goal} signals: the {r.max_minutes:g} min budget ran out at "
               f"{done} (the rate falls as the store grows: see the stretches below)")
        t.note("  (a linear extrapolation: the stretches below show whether growth slows)")
        t.row(f"  extrapolated linearly to {r.memory_goal} ({per_k:+.3f} MiB per 1,000)",
              f"{x['rss_start'] + per_k * r.memory_goal / 1000:.1f} MiB", "",
              f"growth {per_k * r.memory_goal / 1000 / x['rss_start']:+.1%}")
    parts_before, parts_after = x.get("parts_start"), x.get("parts_end")
    if parts_before and parts_after:
        t.note("  VmRSS parts before → after (MiB): " + ", ".join(
            f"{k} {parts_before[k]:.1f} → {parts_after[k]:.1f}" for k in parts_before
            if k != "VmRSS" and k in parts_after))
    before, after = x.get("malloc_start"), x.get("malloc_end")
    if before and after:
        t.note("  glibc's heap before → after (MiB): " + ", ".join(
            f"{k.replace('_', ' ')} {before[k]:.1f} → {after[k]:.1f}" for k in before))
    before, after = x.get("python_start"), x.get("python_end")
    if before and after:
        t.note("  Python's allocator before → after: " + ", ".join(
            f"{k.replace('_', ' ')} {before[k]:.1f} → {after[k]:.1f}" for k in before
            if k in after) + " (MiB; arenas of 1 MiB; blocks in thousands)")
    previous = (0, 0.0)
    for count, seconds, rss in mem.samples:
        rate = (count - previous[0]) / max(seconds - previous[1], 1e-9)
        t.row(f"    {count} booked after {seconds:.0f} s ({rate:.1f}/s in this stretch)",
              f"{rss:.1f} MiB")
        previous = (count, seconds)
    t.note(f"  {history(mem)[2:]}")


def report(r: Results, published: int, decided: dict[str, int]) -> str:
    f, t = r.floors, Table()
    latency_rows(t, r)
    t.note("Sustained signals/s, 10 symbols, every rate limit lifted")
    throughput_rows(t, "venue 0 ms", r.fast, f.serial_rate(f.http))
    throughput_rows(t, "venue 50 ms", r.slow, f.serial_rate(f.http50))
    two_worker_rows(t, r.two, f.serial_rate(f.http))
    limited_rows(t, r.limited)
    t.note("Floors (plain synchronous clients, p50 / p99)")
    for floor in (f.xadd, f.ping, f.commit, f.http, f.http50):
        t.row(f"  {floor.name}", f"{ms(floor.p50)} / {ms(floor.p99)}")
    t.note("Store work per signal: transactions, writing ones, thread hops (one or more statements each), "
           "send leases")
    if r.alone is not None:
        store_row(t, f"alone until booked ({r.alone.n} signals)", r.alone)
    store_row(t, "one at a time (latency phase)", r.latency[1] if r.latency else None)
    store_row(t, "burst, venue 0 ms", r.fast)
    store_row(t, "burst, venue 50 ms", r.slow)
    memory_rows(t, r, published)
    if r.end is not None:
        t.note(f"At the end: {published} signals published; stored {r.end['signals']} signals, "
               f"{r.end['orders']} orders ({r.end['filled']} filled), {r.end['equity_points']} "
               f"equity points; decided {decided}")
    if not r.autovacuum:
        t.note("PostgreSQL's autovacuum is off on this server: the benchmark runs VACUUM (ANALYZE) "
               "on its schema before each phase and every minute of the memory phase, as "
               "autovacuum would")
    text = t.render() + "\n" + LEGEND
    if r.failures:
        text += "\nFAILED PHASES:\n" + "\n".join(f"  {line}" for line in r.failures)
    return text
