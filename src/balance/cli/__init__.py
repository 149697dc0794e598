"""The `balance` command: thin argument parsing and formatting over the library; errors become one line and an exit
code.
"""
