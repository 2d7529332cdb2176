"""The wire format between the pool (parent) and a sandbox worker: length-prefixed JSON.

JSON, not pickle: a worker runs hostile code that can write to its own pipes, and unpickling what
it writes would hand that code the trainer. A frame is a 4-byte big-endian length and UTF-8 JSON.
"""
from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO

HEADER = struct.Struct(">I")
MAX_FRAME = 64 << 20  # a reply larger than this is a broken (or hostile) worker


class ProtocolError(RuntimeError):
    """A frame could not be decoded: the worker is treated as crashed."""


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return HEADER.pack(len(body)) + body


def decode(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body.decode("utf-8", "replace"))
    except ValueError as exc:
        raise ProtocolError(f"undecodable frame: {exc}") from exc
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    return message


class FrameBuffer:
    """Accumulates bytes read from a non-blocking pipe and yields complete messages."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        self._data += chunk
        messages = []
        while len(self._data) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._data)
            if size > MAX_FRAME:
                raise ProtocolError(f"frame of {size} bytes exceeds {MAX_FRAME}")
            if len(self._data) < HEADER.size + size:
                break
            body = bytes(self._data[HEADER.size:HEADER.size + size])
            del self._data[:HEADER.size + size]
            messages.append(decode(body))
        return messages


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    stream.write(encode(message))
    stream.flush()


def read_message(stream: BinaryIO) -> dict[str, Any] | None:
    """Blocking read of one frame; None at end of stream."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ProtocolError(f"frame of {size} bytes exceeds {MAX_FRAME}")
    body = stream.read(size)
    if len(body) < size:
        return None
    return decode(body)
