"""Error records and exceptions shared by the pricing package.

Failures are values: a bad trade or a failed valuation becomes a :class:`TradeError` that names
the trade, the field and the reason, and the rest of the book goes on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["InputFileError", "MarketDataError", "TradeError", "read_text"]


@dataclass(frozen=True)
class TradeError:
    """One problem with one trade.

    Parameters
    ----------
    trade_id
        The trade's id (or ``"<record N>"`` when the record had no usable id).
    field
        The field at fault, ``"market"`` for missing market data, ``"pricing"`` for a failure
        inside the pricer, ``"product"`` for an unknown product.
    reason
        What is wrong, in words a user can act on.
    """

    trade_id: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"trade {self.trade_id}: {self.field}: {self.reason}"

    def to_dict(self) -> dict[str, str]:
        """Plain-dict form, for JSON manifests."""
        return asdict(self)


class InputFileError(ValueError):
    """A whole input file cannot be read (not found, not JSON/YAML/CSV, wrong top-level shape)."""


def read_text(path: Path) -> str:
    """A user file's text as UTF-8; ``InputFileError`` naming the file when it is not."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read: {exc.strerror or exc}") from None


class MarketDataError(KeyError):
    """Market data needed by a trade is missing or unusable; the message names what and why."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""
