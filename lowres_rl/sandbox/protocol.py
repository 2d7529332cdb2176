"""The wire format between the pool (parent) and a sandbox worker: length-prefixed JSON.

JSON, not pickle: a worker runs hostile code that can write to its own pipes, and unpickling what
it writes would hand that code the trainer. A frame is a 4-byte big-endian length and UTF-8 JSON.
The pool reads replies with a frame cap checked from the header (so a huge frame is refused before
it is buffered), and every way decoding can fail (bad UTF-8, nesting deep enough for a
RecursionError, not an object, ...) is one exception type, ProtocolError: the pool turns it into a
`crashed` program and retires the worker.
"""
from __future__ import annotations

import json
import os
import struct
from typing import Any, BinaryIO

HEADER = struct.Struct(">I")
MAX_REQUEST = 64 << 20  # worker side: a request larger than this is not the pool's


class ProtocolError(RuntimeError):
    """A frame could not be decoded: the worker is treated as crashed."""


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return HEADER.pack(len(body)) + body


def decode(body: bytes) -> dict[str, Any]:
    """The JSON object in `body`; ProtocolError for anything else, whatever went wrong."""
    try:
        message = json.loads(body.decode("utf-8", "surrogatepass"))  # as encode() wrote it
    except Exception as exc:  # noqa: BLE001 - ValueError, UnicodeError, RecursionError, MemoryError...
        raise ProtocolError(f"undecodable frame: {type(exc).__name__}") from None
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    return message


class FrameBuffer:
    """Accumulates bytes read from a non-blocking pipe and yields complete messages; a frame
    whose header announces more than `max_frame` bytes is refused at once."""

    def __init__(self, max_frame: int = MAX_REQUEST) -> None:
        self._data = bytearray()
        self.max_frame = max_frame

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        self._data += chunk
        messages = []
        while len(self._data) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._data)
            if size > self.max_frame:
                raise ProtocolError(f"frame of {size} bytes exceeds {self.max_frame}")
            if len(self._data) < HEADER.size + size:
                break
            body = bytes(self._data[HEADER.size:HEADER.size + size])
            del self._data[:HEADER.size + size]
            messages.append(decode(body))
        return messages


class Outbox:
    """Bytes for a non-blocking pipe: written as far as the pipe takes them, the rest kept for
    when it has room, so that a reader that stops reading never blocks the writer."""

    def __init__(self) -> None:
        self._data = bytearray()

    def __len__(self) -> int:
        return len(self._data)

    def send(self, fd: int, data: bytes = b"") -> bool:
        """Add `data` and write what fits now; False (and nothing kept) if the pipe is broken."""
        self._data += data
        try:
            while self._data:
                del self._data[:os.write(fd, self._data)]
        except BlockingIOError:
            pass
        except OSError:
            self._data.clear()
            return False
        return True


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    stream.write(encode(message))
    stream.flush()


def read_message(stream: BinaryIO) -> dict[str, Any] | None:
    """Blocking read of one frame (the worker's side); None at end of stream."""
    header = _read_exactly(stream, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_REQUEST:
        raise ProtocolError(f"frame of {size} bytes exceeds {MAX_REQUEST}")
    body = _read_exactly(stream, size)
    return None if body is None else decode(body)


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    """`size` bytes, or None at end of stream: an unbuffered pipe read returns what is there, at
    most a pipe's worth, so a large request takes several."""
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)
