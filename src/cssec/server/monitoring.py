"""Where the C/S Sec. server mounts `/healthz`, `/readyz` and `/metrics` (`cssec.web.health`,
`cssec.web.metrics` say what they answer and who may read the metrics).

Ready means: the database answers a query and the key files match it
(`cssec.server.storage.keycheck`). Besides requests and latencies by route template
(`cssec_server_http_*`), the metrics carry each license slot, read from the database when
scraped:

- `cssec_server_license_days_to_expiry{product}`: days from the server's today to the
  expiry shown (negative once past it);
- `cssec_server_license_state{product, state}`: 1 for the slot's state (activated,
  grace_period, expired, revoked), 0 for the others, so an alert can fire on
  `cssec_server_license_state{state!="activated"} == 1`.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cssec.core.license import LicenseState
from cssec.server.context import ServerContext
from cssec.server.licensing.view import read_licenses
from cssec.server.storage.keycheck import check_server_keys
from cssec.web.health import ReadinessCheck, health_router
from cssec.web.metrics import HttpMetricsMiddleware, Metrics, metrics_router

NAMESPACE = "cssec_server"
TOKEN_SETTING = "CSSEC_SERVER_METRICS_TOKEN"  # noqa: S105  (the variable's name, not a token)


class SlotCollector(Collector):
    """The license slots, read when /metrics is scraped."""

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    def describe(self) -> list[Metric]:
        return list(self._families())

    def collect(self) -> Iterator[Metric]:
        days, state = self._families()
        with self.ctx.sessionmaker() as session:
            licenses = read_licenses(session, now=self.ctx.clock.now(), tz=self.ctx.tz)
            session.commit()  # read_licenses records the latest time seen (clock guard)
        for slot in licenses.slots:
            product = slot.product.value
            days.add_metric([product], slot.days_to_expiry)
            for candidate in LicenseState:
                state.add_metric([product, candidate.value], int(slot.state is candidate))
        yield days
        yield state

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        days = GaugeMetricFamily(
            f"{NAMESPACE}_license_days_to_expiry",
            "Days from today to the expiry shown for the product's license slot.",
            labels=["product"],
        )
        state = GaugeMetricFamily(
            f"{NAMESPACE}_license_state",
            "1 for the license slot's current state, 0 for the others.",
            labels=["product", "state"],
        )
        return days, state


def readiness_checks(ctx: ServerContext) -> list[ReadinessCheck]:
    def database() -> None:
        with ctx.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def keys() -> None:
        check_server_keys(ctx.data, ctx.engine)

    return [ReadinessCheck("database", database), ReadinessCheck("keys", keys)]


def install_monitoring(app: FastAPI, ctx: ServerContext) -> Metrics:
    """Mount the three endpoints and count every request; call it after the app's other
    middleware, so the count wraps them all."""
    metrics = Metrics(NAMESPACE)
    metrics.add_scrape_collector(SlotCollector(ctx))
    app.state.metrics = metrics
    # Not in the OpenAPI document, which describes the license API (its paths are tested).
    app.include_router(health_router(readiness_checks(ctx), include_in_schema=False))

    def token() -> str | None:
        secret = ctx.settings.metrics_token
        return secret.get_secret_value() if secret is not None else None

    app.include_router(metrics_router(metrics, token=token, setting=TOKEN_SETTING))
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    return metrics


__all__ = ["SlotCollector", "install_monitoring", "readiness_checks"]
