"""Trial -> SwayMetrics: body model, signal cleaning, the force-plate trace formulas, and the per-trial measurement
relative to the stance foot. Pure functions of arrays.
"""
