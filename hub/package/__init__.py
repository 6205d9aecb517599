"""Signed packages: the archive format, CMS signatures, trust, Merkle proofs, receipts."""
