"""Prometheus metrics (``PrometheusMetrics``) and the worker's HTTP endpoint (``serve_metrics``):
``/metrics`` in Prometheus text, ``/healthz`` (the process runs), ``/readyz`` (ready for work)."""

from adapters.prometheus.metrics import PrometheusMetrics
from adapters.prometheus.server import serve_metrics

__all__ = ["PrometheusMetrics", "serve_metrics"]
