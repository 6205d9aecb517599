"""Shanxi's public-service platform (PSPDE, by SXCA): receiveInfo in and out (docs/interop.md)."""
