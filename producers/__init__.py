"""dxpulse.producers: the SDK agencies use to publish events, the publish CLI and the simulator.

Installed as ``dxpulse.producers`` (the repository folder is ``producers/``).
"""
