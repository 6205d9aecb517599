"""The provinces' own wire formats, in and out (docs/interop.md): each province a room of its
own; the hub's core sees only record envelopes."""
