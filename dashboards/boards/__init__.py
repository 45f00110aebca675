"""One module per dxpulse dashboard; each exposes ``UID`` and ``dashboard()``.

Example::

    from dxpulse.dashboards.boards import national

    board = national.dashboard()
    board.uid  # 'dxpulse-national'
"""
