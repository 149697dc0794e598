"""Clips and cameras in: open a clip, check it is a video, stream its frames upright with container times; live
camera sources behind the same interface.
"""
