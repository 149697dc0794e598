"""Batch analysis on a Dask cluster: every clip of folders, files or a CSV manifest, one task per clip.

inputs: INPUTS to ClipJobs (folders walked, manifest rows read, clip hashes); task: what a worker runs for
one clip (the analysis and its result files, as bytes); runner: the client side (submit, collect, write each
clip's folder all or nothing, skip what is done, save to the history); summary: batch-summary.csv and .json.
"""
