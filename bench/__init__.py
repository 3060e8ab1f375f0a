"""`make bench`: what users feel, each figure next to a baseline measured in the same run.

Run it with `python -m bench` (full, about five minutes) or `python -m bench --smoke`
(the seconds-long version `make test` runs so the harness cannot rot).
"""
