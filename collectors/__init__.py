"""Collectors: one small class per source family, each yielding pages of RawItems."""
