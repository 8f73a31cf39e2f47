"""A standard PineXQ ``main.py``: procon imports, a Step container and the CLI guard."""

from enum import Enum

from pydantic import BaseModel

from pinexq.procon.core.exceptions import ProConException
from pinexq.procon.dataslots import DataSlot, MediaTypes, dataslot
from pinexq.procon.step import Step, version


class Color(Enum):
    RED = "red"
    BLUE = "blue"


class Point(BaseModel):
    x: float
    y: float


class BaseSteps(Step):
    """Shared steps, inherited by the entry point container."""

    @version("2.0.0")
    def shout(self, text: str) -> str:
        """Upper-case a text.

        :param text: what to shout
        :returns: the text in capitals
        """
        return text.upper()


class MySteps(BaseSteps):
    def paint(self, point: Point, color: Color = Color.RED, scale: float = 1.0) -> dict[str, object]:
        """Paint a point.

        A longer explanation of painting.

        :param point: where to paint
        :param color: which color
        :param scale: how large
        :returns: what was painted
        """
        return {"point": point, "color": color, "scale": scale, "types": [type(point).__name__, type(color).__name__]}

    @classmethod
    def kind(cls) -> str:
        """A class method is a step too."""
        return cls.__name__

    @staticmethod
    def helper(value: int) -> int:
        """Static methods are not steps."""
        return value

    def refuse(self, reason: str = "no") -> int:
        """Fail with a message meant for users."""
        raise ProConException("internal detail", user_message=f"refused: {reason}")

    @dataslot.input("table", media_type=MediaTypes.CSV, description="rows to count")
    @dataslot.returns(media_type=MediaTypes.JSON)
    def count(self, table: DataSlot, limit: int = 10) -> int:
        """Count rows of a table.

        :param limit: at most this many
        :returns: the count
        """
        return limit

    def _private(self) -> None:
        """Not a step: private."""


if __name__ == "__main__":
    MySteps()
