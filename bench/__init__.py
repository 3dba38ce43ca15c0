"""The cost benchmark of issue 6: `python -m bench.run` (`make bench`).

Cold start, warm turns, memory and package size, each measured in its own
process so that one measurement does not pay for another's imports.
"""
