"""The printed table of `ledger_cost`: request units per step, the totals as ratios to the
baseline, and their on-demand price per million payments."""

from __future__ import annotations

from dataclasses import dataclass

from bench.request_meter import Charge

# On-demand list prices, us-east-1, Standard table class, since the 1 November 2024 reduction:
# https://aws.amazon.com/dynamodb/pricing/on-demand/ (USD per million request units).
PRICE_PER_MILLION_WRU = 0.625
PRICE_PER_MILLION_RRU = 0.125

STEPS = (
    "create payment",
    "notification",
    "merchant read",
    "refund create",
    "refund settle",
    "publisher",
    "notifier delivery",
)
IDEMPOTENCY_ROW = "idempotency records"
SANDBOX_ROW = "sandbox (test mode only)"
BASELINE_ROW = "baseline"
LIFECYCLE_ROWS = (*STEPS, IDEMPOTENCY_ROW)
_WIDTHS = (8, 9, 7, 5, 6, 10)


@dataclass(frozen=True)
class Row:
    name: str
    requests: int
    table_wru: int
    index_wru: int
    rru: float

    @property
    def wru(self) -> int:
        return self.table_wru + self.index_wru

    @classmethod
    def of(cls, name: str, charges: list[Charge]) -> Row:
        return cls(
            name=name,
            requests=len({c.request for c in charges}),
            table_wru=sum(c.table_wru for c in charges),
            index_wru=sum(c.index_wru for c in charges),
            rru=sum(c.rru for c in charges),
        )


def print_report(charges: list[Charge], paid: int, webhooks: int, show_requests: bool) -> None:
    """The units per step, the two totals (before the refund, and the whole lifecycle) as ratios to
    the baseline, and their price per million payments."""
    rows = [Row.of(name, [c for c in charges if c.row == name]) for name in LIFECYCLE_ROWS]
    totals = [
        Row.of("total: paid, no refund", [c for c in charges[:paid] if c.row in LIFECYCLE_ROWS]),
        Row.of("total: + partial refund", [c for c in charges if c.row in LIFECYCLE_ROWS]),
    ]
    baseline = Row.of(BASELINE_ROW, [c for c in charges if c.row == BASELINE_ROW])
    sandbox = Row.of(SANDBOX_ROW, [c for c in charges if c.row == SANDBOX_ROW])
    columns = ("requests", "table WRU", "GSI WRU", "WRU", "RRU", "WRU ratio")
    header = _cells("step", columns)
    rule = "-" * len(header)
    print(
        header,
        rule,
        *(_line(r, baseline) for r in rows),
        rule,
        *(_line(t, baseline) for t in totals),
        sep="\n",
    )
    print(_line(baseline, baseline), " a single PutItem of the created payment item")
    print(_line(sandbox, baseline), " not counted: the built-in sandbox's own state")
    print(f"\n{webhooks} events published, each delivered to 1 endpoint.")
    print(
        f"Per million payments, us-east-1 on-demand (${PRICE_PER_MILLION_WRU} per million WRU, "
        f"${PRICE_PER_MILLION_RRU} per million RRU):"
    )
    for total in totals:
        writes, reads = total.wru * PRICE_PER_MILLION_WRU, total.rru * PRICE_PER_MILLION_RRU
        print(f"  {total.name:<26} writes ${writes:.2f} + reads ${reads:.2f} = ${writes + reads:.2f}")
    if show_requests:
        print()
        for c in charges:
            print(
                f"{c.row:<26} #{c.request:<3} {c.operation:<28} {c.target[:58]:<58} "
                f"wru={c.table_wru}+{c.index_wru} rru={c.rru:g}"
            )


def _line(row: Row, baseline: Row) -> str:
    ratio = f"{row.wru / baseline.wru:.2f}" if baseline.wru else "-"
    cells = (row.requests, row.table_wru, row.index_wru, row.wru, f"{row.rru:g}", ratio)
    return _cells(row.name, cells)


def _cells(name: str, cells: tuple[object, ...]) -> str:
    return f"{name:<26} " + " ".join(f"{cell!s:>{width}}" for cell, width in zip(cells, _WIDTHS, strict=True))
