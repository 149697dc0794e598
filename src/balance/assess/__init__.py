"""SwayMetrics -> Assessment: where the wobble comes from, the tripod, plain-words flags and the stability score.
Pure functions of arrays.
"""
