"""Clips and cameras in, video out: open a clip, check it is a video, stream its frames upright with container
times; live camera sources behind the same interface; write frames to an MP4 (writer).
"""
