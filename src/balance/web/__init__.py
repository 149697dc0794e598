"""The web app (`balance serve`): upload clips, follow the analysis, see results and each person's programme.

A thin layer over the library: routes call `services` (analysis, results, history), analyses run in worker
processes (`jobs`), and `security` holds the access token, CSRF and the download guard.
"""
