"""PrometheusMetrics: the ``ports.metrics.Metrics`` port over prometheus-client (DESIGN §9).

Each instance has its own ``CollectorRegistry`` (two workers or two tests in one process never mix
their counts). Beyond the port, the composition root sets the gauges only it can measure (consumer
lag, pending entries) and reports rate-limit waits; ``/readyz`` reads :attr:`is_ready`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# From a loopback simulator (milliseconds) to a slow exchange under load (seconds).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# A store step on loopback takes about a millisecond; a lock or lease waited for, much longer.
STEP_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0)


class PrometheusMetrics:
    """Counters, gauges and a histogram named ``hexexec_*``, exposed by :func:`serve_metrics`."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, namespace: str = "hexexec") -> None:
        self._is_ready = False
        self.registry = r = CollectorRegistry()
        ns = namespace
        self._received = Counter("signals_received", "Signals read from the streams", ["stream"],
                                 namespace=ns, registry=r)
        self._decided = Counter("signals_decided", "Signals decided, by outcome", ["outcome"],
                                namespace=ns, registry=r)
        self._rejected = Counter("signals_rejected", "Refusals by risk rule (one signal may count "
                                 "under several rules)", ["rule"], namespace=ns, registry=r)
        self._dead = Counter("dead_letters", "Entries copied to a dead-letter stream", ["stream"],
                             namespace=ns, registry=r)
        self._orders = Counter("orders", "Orders that moved to a status", ["status"],
                               namespace=ns, registry=r)
        self._latency = Histogram("submit_latency_seconds", "From sending an order to the "
                                  "venue's answer", namespace=ns, registry=r, buckets=LATENCY_BUCKETS)
        self._steps = Histogram("step_duration_seconds", "Steps on a signal's way to the venue: "
                                "decide, lease, claim, record", ["step"], namespace=ns,
                                registry=r, buckets=STEP_BUCKETS)
        self._lag = Gauge("consumer_lag", "Stream entries not yet delivered to the consumer group",
                          ["stream"], namespace=ns, registry=r)
        self._pending = Gauge("pending_entries", "Entries delivered but not acknowledged",
                              ["stream"], namespace=ns, registry=r)
        self._waits = Counter("rate_limit_waits", "Calls that waited for the rate limiter", ["kind"],
                              namespace=ns, registry=r)
        self._waited = Counter("rate_limit_wait_seconds", "Time spent waiting for the rate limiter",
                               ["kind"], namespace=ns, registry=r)
        self._drift = Gauge("position_drift", "Our position minus the venue's, in base units",
                            ["symbol"], namespace=ns, registry=r)
        self._unavailable = Gauge("venue_unavailable", "1 while the venue asks us to wait",
                                  namespace=ns, registry=r)
        self._ready = Gauge("ready", "1 once recovery is done and intake reads", namespace=ns,
                            registry=r)

    # The port (ports.metrics.Metrics).

    def signal_received(self, stream: str) -> None:
        self._received.labels(stream=stream).inc()

    def signal_decided(self, outcome: str, rules: tuple[str, ...] = ()) -> None:
        self._decided.labels(outcome=outcome).inc()
        for rule in rules:
            self._rejected.labels(rule=rule).inc()

    def dead_lettered(self, stream: str) -> None:
        self._dead.labels(stream=stream).inc()

    def order_status(self, status: str) -> None:
        self._orders.labels(status=status).inc()

    def submit_latency(self, seconds: float) -> None:
        self._latency.observe(seconds)

    def step_duration(self, step: str, seconds: float) -> None:
        self._steps.labels(step=step).observe(seconds)

    def venue_unavailable(self, unavailable: bool) -> None:
        self._unavailable.set(1 if unavailable else 0)

    def position_drift(self, symbol: str, drift: float) -> None:
        self._drift.labels(symbol=symbol).set(drift)

    def ready(self, ready: bool) -> None:
        self._is_ready = ready
        self._ready.set(1 if ready else 0)

    # Set by the composition root.

    def consumer_lag(self, stream: str, entries: int) -> None:
        self._lag.labels(stream=stream).set(entries)

    def pending_entries(self, stream: str, entries: int) -> None:
        self._pending.labels(stream=stream).set(entries)

    def rate_limit_waited(self, kind: str, seconds: float) -> None:
        """A call of ``kind`` (``get``/``post``) waited ``seconds`` for the rate limiter."""
        self._waits.labels(kind=kind).inc()
        self._waited.labels(kind=kind).inc(max(seconds, 0.0))

    @property
    def is_ready(self) -> bool:
        return self._is_ready

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
