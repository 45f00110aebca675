"""dxpulse.streams: Faust agents that validate, de-duplicate, join and aggregate events.

Installed as ``dxpulse.streams`` (the repository folder is ``streams/``).
"""
