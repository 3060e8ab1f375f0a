"""Development tools shared by `make demo`, `tests/` and `bench/`; not part of the wheel."""
