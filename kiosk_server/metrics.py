"""Prometheus metrics (prometheus_client), one registry per app."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.tickets_issued = Counter(
            "hallq_tickets_issued", "Tickets issued", ["hall", "channel"], registry=r
        )
        self.calls = Counter("hallq_calls", "Tickets called at a counter", ["hall"], registry=r)
        self.finished = Counter(
            "hallq_transactions_finished", "Transactions finished", ["hall", "outcome"], registry=r
        )
        self.wait_minutes = Histogram(
            "hallq_wait_minutes",
            "Wait from issue to first call",
            ["hall"],
            buckets=(1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120),
            registry=r,
        )
        self.service_minutes = Histogram(
            "hallq_service_minutes",
            "Service time from start to finish",
            ["hall"],
            buckets=(1, 2, 5, 8, 10, 15, 20, 30, 60),
            registry=r,
        )
        self.print_failures = Counter(
            "hallq_print_failures", "Ticket print jobs that failed", ["hall"], registry=r
        )
        # Group commit of issues (tickets/batch.py): how many share a transaction.
        self.issue_batch_size = Histogram(
            "hallq_issue_batch_size",
            "Ticket issues committed in one transaction",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=r,
        )
        self.ws_clients = Gauge("hallq_websocket_clients", "Open WebSocket connections", registry=r)
