"""Per person, leg and week: the history store, programme weeks, trends against the MDC, asymmetry and progress
charts.
"""
